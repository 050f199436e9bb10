"""What an operator may change from the dashboard, through the same paths as the API and the CLI:

- resolving an exception calls the API's own `POST /v1/exceptions/{id}/resolve` function (the
  resolution, its `exception.resolved` event and the audit entry, in one transaction);
- replaying a dead letter is `Engine.replay` with the audit entry in the replay's transaction, as
  `crossdock dlq replay` does — with the token's name as the actor.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from pydantic import ValidationError
from sqlalchemy import Connection, select

from crossdock.api import routes
from crossdock.api.auth import Principal
from crossdock.api.problems import Problem
from crossdock.api.views import ExceptionView
from crossdock.engine import Engine
from crossdock.engine import dead_letters_table as dead_letters
from crossdock.ops.audit import append_audit

__all__ = ["Outcome", "replay_dead_letter", "resolve_exception"]


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    message: str
    exception: ExceptionView | None = None


async def resolve_exception(
    request: Request, principal: Principal, exception_id: str, action: str, note: str | None
) -> Outcome:
    try:
        body = routes.Resolution(action=action, note=note or None)
    except ValidationError as exc:
        first = exc.errors()[0]
        return Outcome(False, f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}")
    try:
        view = await routes.resolve(exception_id, body, request, principal)
    except Problem as exc:
        return Outcome(False, exc.detail)
    return Outcome(True, f"resolved with {view.resolution}", view)


async def replay_dead_letter(engine: Engine, principal: Principal, dead_id: int) -> Outcome:
    def record(conn: Connection, replayed: int) -> None:
        if not replayed:
            return
        subject = conn.execute(
            select(dead_letters.c.subject).where(dead_letters.c.id == dead_id)
        ).scalar()
        append_audit(
            conn,
            actor=f"token:{principal.name}",
            action="dead_letter.replayed",
            subject=str(subject or f"dead_letter:{dead_id}"),
            details={"dead_letter": dead_id, "group": None, "since": None, "count": replayed},
        )

    if await engine.replay(dead_id, also=record):
        return Outcome(True, "replayed: the event is retried now")
    return Outcome(False, f"dead letter {dead_id} does not exist or was already replayed")
