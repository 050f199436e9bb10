"""Replenishment over HTTP: recommendations reviewed, approved (some lines, edited quantities) or
rejected; a run on request.

- ``POST /v1/replenishment/runs`` (``purchasing:write``) — appends
  ``procurement.recommend_requested``; a node running workers reads the ERP and recommends
  (``202`` with the event id).
- ``GET /v1/replenishment/recommendations?state=&limit=`` (``purchasing:read``) — newest first.
- ``GET /v1/replenishment/recommendations/{ref}`` (``purchasing:read``) — one, with its lines
  (each with its reason) and its timeline.
- ``POST /v1/replenishment/recommendations/{ref}/approve`` (``purchasing:write``) — all lines as
  recommended, or ``lines`` with their quantities (lines not listed are dropped). Above
  ``procurement.second_approver_above`` a second, different token completes the approval. An
  approved recommendation becomes a purchase order (the consumer does the ERP's work).
- ``POST /v1/replenishment/recommendations/{ref}/reject`` (``purchasing:write``).

Every decision is audited (actor ``token:<name>``) in the transaction that records it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from crossdock.api.auth import Principal, require
from crossdock.api.bodies import body_example
from crossdock.api.problems import Problem
from crossdock.api.query import StrictQueryRoute
from crossdock.engine import Engine, format_time, insert_events
from crossdock.flows.procurement import recommend_event
from crossdock.flows.procurement.store import (
    DecisionError,
    LineEdit,
    RecommendationRow,
    approve,
    get_recommendation,
    list_recommendations,
    reject,
    steps_of,
)
from crossdock.model.types import NonNegativeQuantity, Sku
from crossdock.ops.audit import append_audit

router = APIRouter(prefix="/v1/replenishment", tags=["replenishment"], route_class=StrictQueryRoute)

State = Literal["pending", "awaiting_second", "approved", "ordered", "rejected", "superseded"]


def _iso(at: float) -> str:
    return format_time(datetime.fromtimestamp(at, UTC))


def _num(value: Decimal) -> str:
    return format(value.normalize(), "f") if value != 0 else "0"


class LineView(BaseModel):
    line_no: int
    sku: str
    recommended: str
    quantity: str
    unit_price: str
    reason: str


class PurchaseStepView(BaseModel):
    step: str
    at: str
    actor: str
    details: dict[str, Any]


class RecommendationView(BaseModel):
    id: str
    ref: str
    supplier_ref: str
    warehouse: str
    currency: str
    state: str
    amount: str
    lead_days: int
    created_at: str
    updated_at: str
    approvals: list[dict[str, Any]]
    decided_by: str | None
    note: str | None
    purchase_order: str | None
    error: str | None
    lines: list[LineView]
    timeline: list[PurchaseStepView] = []


class RecommendationList(BaseModel):
    items: list[RecommendationView]


class LineEditBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku = Field(description="A SKU of the recommendation.")
    quantity: NonNegativeQuantity = Field(description="Quantity approved (0 drops the line).")


class ApproveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lines: list[LineEditBody] | None = Field(
        default=None,
        max_length=5000,
        description="Lines approved with their quantities; absent: every line as recommended.",
    )
    note: str | None = Field(default=None, max_length=1000)


class RejectBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=1000)


class ReplenishmentRunRequested(BaseModel):
    event_id: str


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.hub.engine
    return engine


def _second_above(request: Request) -> Decimal | None:
    value: Decimal | None = request.app.state.hub.config.procurement.second_approver_above
    return value


def _view(rec: RecommendationRow, steps: list[dict[str, Any]] | None = None) -> RecommendationView:
    return RecommendationView(
        id=rec.id,
        ref=rec.ref,
        supplier_ref=rec.supplier_ref,
        warehouse=rec.warehouse,
        currency=rec.currency,
        state=rec.state,
        amount=_num(rec.amount),
        lead_days=rec.lead_days,
        created_at=_iso(rec.created_at),
        updated_at=_iso(rec.updated_at),
        approvals=[{"by": a["by"], "at": _iso(float(a["at"]))} for a in rec.approvals],
        decided_by=rec.decided_by,
        note=rec.note,
        purchase_order=rec.po_name,
        error=rec.error,
        lines=[
            LineView(
                line_no=ln.line_no,
                sku=ln.sku,
                recommended=_num(ln.recommended),
                quantity=_num(ln.quantity),
                unit_price=_num(ln.unit_price),
                reason=ln.reason,
            )
            for ln in rec.lines
        ],
        timeline=[
            PurchaseStepView(
                step=s["step"], at=_iso(s["at"]), actor=s["actor"], details=s["details"]
            )
            for s in steps or []
        ],
    )


recommendation_view = _view
"""The API's view of a recommendation (the dashboard shows the same)."""


def _not_found(ref: str) -> Problem:
    return Problem(404, "Not found", f"no recommendation {ref}", kind="not-found")


def _problem(error: DecisionError) -> Problem:
    if error.status == 409:
        return Problem(409, "Conflict", error.detail, kind="conflict")
    errors = [{"pointer": error.pointer or "/", "detail": error.detail}]
    return Problem(422, "Unprocessable content", error.detail, kind="invalid", errors=errors)


@router.post("/runs", status_code=202, response_model=ReplenishmentRunRequested)
async def request_run(
    request: Request, principal: Annotated[Principal, Depends(require("purchasing:write"))]
) -> JSONResponse:
    """Recommend now: a node running workers reads the ERP and saves the recommendations."""
    engine = _engine(request)
    event = recommend_event(f"token:{principal.name}")

    def write(conn: Connection) -> None:
        insert_events(conn, [event], engine.partitions)
        append_audit(
            conn,
            actor=f"token:{principal.name}",
            action="procurement.run_requested",
            subject="procurement:recommend",
            details={"event_id": event.id},
        )

    await engine.writer.submit(write, appends=True)
    return JSONResponse({"event_id": event.id}, status_code=202)


@router.get("/recommendations", response_model=RecommendationList)
async def recommendations(
    request: Request,
    _: Annotated[Principal, Depends(require("purchasing:read"))],
    state: State | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> RecommendationList:
    """Recommendations, newest first."""
    found = await _engine(request).db.read(lambda c: list_recommendations(c, state, limit))
    return RecommendationList(items=[_view(r) for r in found])


@router.get("/recommendations/{ref}", response_model=RecommendationView)
async def recommendation(
    ref: str, request: Request, _: Annotated[Principal, Depends(require("purchasing:read"))]
) -> RecommendationView:
    """One recommendation with its lines and timeline."""

    def read(conn: Connection) -> tuple[RecommendationRow | None, list[dict[str, Any]]]:
        rec = get_recommendation(conn, ref)
        return rec, steps_of(conn, rec.id) if rec is not None else []

    rec, steps = await _engine(request).db.read(read)
    if rec is None:
        raise _not_found(ref)
    return _view(rec, steps)


async def _decide(request: Request, ref: str, decide: Any) -> RecommendationView:
    engine = _engine(request)

    def write(conn: Connection) -> tuple[RecommendationRow, list[dict[str, Any]]]:
        rec = get_recommendation(conn, ref, lock=True)
        if rec is None:
            raise _not_found(ref)
        decide(conn, rec)
        after = get_recommendation(conn, rec.id)
        assert after is not None
        return after, steps_of(conn, rec.id)

    try:
        rec, steps = await engine.writer.submit(write, appends=True)
    except DecisionError as exc:
        raise _problem(exc) from exc
    return _view(rec, steps)


@router.post(
    "/recommendations/{ref}/approve",
    response_model=RecommendationView,
    openapi_extra=body_example({"lines": [{"sku": "SKU-1", "quantity": "24"}], "note": "ok"}),
)
async def approve_recommendation(
    ref: str,
    body: ApproveBody,
    request: Request,
    principal: Annotated[Principal, Depends(require("purchasing:write"))],
) -> RecommendationView:
    """Approve every line, or the lines given with their quantities (the others are dropped)."""
    engine = _engine(request)
    second = _second_above(request)
    edits = None if body.lines is None else [LineEdit(ln.sku, ln.quantity) for ln in body.lines]

    def decide(conn: Connection, rec: RecommendationRow) -> None:
        events = approve(
            conn,
            rec,
            by=f"token:{principal.name}",
            now=time.time(),
            second_above=second,
            lines=edits,
            note=body.note,
        )
        if events:
            insert_events(conn, events, engine.partitions)

    return await _decide(request, ref, decide)


@router.post(
    "/recommendations/{ref}/reject",
    response_model=RecommendationView,
    openapi_extra=body_example({"note": "stock moves to the new warehouse next month"}),
)
async def reject_recommendation(
    ref: str,
    body: RejectBody,
    request: Request,
    principal: Annotated[Principal, Depends(require("purchasing:write"))],
) -> RecommendationView:
    """Reject the recommendation (nothing is ordered; the next run recommends afresh)."""

    def decide(conn: Connection, rec: RecommendationRow) -> None:
        reject(conn, rec, by=f"token:{principal.name}", now=time.time(), note=body.note)

    return await _decide(request, ref, decide)
