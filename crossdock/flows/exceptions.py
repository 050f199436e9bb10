"""The exceptions queue: business problems a person must decide, each with an owner role, a
reason and the actions that resolve it. Resolving one emits `exception.resolved` on the subject,
so the flow waiting for it continues in order with the subject's other events."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import Connection, Select, and_, func, insert, or_, select, update

from crossdock.engine import NewEvent, new_event_id
from crossdock.errors import CrossdockError
from crossdock.flows.orders import order_id_of, refs_of_subjects
from crossdock.flows.tables import exceptions

LISTED = 5
"""Items of a list a reason names; the rest are counted (``… and 59,997 more``)."""
REASON_CHARS = 1000
"""A reason longer than this is cut: it is shown in every list of exceptions."""


def listing(items: Sequence[str], sep: str = ", ", shown: int = LISTED) -> str:
    """The first ``shown`` of ``items`` and a count of the rest: ``A, B, C … and 59,997 more``."""
    head = sep.join(items[:shown])
    rest = len(items) - shown
    return f"{head} … and {rest:,} more" if rest > 0 else head


def bounded(reason: str) -> str:
    """``reason`` cut to ``REASON_CHARS``, saying how much was left out."""
    if len(reason) <= REASON_CHARS:
        return reason
    return f"{reason[:REASON_CHARS]} … ({len(reason) - REASON_CHARS:,} more characters)"


class ExceptionConflict(CrossdockError):
    """The exception is not open, or the action is not one it offers."""


@dataclass(frozen=True, slots=True)
class ExceptionRecord:
    id: str
    type: str
    owner: str
    subject: str
    reason: str
    actions: list[str]
    state: str
    created_at: float
    resolved_at: float | None
    resolved_by: str | None
    resolution: str | None
    note: str | None


def _record(row: Any) -> ExceptionRecord:
    return ExceptionRecord(
        id=row.id,
        type=row.type,
        owner=row.owner,
        subject=row.subject,
        reason=row.reason,
        actions=json.loads(row.actions),
        state=row.state,
        created_at=row.created_at,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        resolution=row.resolution,
        note=row.note,
    )


def open_exception(
    conn: Connection,
    *,
    type: str,
    owner: str,
    subject: str,
    reason: str,
    actions: list[str],
    now: float,
    exception_id: str | None = None,
) -> ExceptionRecord:
    """Open an exception; an open one of the same type on the same subject is returned instead.

    ``exception_id`` lets the caller choose the id (to name it in an event appended in the same
    transaction); a new one is drawn otherwise."""
    existing = conn.execute(
        select(exceptions).where(
            exceptions.c.type == type,
            exceptions.c.subject == subject,
            exceptions.c.state == "open",
        )
    ).first()
    if existing is not None:
        return _record(existing)
    exception_id = exception_id or new_event_id()
    conn.execute(
        insert(exceptions).values(
            id=exception_id,
            type=type,
            owner=owner,
            subject=subject,
            reason=bounded(reason),
            actions=json.dumps(actions),
            state="open",
            created_at=now,
        )
    )
    found = get_exception(conn, exception_id)
    assert found is not None
    # Every exception is opened here, so here is its log line (a person must act on it).
    structlog.get_logger("crossdock.exceptions").warning(
        "exception.opened",
        exception_id=exception_id,
        type=type,
        owner=owner,
        subject=subject,
        reason=reason,
    )
    return found


def get_exception(conn: Connection, exception_id: str) -> ExceptionRecord | None:
    row = conn.execute(select(exceptions).where(exceptions.c.id == exception_id)).first()
    return _record(row) if row else None


def resolve_exception(
    conn: Connection, exception_id: str, *, action: str, by: str, note: str | None, now: float
) -> tuple[ExceptionRecord, NewEvent]:
    """Mark resolved and return the `exception.resolved` event to append in the same transaction."""
    current = get_exception(conn, exception_id)
    if current is None:
        raise LookupError(exception_id)
    if current.state != "open":
        raise ExceptionConflict(f"exception {exception_id} is already {current.state}")
    if action not in current.actions:
        raise ExceptionConflict(
            f"action {action!r} is not offered; choose one of {', '.join(current.actions)}"
        )
    done = conn.execute(
        update(exceptions)
        .where(exceptions.c.id == exception_id, exceptions.c.state == "open")
        .values(state="resolved", resolved_at=now, resolved_by=by, resolution=action, note=note)
    )
    if done.rowcount != 1:
        raise ExceptionConflict(f"exception {exception_id} was resolved meanwhile")
    resolved = get_exception(conn, exception_id)
    assert resolved is not None
    about: dict[str, Any] = {}
    refs = refs_of_subjects(conn, [current.subject]).get(current.subject)
    if refs is not None:  # an exception about an order names it as every order event does
        channel, external_ref = refs
        about = {
            "order_id": order_id_of(current.subject),
            "channel": channel,
            "external_ref": external_ref,
        }
    event = NewEvent(
        "exception.resolved",
        "crossdock.exceptions",
        current.subject,
        {
            **about,
            "exception_id": exception_id,
            "type": current.type,
            "action": action,
            "by": by,
            "note": note,
        },
        idempotency_key=f"resolved:{exception_id}",
    )
    return resolved, event


def withdraw_exceptions(
    conn: Connection, subject: str, *, note: str, now: float, by: str = "crossdock"
) -> list[str]:
    """Close every open exception of ``subject`` as ``withdrawn`` (the subject ended another way,
    e.g. the order was cancelled); returns their ids. Appends no event: nobody decided them."""
    ids = list(
        conn.execute(
            select(exceptions.c.id).where(
                exceptions.c.subject == subject, exceptions.c.state == "open"
            )
        ).scalars()
    )
    if ids:
        conn.execute(
            update(exceptions)
            .where(exceptions.c.id.in_(ids), exceptions.c.state == "open")
            .values(
                state="resolved", resolved_at=now, resolved_by=by, resolution="withdrawn", note=note
            )
        )
    return ids


def list_exceptions(
    conn: Connection,
    *,
    type: str | None = None,
    state: str | None = "open",
    subject: str | None = None,
    limit: int = 100,
    offset: int = 0,
    after: tuple[float, str] | None = None,
) -> list[ExceptionRecord]:
    """Oldest first: the longest-waiting decision at the top. A page starts ``offset`` rows in,
    or ``after`` the ``(created_at, id)`` of the previous page's last row."""
    c = exceptions.c
    query = select(exceptions).order_by(c.created_at, c.id).limit(limit).offset(offset)
    if after is not None:
        at, last = after
        query = query.where(or_(c.created_at > at, and_(c.created_at == at, c.id > last)))
    return [_record(row) for row in conn.execute(_filtered(query, type, state, subject))]


def count_exceptions(
    conn: Connection,
    *,
    type: str | None = None,
    state: str | None = "open",
    subject: str | None = None,
) -> int:
    """How many exceptions ``list_exceptions`` pages through with the same filters."""
    query = select(func.count()).select_from(exceptions)
    return int(conn.execute(_filtered(query, type, state, subject)).scalar_one())


def _filtered(query: Select[Any], type: str | None, state: str | None, subject: str | None) -> Any:
    if type is not None:
        query = query.where(exceptions.c.type == type)
    if state is not None:
        query = query.where(exceptions.c.state == state)
    if subject is not None:
        query = query.where(exceptions.c.subject == subject)
    return query
