"""Reading and writing the event log on an open connection (called inside engine transactions)."""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Row, func, insert, or_, select, tuple_

from crossdock.engine.envelope import (
    Event,
    NewEvent,
    format_time,
    new_event_id,
    parse_time,
    utcnow,
)
from crossdock.engine.tables import events

# Keep well under SQLite's limit of bound parameters per statement.
_CHUNK = 400


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"data: {type(value).__name__} is not JSON serialisable")


def dump_data(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), default=_json_default, ensure_ascii=False)


def partition_of(subject: str, partitions: int) -> int:
    """Stable across processes and Python versions (unlike `hash`)."""
    return zlib.crc32(subject.encode()) % partitions


EVENT_COLUMNS = (
    events.c.seq,
    events.c.id,
    events.c.type,
    events.c.source,
    events.c.subject,
    events.c.time,
    events.c.data,
    events.c.traceparent,
    events.c.idempotency_key,
    events.c.recorded_at,
)


def row_to_event(row: Row[Any] | Any) -> Event:
    return Event(
        id=row.id,
        type=row.type,
        source=row.source,
        subject=row.subject,
        time=parse_time(row.time),
        data=json.loads(row.data),
        traceparent=row.traceparent,
        idempotency_key=row.idempotency_key,
        recorded_at=row.recorded_at,
        position=row.seq,
    )


@dataclass(frozen=True, slots=True)
class Appended:
    """What `insert_events` did: one event per input, in order; `new` false for a duplicate."""

    event: Event
    new: bool


def _existing(conn: Connection, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Event]:
    found: dict[tuple[str, str], Event] = {}
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        rows = conn.execute(
            select(*EVENT_COLUMNS).where(
                tuple_(events.c.source, events.c.idempotency_key).in_(chunk)
            )
        )
        for row in rows:
            found[(row.source, row.idempotency_key)] = row_to_event(row)
    return found


def insert_events(
    conn: Connection, new_events: Iterable[NewEvent], partitions: int
) -> list[Appended]:
    """Insert events, returning the stored original for each duplicate idempotency key.

    Callers hold the append lock (SQLite's write lock, or the PostgreSQL advisory lock), so the
    look-up and the insert cannot race with another appender.
    """
    batch = list(new_events)
    for new in batch:
        new.validate()
    keys = sorted({(n.source, n.idempotency_key) for n in batch if n.idempotency_key is not None})
    existing = _existing(conn, keys) if keys else {}
    now = time.time()
    stamp = utcnow()
    rows: list[dict[str, Any]] = []
    out: list[Appended] = []
    for new in batch:
        key = (new.source, new.idempotency_key) if new.idempotency_key is not None else None
        if key is not None and key in existing:
            out.append(Appended(existing[key], new=False))
            continue
        event = Event(
            id=new.id or new_event_id(),
            type=new.type,
            source=new.source,
            subject=new.subject,
            time=new.time or stamp,
            data=dict(new.data),
            traceparent=new.traceparent,
            idempotency_key=new.idempotency_key,
            recorded_at=now,
        )
        rows.append(
            {
                "id": event.id,
                "type": event.type,
                "source": event.source,
                "subject": event.subject,
                "partition": partition_of(event.subject, partitions),
                "time": format_time(event.time),
                "data": dump_data(event.data),
                "traceparent": event.traceparent,
                "idempotency_key": event.idempotency_key,
                "recorded_at": now,
            }
        )
        out.append(Appended(event, new=True))
        if key is not None:
            existing[key] = event
    if rows:
        conn.execute(insert(events), rows)
    return out


def read_partition(conn: Connection, partition: int, after: int, limit: int) -> list[Event]:
    rows = conn.execute(
        select(*EVENT_COLUMNS)
        .where(events.c.partition == partition, events.c.seq > after)
        .order_by(events.c.seq)
        .limit(limit)
    )
    return [row_to_event(row) for row in rows]


def read_positions(conn: Connection, positions: Sequence[int]) -> dict[int, Event]:
    found: dict[int, Event] = {}
    for start in range(0, len(positions), _CHUNK):
        chunk = positions[start : start + _CHUNK]
        for row in conn.execute(select(*EVENT_COLUMNS).where(events.c.seq.in_(chunk))):
            found[row.seq] = row_to_event(row)
    return found


def read_after(
    conn: Connection,
    after: int,
    limit: int,
    *,
    types: Sequence[str] = (),
    subject: str | None = None,
) -> list[Event]:
    """Events after a position, oldest first; `types` entries ending in `*` match a prefix."""
    query = select(*EVENT_COLUMNS).where(events.c.seq > after)
    if subject is not None:
        query = query.where(events.c.subject == subject)
    if types:
        query = query.where(
            or_(
                *(
                    events.c.type.startswith(t[:-1]) if t.endswith("*") else events.c.type == t
                    for t in types
                )
            )
        )
    rows = conn.execute(query.order_by(events.c.seq).limit(limit))
    return [row_to_event(row) for row in rows]


def last_position(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(events.c.seq), 0))).scalar_one())


def find_event(conn: Connection, event_id: str) -> Event | None:
    row = conn.execute(select(*EVENT_COLUMNS).where(events.c.id == event_id)).first()
    return row_to_event(row) if row else None
