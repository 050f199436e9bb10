"""`Engine`: the event log and its workers behind one object.

    engine = Engine("sqlite:///var/crossdock.db", lanes=[Lane("orders", 10, 4)])
    engine.subscribe(Subscription("flows.orders", ["order.*"], handle, lane="orders"))
    async with engine:
        await engine.append([NewEvent("order.accepted", "webshop", "order:WS-1", {...})])

The schema must exist (`crossdock.migrations.upgrade`). A process may run the workers, or only
append (`workers=False`, as an API-only node), or both.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import structlog
from sqlalchemy import Connection, func, inspect, select

from crossdock.engine import deadletters
from crossdock.engine import log as eventlog
from crossdock.engine.consumers import Subscription
from crossdock.engine.database import Database, Dialect, dialect_of, sqlite_path
from crossdock.engine.deadletters import DeadLetter
from crossdock.engine.dispatch import Dispatcher, Lane, Stats
from crossdock.engine.envelope import Event, NewEvent
from crossdock.engine.guards import FileGuards, Guards, LocalGuards, PostgresGuards
from crossdock.engine.limits import Limiter
from crossdock.engine.observer import NullObserver, Observer
from crossdock.engine.progress import ensure_cursors, forget_group, has_work, insert_ignore
from crossdock.engine.schedules import Schedule, fire_due
from crossdock.engine.tables import cursors, engine_meta, events, parked_events
from crossdock.engine.wakeup import LocalWakeups, Notifier, listen_postgres
from crossdock.engine.writer import NOTIFY_CHANNEL, Writer
from crossdock.errors import CrossdockError

logger = structlog.get_logger(__name__)

DEFAULT_LANES = (Lane("default", priority=0, concurrency=2),)
CHECKPOINT_INTERVAL_S = 0.5


class SchemaMissing(CrossdockError, RuntimeError):
    """The database has no engine tables: run `crossdock db upgrade` (or start `serve`)."""


# Partitions bound how many workers a consumer group can spread over; each one is a head every
# commit may upsert and a read in every consumer round. On SQLite (one machine, one writer) 16
# are more than its workers use, and fewer heads to upsert and read make appending and handling
# faster (docs/benchmarks.md). PostgreSQL serves many machines.
DEFAULT_PARTITIONS: dict[Dialect, int] = {"sqlite": 16, "postgresql": 32}


@dataclass(frozen=True, slots=True)
class EngineSettings:
    partitions: int | None = None  # None: DEFAULT_PARTITIONS of the database
    lease_seconds: float = 8.0  # the takeover bound: renewed every third of it
    poll_interval_s: float = 0.1
    sqlite_synchronous: str = "FULL"
    readers: int = 3


@dataclass(frozen=True, slots=True)
class GroupBacklog:
    group: str
    unread: int
    parked: int
    oldest_unread_age_s: float


def node_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Engine:
    def __init__(
        self,
        url: str,
        *,
        settings: EngineSettings | None = None,
        lanes: Iterable[Lane] = DEFAULT_LANES,
        node: str | None = None,
        observer: Observer | None = None,
    ) -> None:
        self.url = url
        self.observer: Observer = observer or NullObserver()
        self.settings = settings or EngineSettings()
        self.lanes: dict[str, Lane] = {lane.name: lane for lane in lanes}
        self.node = node or node_name()
        self.subscriptions: dict[str, Subscription] = {}
        self.schedules: list[Schedule] = []
        self.limiters: dict[str, Limiter] = {}
        self.notifier = Notifier()
        self._wakeups: LocalWakeups | None = None  # other processes on the same SQLite file
        self.stats = Stats()
        self.partitions = self.settings.partitions or DEFAULT_PARTITIONS[dialect_of(url)]
        self._db: Database | None = None
        self._writer: Writer | None = None
        self._dispatcher: Dispatcher | None = None
        self._background: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self._guards: Guards | None = None

    # -- set-up --------------------------------------------------------------------------------

    def subscribe(self, subscription: Subscription) -> Subscription:
        if subscription.group in self.subscriptions:
            raise ValueError(f"consumer group {subscription.group!r} is already subscribed")
        if subscription.lane not in self.lanes:
            raise ValueError(
                f"{subscription.group}: unknown lane {subscription.lane!r} "
                f"(lanes: {', '.join(sorted(self.lanes))})"
            )
        if self._dispatcher is not None:
            raise RuntimeError("subscribe before start()")
        self.subscriptions[subscription.group] = subscription
        return subscription

    def add_lane(self, lane: Lane) -> Lane:
        """A lane for groups added later (before `start`): its workers run once it has a group."""
        if lane.name in self.lanes:
            raise ValueError(f"lane {lane.name!r} exists")
        if self._dispatcher is not None:
            raise RuntimeError("add lanes before start()")
        self.lanes[lane.name] = lane
        return lane

    def schedule(self, schedule: Schedule) -> Schedule:
        if any(s.name == schedule.name for s in self.schedules):
            raise ValueError(f"schedule {schedule.name!r} exists")
        self.schedules.append(schedule)
        return schedule

    def add_limiter(self, limiter: Limiter) -> Limiter:
        self.limiters[limiter.name] = limiter
        return limiter

    @property
    def db(self) -> Database:
        if self._db is None:
            raise RuntimeError("engine not started")
        return self._db

    @property
    def writer(self) -> Writer:
        if self._writer is None:
            raise RuntimeError("engine not started")
        return self._writer

    async def start(self, *, workers: bool = True, scheduler: bool = True) -> None:
        self._db = Database(
            self.url,
            sqlite_synchronous=self.settings.sqlite_synchronous,
            readers=self.settings.readers,
        )
        self.partitions = await self._db.write(self._agree_partitions)
        database_file = sqlite_path(self.url) if self._db.dialect == "sqlite" else None
        if database_file is not None:
            self._wakeups = LocalWakeups(database_file)
        self._writer = Writer(
            self._db, self.partitions, on_commit=self._committed, observer=self.observer
        )
        self._writer.start()
        for sub in self.subscriptions.values():
            await self._writer.submit(
                lambda c, s=sub: ensure_cursors(  # type: ignore[misc]
                    c, self.db.dialect, s.group, self.partitions, s.start_at
                )
            )
        # Groups may be added while running (`add_group`): the workers start even without one.
        if workers:
            self._dispatcher = Dispatcher(
                db=self._db,
                writer=self._writer,
                notifier=self.notifier,
                subscriptions=self.subscriptions,
                lanes=self.lanes,
                partitions=self.partitions,
                lease_seconds=self.settings.lease_seconds,
                poll_interval_s=self.settings.poll_interval_s,
                owner=self.node,
                stats=self.stats,
                observer=self.observer,
            )
            self._dispatcher.start()
            if self._wakeups is not None:
                self._wakeups.listen(self.notifier)
            if self._db.is_postgres:
                conninfo = self._db.write_engine.url.set(drivername="postgresql").render_as_string(
                    hide_password=False
                )
                self._background.append(
                    asyncio.create_task(listen_postgres(conninfo, NOTIFY_CHANNEL, self.notifier))
                )
        if scheduler and self.schedules:
            self._background.append(asyncio.create_task(self._run_schedules()))
        if self._db.dialect == "sqlite":
            self._background.append(asyncio.create_task(self._checkpoints()))
        logger.info(
            "engine.started",
            node=self.node,
            backend=self._db.dialect,
            partitions=self.partitions,
            groups=sorted(self.subscriptions),
            workers=workers,
        )

    async def add_group(self, subscription: Subscription) -> Subscription:
        """Subscribe a consumer group while the engine runs (groups created at run time, such
        as one per webhook endpoint); before `start`, the same as `subscribe`. Its cursors are
        created first, so a group starting at `latest` takes every event appended after this
        returns."""
        if self._writer is None:
            return self.subscribe(subscription)
        if subscription.group in self.subscriptions:
            raise ValueError(f"consumer group {subscription.group!r} is already subscribed")
        if subscription.lane not in self.lanes:
            raise ValueError(f"{subscription.group}: unknown lane {subscription.lane!r}")
        await self.writer.submit(
            lambda c: ensure_cursors(
                c, self.db.dialect, subscription.group, self.partitions, subscription.start_at
            )
        )
        self.subscriptions[subscription.group] = subscription
        if self._dispatcher is not None:
            self._dispatcher.serve(subscription.lane)
        return subscription

    async def remove_group(self, group: str, *, forget: bool = False) -> None:
        """Stop consuming for `group` in this process (a batch being handled finishes); with
        `forget`, also drop its cursors and parked events everywhere (its dead letters stay as
        history)."""
        self.subscriptions.pop(group, None)
        if forget:
            await self.writer.submit(lambda c: forget_group(c, group))

    @contextlib.asynccontextmanager
    async def guard(self, *keys: str) -> AsyncIterator[None]:
        """Hold `keys` exclusively across every node on this database (see `guards.py`): wrap
        the look-up and the create of an effect in an external system keyed by a natural key."""
        if self._guards is None:
            if self.db.is_postgres:
                self._guards = PostgresGuards(self._conninfo())
            else:
                path = sqlite_path(self.url)
                self._guards = (
                    FileGuards(path.with_name(path.name + ".guards")) if path else LocalGuards()
                )
        async with self._guards.hold(keys):
            yield

    def _conninfo(self) -> str:
        return self.db.write_engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )

    def _agree_partitions(self, conn: Connection) -> int:
        if not inspect(conn).has_table("engine_meta"):
            raise SchemaMissing("the database has no Crossdock schema: run `crossdock db upgrade`")
        conn.execute(
            insert_ignore(
                self.db.dialect,
                engine_meta,
                [{"key": "partitions", "value": str(self.partitions)}],
            )
        )
        stored = int(
            conn.execute(
                select(engine_meta.c.value).where(engine_meta.c.key == "partitions")
            ).scalar_one()
        )
        if stored != self.partitions:
            logger.warning("engine.partitions_fixed", configured=self.partitions, stored=stored)
        return stored

    def _committed(self, appended: bool) -> None:
        if appended:
            self.notifier.notify()
            if self._wakeups is not None:
                self._wakeups.wake_others()

    async def stop(self) -> None:
        self._stopping.set()
        if self._dispatcher is not None:
            await self._dispatcher.stop()
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        self._background.clear()
        if self._writer is not None:
            await self._writer.stop()
        if self._guards is not None:
            await self._guards.close()
            self._guards = None
        if self._wakeups is not None:
            self._wakeups.close()
            self._wakeups = None
        if self._db is not None:
            await asyncio.to_thread(self._db.close)
        self._dispatcher = None
        self._writer = None
        self._db = None

    async def __aenter__(self) -> Engine:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- appending -----------------------------------------------------------------------------

    async def append(self, new_events: Sequence[NewEvent]) -> list[Event]:
        """Append events; returns once committed. A duplicate (same source and idempotency key)
        returns the event stored first."""
        return await self.writer.append(new_events)

    async def append_one(self, new_event: NewEvent) -> Event:
        return (await self.append([new_event]))[0]

    # -- schedules -----------------------------------------------------------------------------

    async def fire_schedules(self, now: float | None = None) -> list[Event]:
        """Fire every schedule whose latest tick has not fired yet (idempotent across nodes)."""
        moment = time.time() if now is None else now
        return await self.writer.submit(
            lambda c: fire_due(c, self.db.dialect, self.schedules, moment, self.partitions),
            appends=True,
        )

    async def _checkpoints(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=CHECKPOINT_INTERVAL_S)
            try:
                await self.db.checkpoint()
            except Exception as exc:
                logger.warning("engine.checkpoint_failed", error=repr(exc))

    async def _run_schedules(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.fire_schedules()
            except Exception:
                logger.exception("engine.schedule_failed")
            now = time.time()
            wake = min(s.next_tick(now) for s in self.schedules)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=max(0.01, wake - now))

    # -- inspection and repair -----------------------------------------------------------------

    async def backlog(self) -> list[GroupBacklog]:
        """Per consumer group: events not yet read (any type), parked events, age of the oldest."""
        groups = sorted(self.subscriptions)
        return await self.db.read(lambda c: _backlog(c, groups))

    async def idle(self) -> bool:
        """Nothing left for any consumer group of this engine: no unread event, nothing parked."""
        groups = sorted(self.subscriptions)
        return not await self.db.read(lambda c: has_work(c, groups, float("inf"), parked_due=False))

    async def dead_letters(self, **filters: Any) -> list[DeadLetter]:
        return await self.db.read(lambda c: deadletters.list_dead(c, **filters))

    async def dead_letter(self, dead_id: int) -> DeadLetter | None:
        return await self.db.read(lambda c: deadletters.get_dead(c, dead_id))

    async def replay(
        self, dead_id: int, *, also: Callable[[Connection, int], None] | None = None
    ) -> bool:
        """Put a dead letter back; `also(conn, replayed)` runs in the same transaction (an audit
        entry, say) with the number of dead letters replayed (0 or 1)."""

        def run(conn: Connection) -> bool:
            done = deadletters.replay(conn, self.db.dialect, dead_id, time.time())
            if also is not None:
                also(conn, int(done))
            return done

        # Marked as an append so other nodes are notified (PostgreSQL) and pick it up at once.
        done = await self.writer.submit(run, appends=True)
        self.notifier.notify()
        return done

    async def replay_group(
        self,
        group: str,
        since: float | None = None,
        *,
        also: Callable[[Connection, int], None] | None = None,
    ) -> int:
        def run(conn: Connection) -> int:
            count = deadletters.replay_many(
                conn, self.db.dialect, group=group, since=since, now=time.time()
            )
            if also is not None:
                also(conn, count)
            return count

        count = await self.writer.submit(run, appends=True)
        self.notifier.notify()
        return count

    async def last_events(self, count: int) -> list[Event]:
        return await self.db.read(lambda c: eventlog.read_last(c, count))

    async def events_after(
        self, after: int, limit: int = 100, *, types: Sequence[str] = (), subject: str | None = None
    ) -> list[Event]:
        return await self.db.read(
            lambda c: eventlog.read_after(c, after, limit, types=types, subject=subject)
        )


def open_group(conn: Connection, group: str, start_at: str = "latest") -> None:
    """Create the cursors of a group inside a caller's transaction (a group whose existence is
    a row of the caller's, created with it), so that with `latest` it takes every event appended
    after that transaction commits, whichever process adds it as a consumer later. Idempotent."""
    dialect: Dialect = "postgresql" if conn.dialect.name == "postgresql" else "sqlite"
    stored = conn.execute(
        select(engine_meta.c.value).where(engine_meta.c.key == "partitions")
    ).scalar_one_or_none()
    if stored is None:
        partitions = DEFAULT_PARTITIONS[dialect]
        conn.execute(
            insert_ignore(dialect, engine_meta, [{"key": "partitions", "value": str(partitions)}])
        )
    else:
        partitions = int(stored)
    ensure_cursors(conn, dialect, group, partitions, start_at)


def _backlog(conn: Connection, groups: Sequence[str]) -> list[GroupBacklog]:
    now = time.time()
    out: list[GroupBacklog] = []
    for group in groups:
        # One pass over the positions after the group's lowest cursor (by primary key), each
        # row matched to its partition's cursor: the log has no index by partition alone.
        lowest = (
            select(func.min(cursors.c.position))
            .where(cursors.c.group_name == group)
            .scalar_subquery()
        )
        unread_query = (
            select(func.count(), func.min(events.c.recorded_at))
            .select_from(events.join(cursors, events.c.partition == cursors.c.partition))
            .where(
                cursors.c.group_name == group,
                events.c.seq > lowest,
                events.c.seq > cursors.c.position,
            )
        )
        unread, oldest = conn.execute(unread_query).one()
        parked = conn.execute(
            select(func.count())
            .select_from(parked_events)
            .where(parked_events.c.group_name == group)
        ).scalar_one()
        out.append(GroupBacklog(group, int(unread), int(parked), now - oldest if oldest else 0.0))
    return out
