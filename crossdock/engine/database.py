"""Database access for the engine: blocking SQLAlchemy Core connections run in threads.

One writer thread per process takes every write (the group-commit `Writer` feeds it whole
transactions), so a process never contends with itself for SQLite's write lock and each transaction
costs one thread hop. Reads go to a small pool of reader threads that serves higher-priority lanes
first when all readers are busy.

SQLite runs in WAL mode with `BEGIN IMMEDIATE` for writes (no lock upgrades, so no deadlocks between
processes) and a busy timeout; PostgreSQL uses psycopg 3.
"""

from __future__ import annotations

import asyncio
import fcntl
import itertools
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Literal, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool, QueuePool

T = TypeVar("T")
Dialect = Literal["sqlite", "postgresql"]


def normalize_url(url: str) -> str:
    """`postgresql://` means psycopg 3; `sqlite:///` stays as it is."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def dialect_of(url: str) -> Dialect:
    name = make_url(normalize_url(url)).get_backend_name()
    if name == "sqlite":
        return "sqlite"
    if name == "postgresql":
        return "postgresql"
    raise ValueError(
        f"database.url: unsupported backend {name!r} (use sqlite:/// or postgresql://)"
    )


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if (
        parsed.get_backend_name() != "sqlite"
        or not parsed.database
        or parsed.database == ":memory:"
    ):
        return None
    return Path(parsed.database)


# Commits checkpoint the WAL only as a safety net (~40 MB); `Database.checkpoint` does it in the
# background so that the copy into the database file stays off the commit path.
AUTOCHECKPOINT_PAGES = 10_000


def _sqlite_engine(url: str, *, immediate: bool, synchronous: str, pool_size: int) -> Engine:
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=2,
        connect_args={"check_same_thread": False, "timeout": 60},
    )
    # `conn.execute(insert(t), rows)` as multi-row VALUES statements rather than one step per
    # row (see `crossdock.engine.bulk`). Statements with ON CONFLICT stay `executemany`.
    engine.dialect.use_insertmanyvalues_wo_returning = True

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN IMMEDIATE below is what runs.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class _PriorityReaders:
    """A fixed pool of threads running read jobs, highest priority first, FIFO within a priority."""

    def __init__(self, threads: int, name: str) -> None:
        self._jobs: queue.PriorityQueue[tuple[int, int, Callable[[], None] | None]] = (
            queue.PriorityQueue()
        )
        self._order = itertools.count()
        self._threads = [
            threading.Thread(target=self._run, name=f"{name}-{i}", daemon=True)
            for i in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, priority: int, job: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(job())
            except BaseException as exc:  # handed to the awaiting coroutine
                future.set_exception(exc)

        self._jobs.put((-priority, next(self._order), run))
        return future

    def _run(self) -> None:
        while True:
            _, _, job = self._jobs.get()
            if job is None:
                return
            job()

    def shutdown(self) -> None:
        for _ in self._threads:
            self._jobs.put((1 << 30, next(self._order), None))
        for thread in self._threads:
            thread.join(timeout=10)


class _WritersQueue:
    """Writers of one SQLite file, across processes, queue on an exclusive `flock` of a lock file
    beside it before they begin. SQLite alone makes a second writer sleep and poll (1, 2, 5, 10…
    ms), so processes writing one file (several `serve` processes, an API node next to a workers
    node) would leave the file idle between their commits; the kernel wakes the next writer as
    soon as the lock is released. SQLite's own locking still guards the data: this only orders
    the waiting. Within a process, the single writer thread already serialises."""

    def __init__(self, database: Path | None) -> None:
        self._fd: int | None = None
        if database is not None:
            self._fd = os.open(f"{database}.writers", os.O_CREAT | os.O_RDWR, 0o600)

    def __enter__(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *_: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class Database:
    """The engine's connection to SQLite or PostgreSQL, used from asyncio code."""

    def __init__(self, url: str, *, sqlite_synchronous: str = "FULL", readers: int = 3) -> None:
        self.url = normalize_url(url)
        self.dialect: Dialect = dialect_of(self.url)
        if self.dialect == "sqlite":
            self.write_engine = _sqlite_engine(
                self.url, immediate=True, synchronous=sqlite_synchronous, pool_size=1
            )
            self.read_engine = _sqlite_engine(
                self.url, immediate=False, synchronous=sqlite_synchronous, pool_size=readers
            )
        else:
            self.write_engine = create_engine(
                self.url, pool_size=readers + 1, max_overflow=4, pool_pre_ping=True
            )
            self.read_engine = self.write_engine
        self._writers_queue = _WritersQueue(
            sqlite_path(self.url) if self.dialect == "sqlite" else None
        )
        self._writer = _PriorityReaders(1, "crossdock-db-write")
        self._readers = _PriorityReaders(readers, "crossdock-db-read")

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    def write_sync(self, fn: Callable[[Connection], T]) -> T:
        """Run `fn` in one write transaction on the calling thread (CLI and migrations)."""
        with self._writers_queue, self.write_engine.connect() as conn, conn.begin():
            return fn(conn)

    def read_sync(self, fn: Callable[[Connection], T]) -> T:
        with self.read_engine.connect() as conn, conn.begin():
            return fn(conn)

    async def write(self, fn: Callable[[Connection], T], *, priority: int = 0) -> T:
        """Run `fn` in one write transaction on the writer thread; commits when it returns."""
        return await asyncio.wrap_future(self._writer.submit(priority, lambda: self.write_sync(fn)))

    async def read(self, fn: Callable[[Connection], T], *, priority: int = 0) -> T:
        return await asyncio.wrap_future(self._readers.submit(priority, lambda: self.read_sync(fn)))

    async def checkpoint(self) -> None:
        """Copy the SQLite WAL into the database file without blocking the writer (PASSIVE)."""
        if self.dialect != "sqlite":
            return

        def run() -> None:
            with self.read_engine.connect() as conn:
                # Outside any transaction: a checkpoint cannot run inside one.
                conn.connection.driver_connection.execute(  # type: ignore[union-attr]
                    "PRAGMA wal_checkpoint(PASSIVE)"
                )

        await asyncio.wrap_future(self._readers.submit(-100, run))

    def close(self) -> None:
        self._writer.shutdown()
        self._readers.shutdown()
        self._writers_queue.close()
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()


def one_shot_engine(url: str) -> Engine:
    """A plain engine without pooling, for migrations and short CLI commands."""
    url = normalize_url(url)
    if dialect_of(url) == "sqlite":
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
    return create_engine(url, poolclass=NullPool)
