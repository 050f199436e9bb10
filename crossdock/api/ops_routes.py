"""Operations routes: Prometheus metrics and the audit trail.

`GET /metrics` needs a token with `ops:read` (metrics reveal business volumes; Prometheus sends it
with `authorization: {type: Bearer, credentials_file: …}` in the scrape config). Database-derived
families are refreshed on each scrape (`crossdock.ops.collect`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel

from crossdock.api.auth import Principal, require
from crossdock.api.query import StrictQueryRoute
from crossdock.api.running import RunningHub
from crossdock.engine import format_time
from crossdock.ops.audit import AuditEntry, list_audit
from crossdock.ops.metrics import exposition

router = APIRouter(route_class=StrictQueryRoute)


@router.get(
    "/metrics",
    tags=["operations"],
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
)
async def metrics(
    request: Request, _: Annotated[Principal, Depends(require("ops:read"))]
) -> Response:
    """Prometheus exposition of the hub's metrics (scope `ops:read`)."""
    hub: RunningHub = request.app.state.hub
    await hub.ops.collector(hub.engine).refresh()
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)


class AuditView(BaseModel):
    seq: int
    at: str
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditView:
        at = format_time(datetime.fromtimestamp(entry.at, UTC))
        return cls(
            seq=entry.seq,
            at=at,
            actor=entry.actor,
            action=entry.action,
            subject=entry.subject,
            details=entry.details,
            prev_hash=entry.prev_hash,
            hash=entry.hash,
        )


class AuditPage(BaseModel):
    items: list[AuditView]
    next_after: int | None


@router.get("/v1/audit", response_model=AuditPage, tags=["operations"])
async def audit(
    request: Request,
    _: Annotated[Principal, Depends(require("ops:read"))],
    subject: Annotated[
        str | None, Query(max_length=255, description="A business key, e.g. order:<id>")
    ] = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
    after: Annotated[
        int, Query(ge=0, le=2**63 - 1, description="Entries after this sequence number")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPage:
    """Audit entries, oldest first: who did what, to which subject, and why."""
    hub: RunningHub = request.app.state.hub
    entries = await hub.engine.db.read(
        lambda c: list_audit(c, subject=subject, action=action, after=after, limit=limit)
    )
    items = [AuditView.of(e) for e in entries]
    return AuditPage(items=items, next_after=items[-1].seq if len(items) == limit else None)
