"""Where each consumer group stands, as SQL on an open connection: partition cursors and their
leases, parked subjects waiting for a retry, and dead letters.

Every state change is fenced by a lease token: a worker whose lease expired (it was paused, or
another node took over after a crash) finds its token gone, its transaction is rolled back, and
nothing it did in the hub's database survives.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    Connection,
    Float,
    Integer,
    Select,
    String,
    Table,
    Update,
    and_,
    bindparam,
    case,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from crossdock.engine.database import Dialect
from crossdock.engine.envelope import Event
from crossdock.engine.log import (
    last_position,
    padded,
    read_partitions,
    read_positions,
    row_to_event,
    type_clause,
)
from crossdock.engine.tables import (
    cursors,
    dead_letters,
    events,
    parked_events,
    parked_subjects,
    partition_heads,
)
from crossdock.errors import CrossdockError


class LeaseLost(CrossdockError):
    """Another worker holds the lease now; this worker's transaction must not commit."""


@dataclass(frozen=True, slots=True)
class Lease:
    owner: str
    token: str
    until: float


@dataclass(slots=True)
class PartitionClaim:
    """Partitions of one consumer group leased together, with how far each has been read."""

    group: str
    positions: dict[int, int]
    lease: Lease


@dataclass(frozen=True, slots=True)
class SubjectClaim:
    group: str
    subject: str
    lease: Lease


@dataclass(frozen=True, slots=True)
class ParkedEvent:
    event: Event
    attempts: int
    errors: list[dict[str, Any]]


def insert_ignore(dialect: Dialect, table: Table, rows: list[dict[str, Any]]) -> Any:
    """An INSERT that skips rows whose primary key exists (both backends)."""
    if dialect == "postgresql":
        return pg_insert(table).values(rows).on_conflict_do_nothing()
    return sqlite_insert(table).values(rows).on_conflict_do_nothing()


def ensure_cursors(
    conn: Connection, dialect: Dialect, group: str, partitions: int, start_at: str
) -> None:
    start = last_position(conn) if start_at == "latest" else 0
    rows = [{"group_name": group, "partition": p, "position": start} for p in range(partitions)]
    conn.execute(insert_ignore(dialect, cursors, rows))


def forget_group(conn: Connection, group: str) -> None:
    """Drop a group's cursors and parked events (a group that will not come back)."""
    for table in (cursors, parked_subjects, parked_events):
        conn.execute(delete(table).where(table.c.group_name == group))


def _free(table: Table, now: Any) -> Any:
    return or_(table.c.lease_until.is_(None), table.c.lease_until < now)


def _pending_partition_filter(groups: Any, now: Any) -> Any:
    has_events = (
        select(partition_heads.c.head)
        .where(
            partition_heads.c.partition == cursors.c.partition,
            partition_heads.c.head > cursors.c.position,
        )
        .exists()
    )
    return and_(cursors.c.group_name.in_(groups), _free(cursors, now), has_events)


@functools.lru_cache(maxsize=1)
def _has_work_statements() -> tuple[Select[Any], Select[Any], Select[Any]]:
    # Built once with bound parameters: every idle worker asks this several times a second.
    groups: BindParameter[list[str]] = bindparam("groups", expanding=True)
    now = bindparam("now", type_=Float())
    pending = select(cursors.c.partition).where(_pending_partition_filter(groups, now)).limit(1)
    waiting = select(parked_events.c.seq).where(parked_events.c.group_name.in_(groups)).limit(1)
    due = (
        select(parked_subjects.c.subject)
        .where(
            parked_subjects.c.group_name.in_(groups),
            parked_subjects.c.next_at <= now,
            _free(parked_subjects, now),
        )
        .limit(1)
    )
    return pending, waiting, due


def has_work(
    conn: Connection, groups: Sequence[str], now: float, *, parked_due: bool = True
) -> bool:
    """Read-only check before trying a claim, so idle workers do not take the write lock.

    `parked_due=False` counts every parked event, due or not (is anything left at all?)."""
    pending, waiting, due = _has_work_statements()
    params = {"groups": list(groups), "now": now}
    if conn.execute(pending, params).first() is not None:
        return True
    return conn.execute(due if parked_due else waiting, params).first() is not None


@functools.lru_cache(maxsize=8)
def _claim_statements(dialect: Dialect) -> tuple[Select[Any], Update]:
    now = bindparam("now", type_=Float())
    candidates = (
        select(cursors.c.group_name, cursors.c.partition)
        .where(_pending_partition_filter(bindparam("groups", expanding=True), now))
        .order_by(func.random())
        .limit(bindparam("limit", type_=Integer()))
    )
    if dialect == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    claim = (
        update(cursors)
        .where(
            cursors.c.group_name == bindparam("group", type_=String()),
            cursors.c.partition.in_(bindparam("wanted", expanding=True)),
            _free(cursors, now),
        )
        .values(
            lease_owner=bindparam("owner", type_=String()),
            lease_token=bindparam("token", type_=String()),
            lease_until=bindparam("until", type_=Float()),
        )
        .returning(cursors.c.partition, cursors.c.position)
    )
    return candidates, claim


def claim_partitions(
    conn: Connection,
    dialect: Dialect,
    groups: Sequence[str],
    lease: Lease,
    now: float,
    limit: int,
    *,
    caps: Mapping[str, int] | None = None,
) -> PartitionClaim | None:
    """Lease up to `limit` partitions with unread events, all of one group, picked at random."""
    groups = below_cap(conn, dialect, groups, caps, now)
    if not groups:
        return None
    candidates, claim = _claim_statements(dialect)
    rows = conn.execute(
        candidates, {"groups": list(groups), "now": now, "limit": limit * len(groups)}
    ).all()
    if not rows:
        return None
    group = rows[0].group_name
    wanted = [row.partition for row in rows if row.group_name == group][:limit]
    claimed = conn.execute(
        claim,
        {
            "group": group,
            "wanted": wanted,
            "now": now,
            "owner": lease.owner,
            "token": lease.token,
            "until": lease.until,
        },
    ).all()
    if not claimed:
        return None
    return PartitionClaim(group, {row.partition: row.position for row in claimed}, lease)


def read_claimed(
    conn: Connection, claim: PartitionClaim, per_partition: int, types: Sequence[str]
) -> tuple[dict[int, tuple[list[Event], int]], set[str]]:
    """The next matching events of each claimed partition with the position read up to, and
    which of their subjects are parked."""
    scanned = read_partitions(conn, claim.positions, per_partition, types)
    subjects = {e.subject for found, _ in scanned.values() for e in found}
    return scanned, parked_among(conn, claim.group, subjects) if subjects else set()


def claim_subject(
    conn: Connection,
    dialect: Dialect,
    groups: Sequence[str],
    lease: Lease,
    now: float,
    *,
    caps: Mapping[str, int] | None = None,
) -> SubjectClaim | None:
    """Lease the parked subject whose retry is most overdue."""
    groups = below_cap(conn, dialect, groups, caps, now)
    if not groups:
        return None
    candidate = (
        select(parked_subjects.c.group_name, parked_subjects.c.subject)
        .where(
            parked_subjects.c.group_name.in_(groups),
            parked_subjects.c.next_at <= now,
            _free(parked_subjects, now),
        )
        .order_by(parked_subjects.c.next_at)
        .limit(1)
    )
    if dialect == "postgresql":
        candidate = candidate.with_for_update(skip_locked=True)
    row = conn.execute(candidate).first()
    if row is None:
        return None
    claimed = conn.execute(
        update(parked_subjects)
        .where(
            parked_subjects.c.group_name == row.group_name,
            parked_subjects.c.subject == row.subject,
            _free(parked_subjects, now),
        )
        .values(lease_owner=lease.owner, lease_token=lease.token, lease_until=lease.until)
    )
    if claimed.rowcount != 1:
        return None
    return SubjectClaim(row.group_name, row.subject, lease)


def below_cap(
    conn: Connection,
    dialect: Dialect,
    groups: Sequence[str],
    caps: Mapping[str, int] | None,
    now: float,
) -> list[str]:
    """`groups` without those holding as many live leases as their cap (`max_leases`), counted
    over every process: each partition claim (one token) and each leased parked subject.

    On PostgreSQL a transaction-scoped advisory lock per capped group (taken in name order) makes
    concurrent claims of that group take turns, so two cannot both see room for one more lease;
    it blocks no other statement."""
    capped = sorted(g for g in groups if caps and g in caps)
    if not capped:
        return list(groups)
    if dialect == "postgresql":
        for group in capped:
            conn.execute(
                select(func.pg_advisory_xact_lock(func.hashtext(f"crossdock.engine.cap:{group}")))
            )
    held: dict[str, int] = dict.fromkeys(capped, 0)
    live = (
        (cursors, func.count(func.distinct(cursors.c.lease_token))),
        (parked_subjects, func.count()),
    )
    for table, count in live:
        rows = conn.execute(
            select(table.c.group_name, count)
            .where(
                table.c.group_name.in_(capped),
                table.c.lease_token.is_not(None),
                table.c.lease_until >= now,
            )
            .group_by(table.c.group_name)
        )
        for group, leases in rows:
            held[group] += int(leases)
    assert caps is not None
    return [g for g in groups if g not in held or held[g] < caps[g]]


def renew_partitions(conn: Connection, claim: PartitionClaim, until: float) -> None:
    _update_leased(conn, claim, None, until, release=False)


def renew_subject(conn: Connection, claim: SubjectClaim, until: float) -> None:
    result = conn.execute(
        update(parked_subjects)
        .where(
            parked_subjects.c.group_name == claim.group,
            parked_subjects.c.subject == claim.subject,
            parked_subjects.c.lease_token == claim.lease.token,
        )
        .values(lease_until=until)
    )
    if result.rowcount != 1:
        raise LeaseLost(f"{claim.group}/{claim.subject}")


def advance_partitions(
    conn: Connection, claim: PartitionClaim, positions: dict[int, int], keep_until: float | None
) -> None:
    """Move the cursors and keep (renew) or release the leases; fenced by the lease token."""
    _update_leased(conn, claim, positions, keep_until, release=keep_until is None)


def pause_partitions(conn: Connection, claim: PartitionClaim, until: float) -> None:
    """Release the leases without moving the cursors; nobody claims them again before `until`
    (the system the group's handler needs is down)."""
    _update_leased(conn, claim, None, until, release=True)


@functools.lru_cache(maxsize=256)
def _leased_update(count: int, moves: bool, release: bool) -> Update:
    """One UPDATE of `count` leased cursors of a group, fenced by the lease token; with `moves`,
    each gets its own position."""
    partitions = [bindparam(f"p{i}", type_=Integer()) for i in range(count)]
    values: dict[str, Any] = {"lease_until": bindparam("until", type_=Float())}
    if moves:
        values["position"] = case(
            *(
                (cursors.c.partition == partition, bindparam(f"to{i}", type_=BigInteger()))
                for i, partition in enumerate(partitions)
            ),
            else_=cursors.c.position,
        )
    if release:
        values.update(lease_owner=None, lease_token=None)
    return (
        update(cursors)
        .where(
            cursors.c.group_name == bindparam("group", type_=String()),
            cursors.c.lease_token == bindparam("token", type_=String()),
            cursors.c.partition.in_(partitions),
        )
        .values(**values)
    )


def _update_leased(
    conn: Connection,
    claim: PartitionClaim,
    positions: dict[int, int] | None,
    until: float | None,
    *,
    release: bool,
) -> None:
    """Raises :class:`LeaseLost` unless every partition of the claim is still this lease's."""
    order = list(claim.positions)
    params: dict[str, Any] = {"group": claim.group, "token": claim.lease.token, "until": until}
    shape = padded(order)  # absent partitions match no cursor
    for i, partition in enumerate(shape):
        params[f"p{i}"] = partition
        if positions is not None:
            params[f"to{i}"] = positions.get(partition, 0)
    statement = _leased_update(len(shape), positions is not None, release)
    if conn.execute(statement, params).rowcount != len(order):
        raise LeaseLost(f"{claim.group}/{','.join(map(str, order))}")


_PARKED_AMONG = select(parked_subjects.c.subject).where(
    parked_subjects.c.group_name == bindparam("group", type_=String()),
    parked_subjects.c.subject.in_(bindparam("subjects", expanding=True)),
)


def parked_among(conn: Connection, group: str, subjects: Iterable[str]) -> set[str]:
    wanted = sorted(set(subjects))
    found: set[str] = set()
    for start in range(0, len(wanted), 400):
        rows = conn.execute(
            _PARKED_AMONG, {"group": group, "subjects": wanted[start : start + 400]}
        )
        found.update(row.subject for row in rows)
    return found


def park(
    conn: Connection,
    dialect: Dialect,
    group: str,
    event: Event,
    *,
    attempts: int,
    errors: list[dict[str, Any]],
    next_at: float,
    now: float,
) -> None:
    """Queue an event behind its subject's retry; creates the parked subject if needed.

    An existing subject keeps its schedule; a new one is due at `next_at`.
    """
    conn.execute(
        insert_ignore(
            dialect,
            parked_subjects,
            [{"group_name": group, "subject": event.subject, "next_at": next_at}],
        )
    )
    conn.execute(
        insert_ignore(
            dialect,
            parked_events,
            [
                {
                    "group_name": group,
                    "seq": event.position,
                    "subject": event.subject,
                    "attempts": attempts,
                    "errors": json.dumps(errors),
                    "parked_at": now,
                }
            ],
        )
    )


def read_parked(conn: Connection, group: str, subject: str, limit: int) -> list[ParkedEvent]:
    rows = conn.execute(
        select(parked_events.c.seq, parked_events.c.attempts, parked_events.c.errors)
        .where(parked_events.c.group_name == group, parked_events.c.subject == subject)
        .order_by(parked_events.c.seq)
        .limit(limit)
    ).all()
    by_seq = read_positions(conn, [row.seq for row in rows])
    return [
        ParkedEvent(by_seq[row.seq], row.attempts, json.loads(row.errors))
        for row in rows
        if row.seq in by_seq
    ]


def unpark(conn: Connection, group: str, positions: Sequence[int]) -> None:
    if positions:
        conn.execute(
            delete(parked_events).where(
                parked_events.c.group_name == group, parked_events.c.seq.in_(list(positions))
            )
        )


def record_retry(
    conn: Connection, group: str, position: int, attempts: int, errors: list[dict[str, Any]]
) -> None:
    conn.execute(
        update(parked_events)
        .where(parked_events.c.group_name == group, parked_events.c.seq == position)
        .values(attempts=attempts, errors=json.dumps(errors))
    )


def settle_subject(conn: Connection, claim: SubjectClaim, next_at: float) -> None:
    """Release the subject's lease; drop it when its queue is empty, else schedule the head."""
    remaining = conn.execute(
        select(func.count())
        .select_from(parked_events)
        .where(parked_events.c.group_name == claim.group, parked_events.c.subject == claim.subject)
    ).scalar_one()
    fence = and_(
        parked_subjects.c.group_name == claim.group,
        parked_subjects.c.subject == claim.subject,
        parked_subjects.c.lease_token == claim.lease.token,
    )
    if remaining:
        result = conn.execute(
            update(parked_subjects)
            .where(fence)
            .values(next_at=next_at, lease_owner=None, lease_token=None, lease_until=None)
        )
    else:
        result = conn.execute(delete(parked_subjects).where(fence))
    if result.rowcount != 1:
        raise LeaseLost(f"{claim.group}/{claim.subject}")


def bury(
    conn: Connection,
    group: str,
    event: Event,
    attempts: int,
    errors: list[dict[str, Any]],
    now: float,
) -> None:
    """Move an event to the dead letters with its whole history of attempts."""
    conn.execute(
        dead_letters.insert().values(
            group_name=group,
            seq=event.position,
            event_id=event.id,
            event_type=event.type,
            subject=event.subject,
            attempts=attempts,
            errors=json.dumps(errors),
            dead_at=now,
        )
    )


def skip_unread(conn: Connection, group: str) -> None:
    """Move every cursor of `group` to the end of the log: what was appended so far is never
    handed to it (a group switched off for a while that must not catch up). Parked events stay."""
    conn.execute(
        update(cursors).where(cursors.c.group_name == group).values(position=last_position(conn))
    )


def _unread_query(columns: Sequence[Any], group: str, types: Sequence[str]) -> Select[Any]:
    lowest = (
        select(func.min(cursors.c.position)).where(cursors.c.group_name == group).scalar_subquery()
    )
    query = (
        select(*columns)
        .select_from(events.join(cursors, events.c.partition == cursors.c.partition))
        .where(
            cursors.c.group_name == group,
            events.c.seq > lowest,
            events.c.seq > cursors.c.position,
        )
    )
    clause = type_clause(types)
    return query if clause is None else query.where(clause)


def unread(conn: Connection, group: str, types: Sequence[str], limit: int) -> list[Event]:
    """The newest events of `types` that `group` has not read yet (newest first)."""
    query = _unread_query(list(events.c), group, types).order_by(events.c.seq.desc()).limit(limit)
    return [row_to_event(row) for row in conn.execute(query).all()]


def count_unread(conn: Connection, group: str, types: Sequence[str]) -> int:
    """How many events of `types` `group` has not read yet."""
    return int(conn.execute(_unread_query([func.count()], group, types)).scalar_one())


def parked_positions(conn: Connection, group: str) -> dict[int, int]:
    """Each parked event of `group`: its position and the attempts counted so far."""
    rows = conn.execute(
        select(parked_events.c.seq, parked_events.c.attempts).where(
            parked_events.c.group_name == group
        )
    )
    return {int(row.seq): int(row.attempts) for row in rows}
