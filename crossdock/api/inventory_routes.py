"""Routes of ``/v1/inventory``: stock in from warehouse systems (deltas and full counts) and what
the hub knows (availability per channel, positions, warehouses, the sync loop). Thin: the flow's
:class:`~crossdock.flows.inventory.service.InventoryIntake` does the work."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, ValidationError
from sqlalchemy import Connection, func, select

from crossdock.api.auth import Principal, require
from crossdock.api.bodies import json_body
from crossdock.api.problems import Problem
from crossdock.api.query import StrictQueryRoute
from crossdock.engine import Engine, format_time
from crossdock.errors import Unavailable
from crossdock.flows.inventory import snapshot as sn
from crossdock.flows.inventory.deltas import MAX_LISTED, StockEventsIn
from crossdock.flows.inventory.positions import from_units, qtext
from crossdock.flows.inventory.service import InventoryIntake, Rejected
from crossdock.flows.inventory.settings import InventorySettings
from crossdock.flows.inventory.sync import read_state
from crossdock.flows.inventory.tables import (
    inventory_atp,
    inventory_sync,
    stock_gaps,
    stock_positions,
    stock_snapshots,
    stock_warehouses,
)

router = APIRouter(prefix="/v1/inventory", tags=["inventory"], route_class=StrictQueryRoute)

_SNAPSHOT_BODY = {
    "requestBody": {
        "required": True,
        "description": (
            "The full count, one position per line: NDJSON objects "
            '(`{"location": "A-01", "sku": "SKU-1", "quantity": 12, "unit": "unit"}`) or CSV '
            "with a header naming `location`, `sku`, `quantity` and optionally `unit`."
        ),
        "content": {
            "application/x-ndjson": {
                "schema": {"type": "string"},
                "example": '{"location": "A-01", "sku": "SKU-1", "quantity": 12, "unit": "unit"}\n',
            },
            "text/csv": {
                "schema": {"type": "string"},
                "example": "location,sku,quantity,unit\nA-01,SKU-1,12,unit\n",
            },
        },
    }
}


def intake_of(request: Request) -> InventoryIntake:
    """The app's intake, made on first use from the running hub."""
    state = request.app.state
    intake: InventoryIntake | None = getattr(state, "inventory", None)
    if intake is None:
        hub = state.hub
        erp = hub.erp.operations if hub.erp is not None else None
        intake = InventoryIntake(hub.engine, InventorySettings.from_config(hub.config), erp)
        state.inventory = intake
    return intake


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.hub.engine
    return engine


def _rejected(exc: Rejected) -> Problem:
    listed = [issue.as_dict() for issue in exc.issues[:MAX_LISTED]]
    title = "Too many events" if exc.status == 413 else "Invalid stock input"
    return Problem(
        exc.status,
        title,
        exc.detail,
        kind="validation",
        errors=listed,
        error_count=len(exc.issues),
    )


def _unavailable(exc: Unavailable) -> Problem:
    return Problem(
        503,
        "Service unavailable",
        f"{exc} — retry later",
        kind="erp-unavailable",
        headers={"Retry-After": str(math.ceil(exc.retry_after_s))},
    )


_EVENTS_BODY = json_body(
    StockEventsIn,
    {
        "events": [
            {
                "kind": "receipt",
                "warehouse": "WH",
                "location": "A-01",
                "sku": "SKU-1",
                "quantity": "12",
                "unit": "unit",
                "occurred_at": "2026-01-15T08:00:00Z",
                "sequence": 1,
            }
        ]
    },
)
_UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"description": "The ERP's catalogue cannot be read now; retry later"}
}


@router.post("/events", status_code=202, openapi_extra=_EVENTS_BODY, responses=_UNAVAILABLE)
async def post_events(
    request: Request,
    _: Annotated[Principal, Depends(require("inventory:write"))],
) -> JSONResponse:
    """Apply stock movements (receipts, picks, adjustments, transfers) from a warehouse.

    Answers 202 once every new event is applied to the hub's positions (the ERP and the channels
    follow, coalesced). Duplicates (a sequence already applied or included in the last count)
    are ignored and reported; gaps in a warehouse's sequence are reported and the events applied.
    One bad event refuses the whole request (422, every problem listed): nothing is applied."""
    intake = intake_of(request)
    raw = await request.body()
    try:
        report = await intake.deltas(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc
    except Rejected as exc:
        raise _rejected(exc) from exc
    except Unavailable as exc:
        raise _unavailable(exc) from exc
    return JSONResponse(report.body(), status_code=202)


@router.put(
    "/snapshots/{warehouse}",
    openapi_extra=_SNAPSHOT_BODY,
    responses={409: {"description": "A later count of the warehouse was applied"}, **_UNAVAILABLE},
)
async def put_snapshot(
    warehouse: str,
    request: Request,
    _: Annotated[Principal, Depends(require("inventory:write"))],
    sequence: Annotated[
        int | None,
        Query(ge=0, le=2**62, description="The last warehouse event sequence the count includes."),
    ] = None,
    as_of: Annotated[
        AwareDatetime | None, Query(description="When the count was true (default: now).")
    ] = None,
) -> JSONResponse:
    """Replace a warehouse's positions with a full count, streamed (100,000+ lines are fine).

    Deltas the count includes (by ``sequence``, else by ``as_of``) are superseded; later ones are
    replayed on top. Bad lines are reported by line number: with ``inventory.snapshot_errors:
    refuse`` (the default) the whole count is refused (422, nothing applied); with
    ``apply_valid`` the valid lines are applied and the bad ones listed in the answer."""
    kind = sn.media_kind(request.headers.get("content-type"))
    if kind is None:
        raise Problem(
            415,
            "Unsupported media type",
            "send the count as application/x-ndjson or text/csv",
            kind="unsupported-media-type",
        )
    intake = intake_of(request)
    try:
        outcome = await intake.snapshot(
            warehouse,
            kind,
            request.stream(),
            sequence=sequence,
            as_of=as_of.timestamp() if as_of is not None else None,
        )
    except Rejected as exc:
        raise _rejected(exc) from exc
    except Unavailable as exc:
        raise _unavailable(exc) from exc
    except sn.SnapshotConflict as exc:
        raise Problem(409, "Conflict", str(exc), kind="conflict") from exc
    body: dict[str, Any] = outcome.report.body()
    if outcome.issues:
        body["errors"] = [issue.as_dict() for issue in outcome.issues[:MAX_LISTED]]
        body["error_count"] = len(outcome.issues)
    return JSONResponse(body, status_code=200)


@router.get("/availability")
async def get_availability(
    request: Request,
    _: Annotated[Principal, Depends(require("inventory:read"))],
    channel: Annotated[str | None, Query(max_length=100)] = None,
    sku: Annotated[str | None, Query(max_length=128)] = None,
    after: Annotated[str | None, Query(max_length=128, description="Last SKU of the page.")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> dict[str, Any]:
    """What each channel was last told is available, by SKU (ordered by SKU, then channel)."""
    c = inventory_atp.c
    query = select(c.channel, c.sku, c.available, c.low, c.published_at).order_by(c.sku, c.channel)
    if channel is not None:
        query = query.where(c.channel == channel)
    if sku is not None:
        query = query.where(c.sku == sku)
    if after is not None:
        query = query.where(c.sku > after)
    rows = await _engine(request).db.read(lambda conn: conn.execute(query.limit(limit)).all())
    return {
        "items": [
            {
                "channel": r.channel,
                "sku": r.sku,
                "available": r.available,
                "low": bool(r.low),
                "published_at": _iso(r.published_at),
            }
            for r in rows
        ],
        "next_after": rows[-1].sku if len(rows) == limit else None,
    }


@router.get("/positions")
async def get_positions(
    request: Request,
    _: Annotated[Principal, Depends(require("inventory:read"))],
    warehouse: Annotated[str | None, Query(max_length=16)] = None,
    sku: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> dict[str, Any]:
    """Stock positions as the warehouse system reports them (last count plus later deltas)."""
    c = stock_positions.c
    query = select(stock_positions).order_by(c.warehouse, c.sku, c.location).limit(limit)
    if warehouse is not None:
        query = query.where(c.warehouse == warehouse)
    if sku is not None:
        query = query.where(c.sku == sku)
    rows = await _engine(request).db.read(lambda conn: conn.execute(query).all())
    return {
        "items": [
            {
                "warehouse": r.warehouse,
                "location": r.location,
                "sku": r.sku,
                "quantity": qtext(from_units(r.quantity)),
                "unit": r.unit,
                "last_sequence": r.last_sequence,
                "as_of": _iso(r.as_of),
                "erp_pending": r.version != r.erp_version,
            }
            for r in rows
        ]
    }


@router.get("/warehouses/{warehouse}")
async def get_warehouse(
    warehouse: str,
    request: Request,
    _: Annotated[Principal, Depends(require("inventory:read"))],
) -> dict[str, Any]:
    """A warehouse's sequence: the highest applied, the gaps still open, its last count."""

    def read(conn: Connection) -> dict[str, Any] | None:
        row = conn.execute(
            select(stock_warehouses).where(stock_warehouses.c.warehouse == warehouse)
        ).first()
        if row is None:
            return None
        gaps = conn.execute(
            select(stock_gaps)
            .where(stock_gaps.c.warehouse == warehouse)
            .order_by(stock_gaps.c.first_sequence)
            .limit(MAX_LISTED)
        ).all()
        last = None
        if row.snapshot_id is not None:
            snap = conn.execute(
                select(stock_snapshots).where(stock_snapshots.c.id == row.snapshot_id)
            ).first()
            if snap is not None:
                last = {
                    "id": snap.id,
                    "sequence": snap.sequence,
                    "as_of": _iso(snap.as_of),
                    "lines": snap.lines,
                    "applied": snap.applied,
                    "rejected": snap.rejected,
                    "positions_changed": snap.changed,
                    "received_at": _iso(snap.received_at),
                }
        now = time.time()
        return {
            "warehouse": warehouse,
            "max_sequence": row.max_sequence,
            "gaps": [
                {
                    "from": g.first_sequence,
                    "to": g.last_sequence,
                    "open_for_s": round(now - g.opened_at, 3),
                }
                for g in gaps
            ],
            "last_snapshot": last,
        }

    view = await _engine(request).db.read(read)
    if view is None:
        raise Problem(404, "Not found", f"no stock received from {warehouse}", kind="not-found")
    return view


@router.get("/status")
async def get_status(
    request: Request,
    _: Annotated[Principal, Depends(require("inventory:read"))],
) -> dict[str, Any]:
    """The sync loop: changes waiting for the ERP and the channels, quantities written so far."""

    def read(conn: Connection) -> dict[str, Any]:
        state = read_state(conn)
        c = stock_positions.c
        dirty = conn.execute(
            select(func.count()).select_from(stock_positions).where(c.version != c.erp_version)
        ).scalar_one()
        row = conn.execute(
            select(
                inventory_sync.c.last_error,
                inventory_sync.c.last_flush_at,
                inventory_sync.c.last_publish_at,
            )
        ).one()
        return {
            "sync_pending": state.pending,
            "last_change_at": _iso(state.last_change_at),
            "erp_waiting_since": _iso(state.unflushed_since),
            "channels_waiting_since": _iso(state.unpublished_since),
            "positions_waiting_for_erp": int(dirty),
            "erp_writes": state.erp_writes,
            "last_erp_write_at": _iso(row.last_flush_at),
            "last_publication_at": _iso(row.last_publish_at),
            "last_error": row.last_error,
            "settled": not state.pending
            and state.unflushed_since is None
            and state.unpublished_since is None,
        }

    return await _engine(request).db.read(read)


def _iso(at: float | None) -> str | None:
    if at is None:
        return None
    return format_time(datetime.fromtimestamp(at, UTC))
