"""EDI files over HTTP: every file received from or sent to a trading partner, its state and
the reason for it.

- ``GET /v1/edi/files?partner=&state=&direction=&limit=&cursor=`` (``ops:read``) — newest first,
  page by page (``next`` is the cursor of the following page when this one is full).
- ``GET /v1/edi/files/{id}`` (``ops:read``) — one file.
- ``GET /v1/edi/files/{id}/content`` (``ops:read``) — its bytes as stored, streamed.
- ``POST /v1/edi/files/{id}/retry`` (``ops:write``) — a rejected inbound file back to the phase
  it stopped in, a failed outbound file back to the queue, with fresh attempts (audited).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy import Connection, select

from crossdock.api.auth import Principal, require
from crossdock.api.cursors import page_cursor, read_cursor
from crossdock.api.problems import Problem
from crossdock.api.query import StrictQueryRoute
from crossdock.api.views import iso_time
from crossdock.engine import Engine
from crossdock.flows.edi import store
from crossdock.flows.edi.tables import edi_file_chunks
from crossdock.ops.audit import append_audit

router = APIRouter(prefix="/v1/edi", tags=["edi"], route_class=StrictQueryRoute)


class EdiFileView(BaseModel):
    id: str
    partner: str
    direction: str
    name: str
    state: str
    reason: str | None
    size: int
    sha256: str
    interchange: str | None
    group_control: str | None
    attempts: int
    next_attempt_at: str | None
    received_at: str
    updated_at: str
    detail: dict[str, Any]

    @classmethod
    def of(cls, f: store.EdiFile) -> EdiFileView:
        return cls(
            id=f.id,
            partner=f.partner,
            direction=f.direction,
            name=f.name,
            state=f.state,
            reason=f.reason,
            size=f.size,
            sha256=f.sha256,
            interchange=f.interchange,
            group_control=f.group_control,
            attempts=f.attempts,
            next_attempt_at=iso_time(f.next_attempt_at) if f.next_attempt_at else None,
            received_at=iso_time(f.received_at),
            updated_at=iso_time(f.updated_at),
            detail=f.detail,
        )


class EdiFileList(BaseModel):
    items: list[EdiFileView]
    next: str | None = None


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.hub.engine
    return engine


@router.get("/files", response_model=EdiFileList)
async def files(
    request: Request,
    _: Annotated[Principal, Depends(require("ops:read"))],
    partner: Annotated[str | None, Query(max_length=63)] = None,
    state: Annotated[
        str | None,
        Query(
            description=f"One of: {', '.join(store.STATES)}",
            json_schema_extra={"enum": list(store.STATES)},
        ),
    ] = None,
    direction: Annotated[str | None, Query(pattern="^(in|out)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> EdiFileList:
    """Files exchanged with trading partners, newest first."""
    if state is not None and state not in store.STATES:
        raise Problem(
            400,
            "Bad request",
            f"state: must be one of {', '.join(store.STATES)}",
            kind="bad-query",
            errors=[{"pointer": "/query/state", "rule": "enum", "detail": "unknown state"}],
        )
    after = read_cursor(cursor) if cursor else None
    found = await _engine(request).db.read(
        lambda c: store.list_files(
            c, partner=partner, state=state, direction=direction, limit=limit, after=after
        )
    )
    following = page_cursor(found[-1].received_at, found[-1].id) if len(found) == limit else None
    return EdiFileList(items=[EdiFileView.of(f) for f in found], next=following)


async def _found(request: Request, file_id: str) -> store.EdiFile:
    found = await _engine(request).db.read(lambda c: store.get_file(c, file_id))
    if found is None:
        raise Problem(404, "Not found", f"no EDI file {file_id}", kind="not-found")
    return found


@router.get("/files/{file_id}", response_model=EdiFileView)
async def file(
    file_id: str, request: Request, _: Annotated[Principal, Depends(require("ops:read"))]
) -> EdiFileView:
    """One file: its state, the reason, its control numbers."""
    return EdiFileView.of(await _found(request, file_id))


@router.get(
    "/files/{file_id}/content",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/edi-x12": {}}}},
)
async def content(
    file_id: str, request: Request, _: Annotated[Principal, Depends(require("ops:read"))]
) -> StreamingResponse:
    """The file's bytes as received or sent, streamed chunk by chunk."""
    found = await _found(request, file_id)
    db = _engine(request).db

    async def body() -> AsyncIterator[bytes]:
        seq = 0
        while True:

            def read(conn: Connection, seq: int = seq) -> bytes | None:
                data = conn.execute(
                    select(edi_file_chunks.c.data).where(
                        edi_file_chunks.c.file_id == file_id, edi_file_chunks.c.seq == seq
                    )
                ).scalar()
                return bytes(data) if data is not None else None

            chunk = await db.read(read)
            if chunk is None:
                return
            yield chunk
            seq += 1

    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in found.name)
    return StreamingResponse(
        body(),
        media_type="application/edi-x12",
        headers={"Content-Disposition": f'attachment; filename="{safe}"'},
    )


@router.post("/files/{file_id}/retry", status_code=202, response_model=EdiFileView)
async def retry(
    file_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(require("ops:write"))],
) -> EdiFileView:
    """Try a rejected inbound file or a failed outbound one again, once its cause is fixed."""

    def write(conn: Connection) -> store.EdiFile | None:
        now = time.time()
        found = store.retry(conn, file_id, now=now)
        if found is not None:
            append_audit(
                conn,
                actor=f"token:{principal.name}",
                action="edi.file_retried",
                subject=f"edi-file:{file_id}",
                details={"state": found.state},
                now=now,
            )
        return found

    try:
        found = await _engine(request).writer.submit(write)
    except store.RetryRefused as exc:
        raise Problem(409, "Conflict", str(exc), kind="conflict") from exc
    if found is None:
        raise Problem(404, "Not found", f"no EDI file {file_id}", kind="not-found")
    return EdiFileView.of(found)
