"""Forecasts over HTTP: imports from a forecasting platform, their versions, and requests for a
history export or a baseline.

- ``POST /v1/forecasts?import_id=&policy=`` (``purchasing:write``) — the lines as CSV
  (``text/csv``) or NDJSON (``application/x-ndjson``), both streamed, or a JSON document
  (``{"import_id", "policy", "lines": [...]}``). Every line is checked (see
  :mod:`crossdock.flows.procurement.forecasts`); under ``all_or_nothing`` (the configured default)
  one bad line rejects the import: ``422`` naming each line, field and rule, the version recorded
  as rejected. Otherwise ``202``: the version is recorded and the forecasting consumer checks its
  SKUs against the ERP, then applies it (``GET`` shows the outcome). The same ``import_id`` with
  the same content answers the stored version (``200``); with other content, ``409``.
- ``GET /v1/forecasts?limit=&before=`` (``purchasing:read``) — versions, newest first, with the
  one in force.
- ``GET /v1/forecasts/{version}`` (``purchasing:read``) — one version with its rejected lines.
- ``POST /v1/forecasts/exports`` and ``POST /v1/forecasts/baseline`` (``purchasing:write``) —
  export the demand history now / compute the baseline now (``202`` with the event id).
- ``GET /v1/forecasts/exports?limit=`` (``purchasing:read``) — the history exports, newest first.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Connection, select

from crossdock.api.auth import Principal, require
from crossdock.api.limits import deeper_than, too_deep
from crossdock.api.problems import Problem
from crossdock.api.query import StrictQueryRoute
from crossdock.engine import Engine, format_time, insert_events
from crossdock.flows.procurement.forecast_store import (
    ImportConflict,
    VersionRow,
    get_version,
    in_force,
    list_versions,
)
from crossdock.flows.procurement.forecast_tables import demand_exports
from crossdock.flows.procurement.forecasting import (
    BASELINE,
    EXPORT,
    Digest,
    import_forecast,
    request_event,
    warehouses_of,
)
from crossdock.flows.procurement.forecasts import csv_records, json_records, ndjson_records
from crossdock.ops.audit import append_audit

router = APIRouter(prefix="/v1/forecasts", tags=["forecasts"], route_class=StrictQueryRoute)

PolicyQuery = Literal["all_or_nothing", "apply_valid"]
IMPORT_ID = r"^[A-Za-z0-9][\w.:@-]{0,119}$"
MAX_LISTED = 1000

_BODY = {
    "requestBody": {
        "required": True,
        "description": (
            "Forecast lines: CSV with a header naming `sku`, `warehouse`, `period` (a day "
            "`2026-12-07`, an ISO week `2026-W50` or a month `2026-12`), `quantity` and optionally "
            "`confidence` (0..1); NDJSON objects with those keys; or a JSON document with "
            "`import_id`, `policy` and `lines`."
        ),
        "content": {
            "text/csv": {
                "schema": {"type": "string"},
                "example": "sku,warehouse,period,quantity,confidence\nSKU-1,WH,2026-W50,120,0.8\n",
            },
            "application/x-ndjson": {
                "schema": {"type": "string"},
                "example": '{"sku": "SKU-1", "warehouse": "WH", "period": "2026-W50", '
                '"quantity": 120}\n',
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["lines"],
                    "properties": {
                        "import_id": {"type": "string", "pattern": IMPORT_ID},
                        "policy": {"enum": ["all_or_nothing", "apply_valid"]},
                        "lines": {"type": "array", "items": {"type": "object"}},
                    },
                },
                "example": {
                    "import_id": "plan-2026-50",
                    "lines": [
                        {"sku": "SKU-1", "warehouse": "WH", "period": "2026-W50", "quantity": 120}
                    ],
                },
            },
        },
    }
}


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.hub.engine
    return engine


def _iso(at: float) -> str:
    return format_time(datetime.fromtimestamp(at, UTC))


def _view(
    version: VersionRow, current: VersionRow | None, listed: int = MAX_LISTED
) -> dict[str, Any]:
    body = version.as_dict()
    body["created_at"] = _iso(version.created_at)
    body["in_force"] = current is not None and current.id == version.id
    body["rejected"] = version.rejected[:listed]
    return body


def _invalid(pointer: str, detail: str) -> Problem:
    return Problem(
        422,
        "Unprocessable content",
        detail,
        kind="validation",
        errors=[{"pointer": pointer, "detail": detail}],
    )


async def _chunks(request: Request) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        if chunk:
            yield chunk


@router.post(
    "",
    openapi_extra=_BODY,
    status_code=202,
    responses={
        200: {"description": "The same import again, answered with its stored version"},
        409: {"description": "The import id was used before with other content"},
    },
)
async def post_forecast(
    request: Request,
    principal: Annotated[Principal, Depends(require("purchasing:write"))],
    import_id: Annotated[str | None, Query(pattern=IMPORT_ID)] = None,
    policy: PolicyQuery | None = None,
) -> JSONResponse:
    """Import a forecast (a new version), checked line by line."""
    hub = request.app.state.hub
    config = hub.config.forecasting
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/json":
        raw = await request.body()
        if deeper_than(raw, hub.config.api.limits.json_depth):
            raise too_deep(hub.config.api.limits.json_depth)
        try:
            document = json.loads(raw, parse_float=Decimal)
        except ValueError as exc:
            raise _invalid("/", "the body is not JSON") from exc
        if not isinstance(document, dict) or not isinstance(document.get("lines"), list):
            raise _invalid("/lines", "lines is required: an array of forecast lines")
        given = document.get("import_id")
        if given is not None:
            if import_id is not None and given != import_id:
                raise _invalid("/import_id", "import_id differs from the query's")
            if not isinstance(given, str) or not re.match(IMPORT_ID, given):
                raise _invalid("/import_id", f"import_id must match {IMPORT_ID}")
            import_id = given
        body_policy = document.get("policy")
        if body_policy is not None:
            if body_policy not in ("all_or_nothing", "apply_valid"):
                raise _invalid("/policy", "policy is all_or_nothing or apply_valid")
            policy = body_policy
        content = hashlib.sha256(raw).hexdigest()
        hexdigest: Callable[[], str] = lambda: content  # noqa: E731

        async def json_lines() -> AsyncIterator[tuple[int, Any]]:
            for item in json_records(document):
                yield item

        records: AsyncIterator[tuple[int, Any]] = json_lines()
    elif media in ("text/csv", "application/x-ndjson"):
        digest = Digest(_chunks(request))
        parse = csv_records if media == "text/csv" else ndjson_records
        records = parse(digest.__aiter__())
        hexdigest = digest.hexdigest
    else:
        raise Problem(
            415,
            "Unsupported media type",
            "send text/csv, application/x-ndjson or application/json",
            kind="unsupported-media-type",
        )
    if import_id is None:
        raise Problem(
            422,
            "Unprocessable content",
            "import_id is required (query, or the JSON document's import_id)",
            kind="validation",
            errors=[{"pointer": "/import_id", "detail": "required"}],
        )
    engine = _engine(request)
    try:
        outcome = await import_forecast(
            engine,
            records,
            hexdigest,
            import_id=import_id,
            policy=policy or config.import_policy,
            source="api",
            by=f"token:{principal.name}",
            config=config,
            warehouses=warehouses_of(hub.config),
        )
    except ImportConflict as exc:
        raise Problem(409, "Conflict", str(exc), kind="conflict") from exc
    version = outcome.version
    current = await engine.db.read(in_force)
    view = _view(version, current)
    if not outcome.created:
        return JSONResponse(view, status_code=200)
    if version.state == "rejected":
        raise Problem(
            413 if outcome.too_many else 422,
            "Too many lines" if outcome.too_many else "Invalid forecast",
            f"forecast {import_id} rejected: {len(version.rejected)} bad line(s) under "
            f"{version.policy}; nothing applied",
            kind="validation",
            errors=[
                {
                    "pointer": f"/lines/{p['line']}/{p['field']}",
                    "line": p["line"],
                    "field": p["field"],
                    "rule": p["rule"],
                    "detail": p["detail"],
                }
                for p in version.rejected[:MAX_LISTED]
            ],
            error_count=len(version.rejected),
            version=version.version,
        )
    return JSONResponse(
        view, status_code=202, headers={"Location": f"/v1/forecasts/{version.version}"}
    )


@router.get("")
async def forecast_versions(
    request: Request,
    _: Annotated[Principal, Depends(require("purchasing:read"))],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> dict[str, Any]:
    """Forecast versions, newest first (each with at most 20 of its rejected lines)."""

    def read(conn: Connection) -> tuple[list[VersionRow], VersionRow | None]:
        return list_versions(conn, limit, before), in_force(conn)

    versions, current = await _engine(request).db.read(read)
    return {
        "in_force": None if current is None else current.version,
        "items": [_view(v, current, 20) for v in versions],
        "next_before": versions[-1].version if len(versions) == limit else None,
    }


@router.get("/exports")
async def history_exports(
    request: Request,
    _: Annotated[Principal, Depends(require("purchasing:read"))],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Demand history exports, newest first."""
    c = demand_exports.c
    rows = await _engine(request).db.read(
        lambda conn: conn.execute(
            select(demand_exports).order_by(c.until.desc()).limit(limit)
        ).all()
    )
    return {
        "items": [
            {
                "id": r.id,
                "since": _iso(r.since),
                "until": _iso(r.until),
                "rows": r.rows,
                "target": r.target,
                "location": r.location,
                "at": _iso(r.at),
            }
            for r in rows
        ]
    }


@router.get("/{version:int}")
async def forecast_version(
    version: Annotated[int, Path(ge=1, le=2**31 - 1)],
    request: Request,
    _: Annotated[Principal, Depends(require("purchasing:read"))],
) -> dict[str, Any]:
    """One forecast version with its rejected lines (line, field, rule)."""

    def read(conn: Connection) -> tuple[VersionRow | None, VersionRow | None]:
        return get_version(conn, version), in_force(conn)

    found, current = await _engine(request).db.read(read)
    if found is None:
        raise Problem(404, "Not found", f"no forecast version {version}", kind="not-found")
    return _view(found, current)


async def _request(request: Request, principal: Principal, kind: str) -> JSONResponse:
    engine = _engine(request)
    event = request_event(kind, f"token:{principal.name}")

    def write(conn: Connection) -> None:
        insert_events(conn, [event], engine.partitions)
        append_audit(
            conn,
            actor=f"token:{principal.name}",
            action=f"{kind}",
            subject=event.subject,
            details={"event_id": event.id},
        )

    await engine.writer.submit(write, appends=True)
    return JSONResponse({"event_id": event.id}, status_code=202)


@router.post("/exports", status_code=202)
async def request_export(
    request: Request, principal: Annotated[Principal, Depends(require("purchasing:write"))]
) -> JSONResponse:
    """Export the demand history since the last export now (a node running workers does it)."""
    return await _request(request, principal, EXPORT)


@router.post("/baseline", status_code=202)
async def request_baseline(
    request: Request, principal: Annotated[Principal, Depends(require("purchasing:write"))]
) -> JSONResponse:
    """Compute the baseline forecast from the kept history now."""
    return await _request(request, principal, BASELINE)
