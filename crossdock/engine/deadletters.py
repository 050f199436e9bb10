"""Dead letters: listing them with their history, and putting them back (replay).

A replayed event goes back to the head of its subject's queue for its consumer group (ahead of any
later events of that subject still waiting) and is retried at once with a fresh attempt count; the
dead-letter row stays, marked replayed, as history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from crossdock.engine.database import Dialect
from crossdock.engine.envelope import Event
from crossdock.engine.log import read_positions
from crossdock.engine.progress import park
from crossdock.engine.tables import dead_letters, parked_subjects


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    group: str
    event_id: str
    event_type: str
    subject: str
    attempts: int
    errors: list[dict[str, Any]]
    dead_at: float
    replayed_at: float | None
    event: Event | None = None


def _row(row: Any, event: Event | None = None) -> DeadLetter:
    return DeadLetter(
        id=row.id,
        group=row.group_name,
        event_id=row.event_id,
        event_type=row.event_type,
        subject=row.subject,
        attempts=row.attempts,
        errors=json.loads(row.errors),
        dead_at=row.dead_at,
        replayed_at=row.replayed_at,
        event=event,
    )


def list_dead(
    conn: Connection,
    *,
    group: str | None = None,
    since: float | None = None,
    include_replayed: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> list[DeadLetter]:
    query = select(dead_letters).order_by(dead_letters.c.id.desc()).limit(limit).offset(offset)
    if group is not None:
        query = query.where(dead_letters.c.group_name == group)
    if since is not None:
        query = query.where(dead_letters.c.dead_at >= since)
    if not include_replayed:
        query = query.where(dead_letters.c.replayed_at.is_(None))
    return [_row(row) for row in conn.execute(query)]


def get_dead(conn: Connection, dead_id: int) -> DeadLetter | None:
    row = conn.execute(select(dead_letters).where(dead_letters.c.id == dead_id)).first()
    if row is None:
        return None
    return _row(row, read_positions(conn, [row.seq]).get(row.seq))


def replay(conn: Connection, dialect: Dialect, dead_id: int, now: float) -> bool:
    """Re-queue one dead letter; False when it does not exist or was already replayed."""
    row = conn.execute(
        select(dead_letters).where(
            dead_letters.c.id == dead_id, dead_letters.c.replayed_at.is_(None)
        )
    ).first()
    if row is None:
        return False
    event = read_positions(conn, [row.seq]).get(row.seq)
    if event is None:
        return False
    claimed = conn.execute(
        update(dead_letters)
        .where(dead_letters.c.id == dead_id, dead_letters.c.replayed_at.is_(None))
        .values(replayed_at=now)
    )
    if claimed.rowcount != 1:
        return False
    park(conn, dialect, row.group_name, event, attempts=0, errors=[], next_at=now, now=now)
    conn.execute(  # the subject may be waiting out a backoff: the replay goes now
        update(parked_subjects)
        .where(
            parked_subjects.c.group_name == row.group_name,
            parked_subjects.c.subject == row.subject,
        )
        .values(next_at=now)
    )
    return True


def replay_many(
    conn: Connection, dialect: Dialect, *, group: str, since: float | None, now: float
) -> int:
    """Re-queue every dead letter of a group (optionally since a time), oldest first."""
    query = select(dead_letters.c.id).where(
        dead_letters.c.group_name == group, dead_letters.c.replayed_at.is_(None)
    )
    if since is not None:
        query = query.where(dead_letters.c.dead_at >= since)
    ids = [row.id for row in conn.execute(query.order_by(dead_letters.c.id))]
    return sum(replay(conn, dialect, dead_id, now) for dead_id in ids)


def requeue(conn: Connection, dialect: Dialect, group: str, position: int, now: float) -> bool:
    """Hand an event `group` already handled to it again, at the head of its subject's queue and
    at once, with a fresh attempt count (a delivery sent again on request); False when the
    position is not in the log."""
    event = read_positions(conn, [position]).get(position)
    if event is None:
        return False
    park(conn, dialect, group, event, attempts=0, errors=[], next_at=now, now=now)
    conn.execute(
        update(parked_subjects)
        .where(parked_subjects.c.group_name == group, parked_subjects.c.subject == event.subject)
        .values(next_at=now)
    )
    return True


def dead_id_of(conn: Connection, group: str, position: int) -> int | None:
    """The dead letter, not yet replayed, of the event at `position` for `group`."""
    row = conn.execute(
        select(dead_letters.c.id).where(
            dead_letters.c.group_name == group,
            dead_letters.c.seq == position,
            dead_letters.c.replayed_at.is_(None),
        )
    ).first()
    return None if row is None else int(row.id)
