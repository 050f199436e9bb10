"""Group commit: every write of a process goes through one queue and shares transactions.

Callers submit an operation (a function of an open connection) and await its result. The writer
takes whatever is pending, runs it all in one transaction — each operation in its own savepoint, so
one failing operation does not undo the others — commits once, then answers every caller. Under
load, one commit (one fsync) covers hundreds of appends and acknowledgements; when idle, an
operation is committed as soon as it arrives. The pending work is taken once the transaction has
begun, on the database thread: when processes share a SQLite file, what arrives while this
process waits for the file's write lock joins the commit it waits for.

Writes of one kind (`Batched`: appends, order intake, …) from many callers are merged into one
set-based run: one multi-row insert instead of a round of statements per caller.

On PostgreSQL, a transaction that appends first takes a transaction-scoped advisory lock, so log
positions become visible in commit order and a consumer reading `seq > position` can never skip
a late-committing event.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import structlog
from sqlalchemy import Connection, text

from crossdock.engine.database import Database
from crossdock.engine.envelope import Event, NewEvent
from crossdock.engine.log import Prepared, insert_rows, prepare
from crossdock.engine.observer import NullObserver, Observer

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


Item = TypeVar("Item")
R = TypeVar("R")


@dataclass(frozen=True)
class Batched(Generic[Item, R]):
    """A kind of write whose concurrent calls run together: `run(conn, items)` answers one result
    per item, in order, with set-based statements instead of one round of statements per item.
    If the merged run fails, each item runs alone, so one bad item fails only its caller."""

    name: str
    run: Callable[[Connection, list[Item]], list[R]]
    appends: bool = False


@dataclass
class _Pending(Generic[Item, R]):
    kind: Batched[Item, R]
    items: list[Item] = field(default_factory=list)
    futures: list[asyncio.Future[R]] = field(default_factory=list)


def _insert_many(conn: Connection, items: list[list[Prepared]]) -> list[list[Event]]:
    prepared = list(itertools.chain.from_iterable(items))
    # Appenders want the events (the stored original for a duplicate), not an `Appended` each.
    duplicates = insert_rows(conn, prepared)
    if not duplicates:
        return [[p.event for p in item] for item in items]
    events = [duplicates.get(i, p.event) for i, p in enumerate(prepared)]
    out, start = [], 0
    for item in items:
        out.append(events[start : start + len(item)])
        start += len(item)
    return out


APPEND: Batched[list[Prepared], list[Event]] = Batched("append", _insert_many, appends=True)


class Writer:
    """The single writer of a process (see module doc)."""

    def __init__(
        self,
        db: Database,
        partitions: int,
        on_commit: Callable[[bool], None] | None = None,
        observer: Observer | None = None,
    ) -> None:
        self._db = db
        self._observer: Observer = observer or NullObserver()
        self._partitions = partitions
        self._on_commit = on_commit
        self._ops: list[_Op[Any]] = []
        self._batched: dict[str, _Pending[Any, Any]] = {}
        self._pending_lock = threading.Lock()  # the loop adds, the database thread takes
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
        with self._pending_lock:
            heapq.heappush(self._ops, _Op((-priority, next(self._order)), fn, future, appends))
        self._wake.set()
        return await future

    async def submit_batched(self, kind: Batched[Item, R], item: Item) -> R:
        """Run `item` with every other pending item of the same kind in the next transaction."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        with self._pending_lock:
            pending = self._batched.get(kind.name)
            if pending is None:
                pending = self._batched[kind.name] = _Pending(kind)
            pending.items.append(item)
            pending.futures.append(future)
        self._wake.set()
        return await future

    def waiting_above(self, priority: int) -> bool:
        """Whether work more urgent than `priority` waits for the next commit: operations of a
        higher priority, or merged writes (appends, order intake), which always come first."""
        return bool(self._batched) or any(-op.sort_key[0] > priority for op in self._ops)

    async def append(self, new_events: Sequence[NewEvent]) -> list[Event]:
        """Append events; returns them once they are committed (merged with concurrent appends),
        the stored original in place of a duplicate."""
        for new in new_events:
            new.validate()
        return await self.submit_batched(APPEND, prepare(new_events, self._partitions))

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._ops or self._batched:
                await self._commit_pending()
            if self._closing:
                return

    def _take(self) -> tuple[list[_Op[Any]], list[_Pending[Any, Any]]]:
        with self._pending_lock:
            count = min(len(self._ops), MAX_OPS_PER_COMMIT)
            ops = [heapq.heappop(self._ops) for _ in range(count)]
            batched, self._batched = list(self._batched.values()), {}
        return ops, batched

    async def _commit_pending(self) -> None:
        taken: list[tuple[list[_Op[Any]], list[_Pending[Any, Any]]]] = []

        def transaction(conn: Connection) -> tuple[list[list[tuple[bool, Any]]], list[Any]]:
            ops, batched = self._take()
            taken.append((ops, batched))
            return self._transaction(conn, batched, ops)

        started = time.perf_counter()
        try:
            results, outcomes = await self._db.write(transaction)
        except Exception as exc:  # the commit itself failed: nobody's work is durable
            ops, batched = taken[0] if taken else self._take()
            log.warning("engine.commit_failed", error=repr(exc), ops=len(ops))
            futures = [op.future for op in ops] + [f for p in batched for f in p.futures]
            for future in futures:
                if not future.done():
                    future.set_exception(exc)
            return
        ops, batched = taken[0]
        self.commits += 1
        self._observer.committed(
            time.perf_counter() - started, len(ops) + sum(len(p.items) for p in batched)
        )
        for op, (ok, value) in zip(ops, outcomes, strict=True):
            _settle(op.future, ok, value)
        for pending, answers in zip(batched, results, strict=True):
            for future, (ok, value) in zip(pending.futures, answers, strict=True):
                _settle(future, ok, value)
        if self._on_commit is not None:
            self._on_commit(_appends(ops, batched))

    def _transaction(
        self, conn: Connection, batched: list[_Pending[Any, Any]], ops: list[_Op[Any]]
    ) -> tuple[list[list[tuple[bool, Any]]], list[tuple[bool, Any]]]:
        if _appends(ops, batched) and self._db.is_postgres:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK_KEY})
            conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})
        results = [_run_batched(conn, pending) for pending in batched]
        outcomes = [_in_savepoint(conn, op.fn) for op in ops]
        return results, outcomes


def _appends(ops: list[_Op[Any]], batched: list[_Pending[Any, Any]]) -> bool:
    return any(p.kind.appends for p in batched) or any(op.appends for op in ops)


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


def _run_batched(conn: Connection, pending: _Pending[Any, Any]) -> list[tuple[bool, Any]]:
    """All items in one run; if that fails, each alone, so a bad item fails only its caller."""
    run = pending.kind.run
    items = pending.items
    ok, merged = _in_savepoint(conn, lambda c: run(c, items))
    if ok:
        if len(merged) != len(pending.items):
            raise RuntimeError(
                f"{pending.kind.name}: {len(merged)} results for {len(pending.items)} items"
            )
        return [(True, value) for value in merged]
    if len(pending.items) == 1:
        return [(False, merged)]
    answers: list[tuple[bool, Any]] = []
    for item in pending.items:

        def alone(c: Connection, one: Any = item) -> list[Any]:
            return run(c, [one])

        ok, value = _in_savepoint(conn, alone)
        answers.append((True, value[0]) if ok else (False, value))
    return answers


def _in_savepoint(conn: Connection, fn: Callable[[Connection], Any]) -> tuple[bool, Any]:
    savepoint = conn.begin_nested()
    try:
        value = fn(conn)
    except Exception as exc:
        savepoint.rollback()
        return False, exc
    savepoint.commit()
    return True, value
