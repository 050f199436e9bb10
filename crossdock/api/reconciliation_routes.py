"""Reconciliation over HTTP: recent runs, drift items still present, and a run on request.

- ``GET /v1/reconciliation/runs?kind=&limit=`` (``ops:read``) — newest first.
- ``GET /v1/reconciliation/runs/{id}`` (``ops:read``) — one run.
- ``GET /v1/reconciliation/drift?kind=&type=&subject=&limit=`` (``ops:read``) — open and
  correcting items, oldest first, with their age and value.
- ``POST /v1/reconciliation/runs {"kind": "orders", "fix": null}`` (``ops:write``) — appends
  ``reconciliation.requested``; a node running workers runs it (``202`` with the event id). The
  request is audited.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool
from sqlalchemy import Connection

from crossdock.api.auth import Principal, require
from crossdock.api.bodies import body_example
from crossdock.api.problems import Problem
from crossdock.api.query import StrictQueryRoute
from crossdock.engine import Engine, insert_events
from crossdock.flows.reconciliation.drift_types import TYPES
from crossdock.flows.reconciliation.report import item_json, run_json
from crossdock.flows.reconciliation.service import requested_event
from crossdock.flows.reconciliation.store import get_run, list_runs, open_drift
from crossdock.ops.audit import append_audit

router = APIRouter(
    prefix="/v1/reconciliation", tags=["reconciliation"], route_class=StrictQueryRoute
)

Kind = Literal["orders", "invoices", "stock", "payments"]


class RunView(BaseModel):
    id: str
    kind: str
    trigger: str
    fix: bool
    status: str
    started_at: str
    finished_at: str
    duration_s: float
    checked: int
    found: int
    new: int
    closed: int
    corrected: int
    exceptions: int
    value: str
    value_by_currency: dict[str, str] = {}
    """The drift items' money per currency (``value`` adds every currency up)."""
    by_type: dict[str, int]
    notes: list[str]
    error: str | None = None


class RunList(BaseModel):
    items: list[RunView]


class DriftView(BaseModel):
    id: str
    kind: str
    type: str
    subject: str
    state: str
    resolution: str | None
    owner: str
    summary: str
    value: str
    currency: str | None
    age_s: float
    since: str
    first_seen: str
    last_seen: str
    closed_at: str | None
    seen: int
    exception_id: str | None
    correction: dict[str, Any] | None
    details: dict[str, Any]


class DriftList(BaseModel):
    items: list[DriftView]


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind | Literal["all"]
    fix: StrictBool | None = Field(
        default=None, description="Apply the owner's value where allowed (default: configured)."
    )


class RunRequested(BaseModel):
    event_id: str
    kind: str


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.hub.engine
    return engine


@router.get("/runs", response_model=RunList)
async def runs(
    request: Request,
    _: Annotated[Principal, Depends(require("ops:read"))],
    kind: Kind | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> RunList:
    """Recent reconciliation runs, newest first."""
    found = await _engine(request).db.read(lambda c: list_runs(c, kind, limit))
    return RunList(items=[RunView(**run_json(r)) for r in found])


@router.get("/runs/{run_id}", response_model=RunView)
async def run(
    run_id: str, request: Request, _: Annotated[Principal, Depends(require("ops:read"))]
) -> RunView:
    """One run."""
    found = await _engine(request).db.read(lambda c: get_run(c, run_id))
    if found is None:
        raise Problem(404, "Not found", f"no reconciliation run {run_id}", kind="not-found")
    return RunView(**run_json(found))


@router.get("/drift", response_model=DriftList)
async def drift(
    request: Request,
    _: Annotated[Principal, Depends(require("ops:read"))],
    kind: Kind | None = None,
    type: Annotated[
        str | None,
        Query(description=f"One of: {', '.join(TYPES)}", json_schema_extra={"enum": list(TYPES)}),
    ] = None,
    subject: Annotated[str | None, Query(max_length=255)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> DriftList:
    """Drift items still present (open, or being corrected), oldest first."""
    if type is not None and type not in TYPES:
        raise Problem(
            400,
            "Bad request",
            f"type: must be one of {', '.join(TYPES)}",
            kind="bad-query",
            errors=[{"pointer": "/type", "detail": "unknown drift type"}],
        )
    items = await _engine(request).db.read(
        lambda c: open_drift(c, kind, type=type, subject=subject, limit=limit)
    )
    now = time.time()
    return DriftList(items=[DriftView(**item_json(i, now)) for i in items])


@router.post(
    "/runs",
    status_code=202,
    response_model=RunRequested,
    openapi_extra=body_example({"kind": "orders", "fix": False}),
)
async def request_run(
    body: RunRequest,
    request: Request,
    principal: Annotated[Principal, Depends(require("ops:write"))],
) -> JSONResponse:
    """Ask for a run now: a node running workers runs it in its batch lane."""
    engine = _engine(request)
    event = requested_event(body.kind, fix=body.fix, by=principal.name)

    def write(conn: Connection) -> None:
        insert_events(conn, [event], engine.partitions)
        append_audit(
            conn,
            actor=f"token:{principal.name}",
            action="reconciliation.requested",
            subject=f"reconciliation:{body.kind}",
            details={"event_id": event.id, "fix": body.fix},
        )

    await engine.writer.submit(write, appends=True)
    return JSONResponse({"event_id": event.id, "kind": body.kind}, status_code=202)
