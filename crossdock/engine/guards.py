"""Guards: mutual exclusion by natural key across every node sharing the database.

A flow takes a guard around "look it up in the external system, create it if missing" so that two
nodes (or two batches of one node) never both create the same customer, sale order, invoice…
Only one holder of a key at a time; the next holder looks up again and finds what was made.

- PostgreSQL: transaction-scoped advisory locks (``pg_advisory_xact_lock``) on a connection of
  the guard's own, one 64-bit lock per key, taken in ascending order (so two holders of
  overlapping key sets cannot deadlock). The server frees them when the transaction ends, and
  when the holder's session dies: a killed node's guards are free as soon as its connection is
  gone, and TCP keepalives bound how long a node cut off from the network keeps them.
- SQLite (one machine): ``flock`` on one of ``SLOTS`` lock files per kind of key (the part before
  the first ``:``) beside the database, chosen by
  the key's hash; the kernel frees them when the process dies. Two keys may share a slot: they
  then wait for each other, which is only slower. Tasks of one process take a slot's
  ``asyncio.Lock`` before its file, so they wait for each other without polling the file: only
  holders in other processes are polled for.

Keys are strings naming the effect, e.g. ``customer:shop:C-1`` or ``sale_order:shop:WS-1``.
Guards nest: a task holding keys may take more inside (a batch's sale orders, then their
customers). What the task already holds (a lock id, or a SQLite slot two keys share) is not taken
again, since a second lock on it from the same task would wait for itself forever.
A guard that cannot be had because the database is unreachable raises :class:`Unavailable`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import fcntl
import hashlib
import os
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import structlog
from psycopg.conninfo import make_conninfo

from crossdock.errors import Unavailable

log = structlog.get_logger(__name__)

SLOTS = 1024
POLL_S = (0.005, 0.2)  # first and longest wait between attempts on a busy SQLite slot
KEEPALIVE = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3}
SERVER_KEEPALIVE = (
    "SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3"
)
IDLE_CONNECTIONS = 8
# One round trip for all the keys, taken in ascending order (the subquery's order)
LOCK_ALL = (
    "SELECT count(pg_advisory_xact_lock(k)) "
    "FROM (SELECT k FROM unnest(%s::bigint[]) AS k ORDER BY k) AS ordered"
)


def slot_of(key: str) -> str:
    """The SQLite lock slot of a key: slots are per kind of key, so that a guard nested inside
    another (customers inside sale orders) never shares a slot with an outer guard of another
    batch, which would let two batches each hold what the other waits for."""
    return f"{key.split(':', 1)[0]}.{lock_id(key) % SLOTS:04d}"


def lock_id(key: str) -> int:
    """The signed 64-bit advisory lock of a key (stable across processes and versions)."""
    digest = hashlib.blake2b(key.encode(), digest_size=8, person=b"crossdock-guard").digest()
    return int.from_bytes(digest, "big", signed=True)


@contextlib.contextmanager
def _nested(held: contextvars.ContextVar[frozenset[Any]], wanted: set[Any]) -> Iterator[list[Any]]:
    """The locks of ``wanted`` this task does not hold yet (sorted), marked held while inside."""
    outer = held.get()
    new = sorted(wanted - outer)
    held.set(outer | frozenset(new))
    try:
        yield new
    finally:
        held.set(outer)


class PostgresGuards:
    """Advisory locks on connections kept for guards only (a holder may wait on the ERP for a
    while: it must not take a connection the engine's writer or readers need)."""

    def __init__(self, conninfo: str) -> None:
        self._conninfo = make_conninfo(conninfo, **KEEPALIVE)
        self._idle: list[psycopg.AsyncConnection] = []
        self._held: contextvars.ContextVar[frozenset[Any]] = contextvars.ContextVar(
            "pg_guards_held", default=frozenset()
        )

    async def _connection(self) -> psycopg.AsyncConnection:
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed:
                return conn
        try:
            conn = await psycopg.AsyncConnection.connect(self._conninfo)
            await conn.execute(SERVER_KEEPALIVE)
            await conn.commit()
        except psycopg.OperationalError as exc:
            raise Unavailable(f"the database is unreachable: {exc}", 1.0) from exc
        return conn

    @contextlib.asynccontextmanager
    async def hold(self, keys: Iterable[str]) -> AsyncIterator[None]:
        with _nested(self._held, {lock_id(k) for k in keys}) as ids:
            if not ids:
                yield
                return
            conn = await self._locked(ids, reused=bool(self._idle))
            try:
                yield
            finally:
                await self._release(conn)

    async def _release(self, conn: psycopg.AsyncConnection) -> None:
        try:
            await conn.commit()  # ends the transaction: the locks are free
        except psycopg.Error as exc:
            # the session is gone, and its locks with it
            log.warning("engine.guard_release_failed", error=repr(exc))
            await conn.close()
        else:
            if len(self._idle) < IDLE_CONNECTIONS:
                self._idle.append(conn)
            else:
                await conn.close()

    async def _locked(self, ids: list[int], *, reused: bool) -> psycopg.AsyncConnection:
        """A connection whose transaction holds the locks ``ids``; a kept connection that the
        server dropped (a restart) is replaced once."""
        conn = await self._connection()
        try:
            await conn.execute(LOCK_ALL, (ids,))
        except psycopg.OperationalError as exc:
            await conn.close()
            if reused:
                return await self._locked(ids, reused=bool(self._idle))
            raise Unavailable(f"the database is unreachable: {exc}", 1.0) from exc
        except BaseException:
            await conn.close()
            raise
        return conn

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.close()


class FileGuards:
    """``flock`` on lock files beside a SQLite database (every node of SQLite is on one
    machine)."""

    def __init__(self, directory: Path) -> None:
        self._dir = directory
        self._made = False
        self._local: dict[str, asyncio.Lock] = {}
        self._held: contextvars.ContextVar[frozenset[Any]] = contextvars.ContextVar(
            "file_guards_held", default=frozenset()
        )

    @contextlib.asynccontextmanager
    async def hold(self, keys: Iterable[str]) -> AsyncIterator[None]:
        with _nested(self._held, {slot_of(k) for k in keys}) as slots:
            if slots and not self._made:
                self._dir.mkdir(parents=True, exist_ok=True)
                self._made = True
            locked: list[asyncio.Lock] = []
            held: list[int] = []
            try:
                for slot in slots:
                    local = self._local.setdefault(slot, asyncio.Lock())
                    await local.acquire()
                    locked.append(local)
                    held.append(await self._take(self._dir / f"{slot}.lock"))
                yield
            finally:
                for fd in reversed(held):
                    os.close(fd)  # closing the file releases its lock
                for local in reversed(locked):
                    local.release()

    @staticmethod
    async def _take(path: Path) -> int:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except FileNotFoundError:  # the directory was removed while the hub ran
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        wait = POLL_S[0]
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return fd
                except BlockingIOError:
                    await asyncio.sleep(wait)
                    wait = min(wait * 2, POLL_S[1])
        except BaseException:
            os.close(fd)
            raise

    async def close(self) -> None:
        return None


class LocalGuards:
    """In-process locks, for a database only this process uses (SQLite in memory)."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._held: contextvars.ContextVar[frozenset[Any]] = contextvars.ContextVar(
            "local_guards_held", default=frozenset()
        )

    @contextlib.asynccontextmanager
    async def hold(self, keys: Iterable[str]) -> AsyncIterator[None]:
        with _nested(self._held, {slot_of(k) for k in keys}) as slots:
            async with contextlib.AsyncExitStack() as stack:
                for slot in slots:
                    await stack.enter_async_context(self._locks.setdefault(slot, asyncio.Lock()))
                yield

    async def close(self) -> None:
        return None


Guards = PostgresGuards | FileGuards | LocalGuards
