"""Group commit: every write of a process goes through one queue and shares transactions.

Callers submit an operation (a function of an open connection) and await its result. The writer
takes whatever is pending, runs it all in one transaction — each operation in its own savepoint, so
one failing operation does not undo the others — commits once, then answers every caller. Under
load, one commit (one fsync) covers hundreds of appends and acknowledgements; when idle, an
operation is committed as soon as it arrives.

Appends from many callers are merged into a single multi-row insert. On PostgreSQL, a transaction
that appends first takes a transaction-scoped advisory lock, so log positions become visible in
commit order and a consumer reading `seq > position` can never skip a late-committing event.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Generic, TypeVar

import structlog
from sqlalchemy import Connection, text

from crossdock.engine.database import Database
from crossdock.engine.envelope import NewEvent
from crossdock.engine.log import Appended, Prepared, insert_prepared, prepare

T = TypeVar("T")
log = structlog.get_logger(__name__)

APPEND_LOCK_KEY = 0x43524F53  # "CROS"
NOTIFY_CHANNEL = "crossdock_events"
MAX_OPS_PER_COMMIT = 2000


@dataclass(order=True)
class _Op(Generic[T]):
    sort_key: tuple[int, int]
    fn: Callable[[Connection], T] = field(compare=False)
    future: asyncio.Future[T] = field(compare=False)
    appends: bool = field(compare=False, default=False)


@dataclass
class _AppendGroup:
    events: list[Prepared] = field(default_factory=list)
    waiters: list[tuple[int, int, asyncio.Future[list[Appended]]]] = field(default_factory=list)


class Writer:
    """The single writer of a process (see module doc)."""

    def __init__(
        self,
        db: Database,
        partitions: int,
        on_commit: Callable[[bool], None] | None = None,
    ) -> None:
        self._db = db
        self._partitions = partitions
        self._on_commit = on_commit
        self._ops: list[_Op[Any]] = []
        self._appends = _AppendGroup()
        self._order = itertools.count()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.commits = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="crossdock-writer")

    async def stop(self) -> None:
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task

    async def submit(
        self, fn: Callable[[Connection], T], *, priority: int = 0, appends: bool = False
    ) -> T:
        """Run `fn` inside the next group transaction; raises what `fn` raised."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._ops, _Op((-priority, next(self._order)), fn, future, appends))
        self._wake.set()
        return await future

    async def append(self, new_events: Sequence[NewEvent]) -> list[Appended]:
        """Append events; returns once they are committed (merged with concurrent appends)."""
        for new in new_events:
            new.validate()
        prepared = prepare(new_events, self._partitions)
        future: asyncio.Future[list[Appended]] = asyncio.get_running_loop().create_future()
        start = len(self._appends.events)
        self._appends.events.extend(prepared)
        self._appends.waiters.append((start, len(new_events), future))
        self._wake.set()
        return await future

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._ops or self._appends.events:
                await self._commit_pending()
            if self._closing:
                return

    async def _commit_pending(self) -> None:
        ops = [heapq.heappop(self._ops) for _ in range(min(len(self._ops), MAX_OPS_PER_COMMIT))]
        group, self._appends = self._appends, _AppendGroup()
        appends = bool(group.events) or any(op.appends for op in ops)
        try:
            appended, outcomes = await self._db.write(
                lambda conn: self._transaction(conn, group, ops, appends)
            )
        except Exception as exc:  # the commit itself failed: nobody's work is durable
            log.warning("engine.commit_failed", error=repr(exc), ops=len(ops))
            for op in ops:
                if not op.future.done():
                    op.future.set_exception(exc)
            for _, _, future in group.waiters:
                if not future.done():
                    future.set_exception(exc)
            return
        self.commits += 1
        for op, (ok, value) in zip(ops, outcomes, strict=True):
            if op.future.done():
                continue
            if ok:
                op.future.set_result(value)
            else:
                op.future.set_exception(value)
        for (_, _, future), result in zip(group.waiters, appended, strict=True):
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)
        if self._on_commit is not None:
            self._on_commit(appends)

    def _transaction(
        self,
        conn: Connection,
        group: _AppendGroup,
        ops: list[_Op[Any]],
        appends: bool,
    ) -> tuple[list[list[Appended] | Exception], list[tuple[bool, Any]]]:
        if appends and self._db.is_postgres:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK_KEY})
            conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})
        appended = self._insert_group(conn, group) if group.events else []
        outcomes = [_in_savepoint(conn, op.fn) for op in ops]
        return appended, outcomes

    def _insert_group(
        self, conn: Connection, group: _AppendGroup
    ) -> list[list[Appended] | Exception]:
        """One insert for every caller; if it fails, each caller's events alone, so one bad
        append (say, a reused event id) fails only its own caller."""
        ok, merged = _in_savepoint(conn, partial(insert_prepared, prepared=group.events))
        if ok:
            return [merged[start : start + count] for start, count, _ in group.waiters]
        results: list[list[Appended] | Exception] = []
        for start, count, _ in group.waiters:
            chunk = group.events[start : start + count]
            _, value = _in_savepoint(conn, partial(insert_prepared, prepared=chunk))
            results.append(value)
        return results


def _in_savepoint(conn: Connection, fn: Callable[[Connection], Any]) -> tuple[bool, Any]:
    savepoint = conn.begin_nested()
    try:
        value = fn(conn)
    except Exception as exc:
        savepoint.rollback()
        return False, exc
    savepoint.commit()
    return True, value
