"""Reading and writing the event log on an open connection (called inside engine transactions)."""

from __future__ import annotations

import functools
import json
import time
import zlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, NamedTuple
from uuid import UUID

import orjson
from sqlalchemy import (
    BigInteger,
    Connection,
    Integer,
    Row,
    Select,
    bindparam,
    case,
    func,
    or_,
    select,
)

from crossdock.engine.bulk import fetch_rows, insert_values
from crossdock.engine.envelope import (
    Event,
    NewEvent,
    format_time,
    new_event_ids,
    parse_time,
    utcnow,
)
from crossdock.engine.tables import events, partition_heads

# Keep well under SQLite's limit of bound parameters per statement.
_CHUNK = 400
# A partition is read at most this far past its cursor per round, so a far-behind cursor moves
# in steps, and partitions whose cursors lie within this of each other share one scan.
_WINDOW = 8192
# Partitions read by one statement (one `CASE` arm each for either bound).
_PARTS_PER_STATEMENT = 64


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


# orjson encodes an event's data: the standard library builds an encoder per call, which would
# make encoding the largest part of preparing an event for the log. Times go through
# `_json_default` so they read as the log's own (`Z`, converted to UTC).
_ORJSON_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)
# What orjson refuses and the standard library writes: integers beyond 64 bits. (A float NaN,
# which the standard library wrote as the non-JSON `NaN`, is now `null`.)
_FALLBACK = json.JSONEncoder(separators=(",", ":"), default=_json_default, ensure_ascii=False)


def dump_data(data: Any) -> str:
    """Compact JSON text of an event's data (Decimal as a string, times as RFC 3339 in UTC)."""
    try:
        return orjson.dumps(data, default=_json_default, option=_ORJSON_OPTIONS).decode()
    except orjson.JSONEncodeError:
        return _FALLBACK.encode(data)


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


class Appended(NamedTuple):
    """What `insert_events` did: one event per input, in order; `new` false for a duplicate."""

    event: Event
    new: bool


def _existing(conn: Connection, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Event]:
    """Stored events for (source, key) pairs: one indexed look-up per source and chunk."""
    by_source: dict[str, list[str]] = {}
    for source, key in keys:
        by_source.setdefault(source, []).append(key)
    found: dict[tuple[str, str], Event] = {}
    for source, wanted in by_source.items():
        for start in range(0, len(wanted), _CHUNK):
            rows = conn.execute(
                select(*EVENT_COLUMNS).where(
                    events.c.source == source,
                    events.c.idempotency_key.in_(wanted[start : start + _CHUNK]),
                )
            )
            for row in rows:
                found[(row.source, row.idempotency_key)] = row_to_event(row)
    return found


_INSERT_COLUMNS = (
    "id",
    "type",
    "source",
    "subject",
    "partition",
    "time",
    "data",
    "traceparent",
    "idempotency_key",
    "recorded_at",
)


_INSERT_HEAD = f"INSERT INTO events ({', '.join(_INSERT_COLUMNS)})"
# A row whose idempotency key is taken is skipped by the database (the unique index checks it
# anyway); rows go in as the driver's own tuples, without SQLAlchemy's per-row processing.
_INSERT_TAIL = "ON CONFLICT (idempotency_key, source) DO NOTHING"


class Prepared(NamedTuple):
    """An event made ready for insertion (id, time, partition, JSON) outside the writer thread."""

    event: Event
    row: tuple[Any, ...]


# Named tuples built with `tuple.__new__` skip their generated `__new__` (a Python function with
# defaults), a sizeable share of preparing an event.
_new_tuple = tuple.__new__


def prepare(new_events: Iterable[NewEvent], partitions: int) -> list[Prepared]:
    """Assign ids and times and encode data: the per-event work of an append, done by the caller
    before the write so the writer thread only inserts."""
    events = new_events if isinstance(new_events, list) else list(new_events)
    fresh_ids = iter(new_event_ids(sum(1 for new in events if not new.id)))
    now = time.time()
    stamp = utcnow()
    stamp_text = format_time(stamp)
    crc32 = zlib.crc32
    out: list[Prepared] = []
    append = out.append
    for new in events:
        event_id = new.id or next(fresh_ids)
        data = dict(new.data)
        when = new.time
        event = _new_tuple(
            Event,
            (
                event_id,
                new.type,
                new.source,
                new.subject,
                stamp if when is None else when,
                data,
                new.traceparent,
                new.idempotency_key,
                now,
                0,
            ),
        )
        row = (
            event_id,
            new.type,
            new.source,
            new.subject,
            crc32(new.subject.encode()) % partitions,  # partition_of, inlined
            stamp_text if when is None else format_time(when),
            dump_data(data),
            new.traceparent,
            new.idempotency_key,
            now,
        )
        append(_new_tuple(Prepared, (event, row)))
    return out


def insert_rows(conn: Connection, prepared: Sequence[Prepared]) -> dict[int, Event]:
    """Insert prepared events; for each one that repeats an idempotency key (of an earlier
    append, or of an earlier event in `prepared`), its index mapped to the stored original.
    Empty when every event was new.

    Callers hold the append lock (SQLite's write lock, or the PostgreSQL advisory lock), so the
    insert and the look-up of skipped rows cannot race with another appender. Duplicates are
    rare: they cost a look-up only when the database skipped a row.
    """
    if not prepared:
        return {}
    # PostgreSQL: where the log ends, to find this insert's rows by primary key afterwards
    # (SQLite tells it after the insert, without a statement before every append).
    before = None if conn.dialect.name == "sqlite" else last_position(conn)
    inserted = insert_values(conn, _INSERT_HEAD, [p.row for p in prepared], _INSERT_TAIL)
    if inserted:
        _advance_heads(conn, prepared, inserted, before)
    if inserted == len(prepared):
        return {}
    keys = sorted(
        {(p.event.source, p.event.idempotency_key) for p in prepared if p.event.idempotency_key}
    )
    stored = _existing(conn, keys)
    duplicates: dict[int, Event] = {}
    for index, item in enumerate(prepared):
        event = item.event
        key = event.idempotency_key
        original = stored.get((event.source, key)) if key else None
        if original is not None and original.id != event.id:
            duplicates[index] = original
    return duplicates


_HEADS_HEAD = "INSERT INTO partition_heads (partition, head)"
_HEADS_TAIL = (
    "ON CONFLICT (partition) DO UPDATE SET head = CASE WHEN excluded.head > partition_heads.head"
    " THEN excluded.head ELSE partition_heads.head END"
)


def _advance_heads(
    conn: Connection, prepared: Sequence[Prepared], inserted: int, before: int | None
) -> None:
    """Move the heads of the partitions `inserted` new rows went to (in the same transaction).
    Upserts in partition order, so appenders that did run side by side could not deadlock."""
    if before is None:  # SQLite
        last = int(conn.exec_driver_sql("SELECT last_insert_rowid()").scalar_one())
        if inserted == len(prepared):
            # Every row went in, at consecutive positions ending at this connection's last row.
            first = last - inserted + 1
            heads = {p.row[4]: first + i for i, p in enumerate(prepared)}
            insert_values(conn, _HEADS_HEAD, sorted(heads.items()), _HEADS_TAIL)
            return
        # Each row offered took at most one position (AUTOINCREMENT spends one on a skipped
        # row too), so this insert's rows all lie after `last - len(prepared)`; older rows the
        # range may also take in only repeat heads already kept.
        before = last - len(prepared)
    # Rows were skipped (which row took which position is not known), or PostgreSQL: the
    # partitions of the positions after `before`, read by primary key.
    moved = conn.execute(
        select(events.c.partition, func.max(events.c.seq))
        .where(events.c.seq > before)
        .group_by(events.c.partition)
        .order_by(events.c.partition)
    ).all()
    insert_values(conn, _HEADS_HEAD, [(int(p), int(head)) for p, head in moved], _HEADS_TAIL)


def insert_prepared(conn: Connection, prepared: Sequence[Prepared]) -> list[Appended]:
    """Insert prepared events (see `insert_rows`): one `Appended` per event, in order, with the
    stored original in place of a duplicate."""
    duplicates = insert_rows(conn, prepared)
    return [
        Appended(duplicates.get(i, p.event), new=i not in duplicates)
        for i, p in enumerate(prepared)
    ]


def insert_events(
    conn: Connection, new_events: Iterable[NewEvent], partitions: int
) -> list[Appended]:
    """Prepare and insert validated events (for appends made inside a transaction)."""
    return insert_prepared(conn, prepare(new_events, partitions))


def type_clause(patterns: Sequence[str]) -> Any:
    """SQL for event-type patterns: `order.accepted`, `order.*` (a prefix), or `*` (all)."""
    if "*" in patterns:
        return None
    return or_(
        *(
            events.c.type.startswith(p[:-1], autoescape=True)
            if p.endswith("*")
            else events.c.type == p
            for p in patterns
        )
    )


@functools.lru_cache(maxsize=64)
def _tops_statement(count: int) -> Select[Any]:
    # One scalar subquery per partition, each a primary-key probe of its head.
    return select(
        *(
            func.coalesce(
                select(partition_heads.c.head)
                .where(partition_heads.c.partition == bindparam(f"p{i}", type_=Integer()))
                .scalar_subquery(),
                0,
            )
            for i in range(count)
        )
    )


@functools.lru_cache(maxsize=512)
def _events_statement(count: int, types: tuple[str, ...]) -> Select[Any]:
    """Up to `limit` events of each of `count` partitions, from one primary-key range scan of
    the log (`lo`, `hi`]: each partition's own bounds (`after{i}`, `top{i}`) are `CASE` arms,
    NULL (no row) for every other partition, and a row number per partition keeps the first
    `limit` of each. The log has no partition index to keep up on every append (see migration
    0008); a scan reads the other partitions' rows of the range inside the database."""
    partition = events.c.partition
    arms = [(partition == bindparam(f"p{i}", type_=Integer())) for i in range(count)]
    after = case(*((arm, bindparam(f"after{i}", type_=BigInteger())) for i, arm in enumerate(arms)))
    top = case(*((arm, bindparam(f"top{i}", type_=BigInteger())) for i, arm in enumerate(arms)))
    number = func.row_number().over(partition_by=partition, order_by=events.c.seq)
    # Ranked on the narrow (position, partition) pairs, then joined back by position: the
    # window's sort does not carry whole rows.
    query = select(events.c.seq, number.label("n")).where(
        events.c.seq > bindparam("lo", type_=BigInteger()),
        events.c.seq <= bindparam("hi", type_=BigInteger()),
        events.c.seq > after,
        events.c.seq <= top,
    )
    clause = type_clause(types)
    if clause is not None:
        query = query.where(clause)
    ranked = query.subquery()
    return (
        select(partition, *EVENT_COLUMNS)
        .join_from(ranked, events, events.c.seq == ranked.c.seq)
        .where(ranked.c.n <= bindparam("limit", type_=Integer()))
    )


@functools.lru_cache(maxsize=128)
def _any_statement(types: tuple[str, ...]) -> Select[Any] | None:
    """Whether any event of `types` lies in the log's range (`lo`, `hi`], whatever its
    partition: one pass over the range testing the type alone, which costs a fraction of the
    ranked scan's per-row bounds. None for every type."""
    clause = type_clause(types)
    if clause is None:
        return None
    return (
        select(events.c.seq)
        .where(
            events.c.seq > bindparam("lo", type_=BigInteger()),
            events.c.seq <= bindparam("hi", type_=BigInteger()),
            clause,
        )
        .limit(1)
    )


def _scans(moved: list[int], positions: Mapping[int, int]) -> list[list[int]]:
    """Moved partitions in scans: by position, each scan taking up to `_PARTS_PER_STATEMENT`
    partitions within `_WINDOW` of its first. Each partition's own bounds make any grouping
    correct; this one keeps a scan to at most twice the window of the log, however far apart
    the positions."""
    scans: list[list[int]] = []
    for partition in sorted(moved, key=positions.__getitem__):
        if (
            scans
            and len(scans[-1]) < _PARTS_PER_STATEMENT
            and positions[partition] - positions[scans[-1][0]] <= _WINDOW
        ):
            scans[-1].append(partition)
        else:
            scans.append([partition])
    return scans


def padded(chunk: list[int]) -> list[int]:
    """`chunk` and as many absent partitions (negative numbers) as make its length a power of
    two, so statements over partitions come in a few shapes (each compiled once)."""
    size = 1 << (len(chunk) - 1).bit_length()
    return chunk + [-1 - i for i in range(size - len(chunk))]


def read_partitions(
    conn: Connection, positions: Mapping[int, int], limit: int, types: Sequence[str] = ("*",)
) -> dict[int, tuple[list[Event], int]]:
    """For each partition (mapped to the position read so far): up to `limit` events whose
    type matches `types` after that position, and the position read up to.

    Events of other types are skipped inside the database: when fewer than `limit` match, the
    reader has seen everything up to the partition's last position (visibility follows position
    order under the append lock), so the cursor can move past them. A partition is read at most
    `_WINDOW` positions past its position per call. One statement per 64 partitions for their
    heads, then one range scan per group of moved partitions whose positions are near (usually
    one: consumers keep up), skipped when no event of `types` lies in its range.

    The statements are built once per shape and reused: building and compiling one holds the GIL
    far longer than running it takes. Partitions are read in counts that are powers of
    two (padded with absent ones that match nothing), so a consumer compiles at most seven
    shapes, not one for every number of partitions that happened to move.
    """
    found: dict[int, list[Event]] = {partition: [] for partition in positions}
    top_of: dict[int, int] = {}
    patterns = tuple(sorted(set(types)))
    order = list(positions)
    moved: list[int] = []
    for start in range(0, len(order), _PARTS_PER_STATEMENT):
        chunk = padded(order[start : start + _PARTS_PER_STATEMENT])
        tops = conn.execute(
            _tops_statement(len(chunk)), {f"p{i}": p for i, p in enumerate(chunk)}
        ).one()
        for partition, top in zip(chunk, tops, strict=True):
            if partition >= 0:
                top_of[partition] = min(int(top), positions[partition] + _WINDOW)
        moved += [p for p in chunk if p >= 0 and top_of[p] > positions[p]]
    any_matching = _any_statement(patterns) if moved else None
    for scan in _scans(moved, positions):
        chunk = padded(scan)
        params: dict[str, int] = {
            "limit": limit,
            "lo": min(positions[p] for p in scan),
            "hi": max(top_of[p] for p in scan),
        }
        # A group whose types the range does not hold (most groups, for most of the log)
        # moves past it without the ranked scan.
        if any_matching is not None and conn.execute(any_matching, params).first() is None:
            continue
        for i, partition in enumerate(chunk):
            params[f"p{i}"] = partition
            params[f"after{i}"] = positions.get(partition, 0)
            params[f"top{i}"] = top_of.get(partition, 0)
        statement = _events_statement(len(chunk), patterns)
        for row in fetch_rows(conn, statement, params, json_columns=("data",)):
            partition, seq, id_, type_, source, subject, time_, data, trace, key, at = row
            found[partition].append(
                Event(id_, type_, source, subject, parse_time(time_), data, trace, key, at, seq)
            )
    out: dict[int, tuple[list[Event], int]] = {}
    for partition, after in positions.items():
        rows = sorted(found[partition], key=lambda e: e.position)
        read_to = rows[-1].position if len(rows) == limit else max(after, top_of[partition])
        out[partition] = (rows, read_to)
    return out


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
    clause = type_clause(types) if types else None
    if clause is not None:
        query = query.where(clause)
    rows = conn.execute(query.order_by(events.c.seq).limit(limit))
    return [row_to_event(row) for row in rows]


def read_last(conn: Connection, count: int) -> list[Event]:
    """The newest `count` events, oldest first."""
    rows = conn.execute(select(*EVENT_COLUMNS).order_by(events.c.seq.desc()).limit(count)).all()
    return [row_to_event(row) for row in reversed(rows)]


def last_position(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(events.c.seq), 0))).scalar_one())


def find_event(conn: Connection, event_id: str) -> Event | None:
    row = conn.execute(select(*EVENT_COLUMNS).where(events.c.id == event_id)).first()
    return row_to_event(row) if row else None
