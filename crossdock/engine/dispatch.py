"""The workers: each lane runs `concurrency` tasks that lease work and call handlers.

A task leases either a (consumer group, partition) with unread events, or a parked subject whose
retry is due, alternating so neither starves the other. A partition lease is kept across several
batches while work keeps coming (fewer lease round trips), then released for fairness. A heartbeat
renews leases while a slow handler runs; a worker that dies simply stops renewing, and after
`lease_seconds` another worker carries on from the last acknowledged position.

Per-subject order: all events of a subject fall into one partition, read in log order by one lease
holder at a time; once a subject is parked, its later events queue behind the parked head.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import structlog
from sqlalchemy import Connection

from crossdock.engine.consumers import Batch, Reject, RetryAfter, Subscription
from crossdock.engine.database import Database
from crossdock.engine.envelope import Event, format_time, utcnow
from crossdock.engine.log import insert_events
from crossdock.engine.observer import NullObserver, Observer
from crossdock.engine.progress import (
    Lease,
    LeaseLost,
    PartitionClaim,
    SubjectClaim,
    advance_partitions,
    bury,
    claim_partitions,
    claim_subject,
    has_work,
    park,
    pause_partitions,
    read_claimed,
    read_parked,
    record_retry,
    renew_partitions,
    renew_subject,
    settle_subject,
    unpark,
)
from crossdock.engine.wakeup import Notifier
from crossdock.engine.writer import Writer
from crossdock.errors import Unavailable

log = structlog.get_logger(__name__)

MAX_ROUNDS_PER_LEASE = 20


@dataclass(frozen=True, slots=True)
class Lane:
    """A named share of the workers: its own tasks, so a burst elsewhere cannot starve it."""

    name: str
    priority: int = 0
    concurrency: int = 1


@dataclass
class Stats:
    """Counters a process keeps; exported as metrics by the operations layer."""

    handled: int = 0
    failed: int = 0
    retried: int = 0
    dead_lettered: int = 0
    batches: int = 0
    lease_lost: int = 0
    per_group: dict[str, int] = field(default_factory=dict)


@dataclass
class _Failure:
    event: Event
    attempt: int
    errors: list[dict[str, Any]]
    next_at: float | None  # None: bury now


# Per partition: the matching events read and the position read up to; and the parked subjects.
Round = tuple[dict[int, tuple[list[Event], int]], set[str]]


@dataclass
class _Claimed:
    """A partition claim with the events read for its current round."""

    claim: PartitionClaim
    per_partition: int
    types: Sequence[str]
    scanned: dict[int, tuple[list[Event], int]]
    parked: set[str]


@dataclass(frozen=True)
class _Passed:
    """Partitions claimed, found without an event of the group's types, and moved past in the
    claiming transaction."""

    group: str


@dataclass
class _Plan:
    """What a delivery decided, applied in the acknowledging transaction."""

    done: list[Batch] = field(default_factory=list)
    isolated: bool = False
    paused_until: float | None = None
    """The handler's system is down: nothing of the round is consumed before this time."""
    behind: list[Event] = field(default_factory=list)
    failures: list[_Failure] = field(default_factory=list)

    @property
    def emits(self) -> bool:
        return any(batch.emitted for batch in self.done)


class Dispatcher:
    def __init__(
        self,
        *,
        db: Database,
        writer: Writer,
        notifier: Notifier,
        subscriptions: Mapping[str, Subscription],
        lanes: Mapping[str, Lane],
        partitions: int,
        lease_seconds: float,
        poll_interval_s: float,
        owner: str,
        stats: Stats | None = None,
        clock: Callable[[], float] = time.time,
        observer: Observer | None = None,
    ) -> None:
        self._db = db
        self._writer = writer
        self._notifier = notifier
        self._subs = subscriptions
        self._lanes = lanes
        self._partitions = partitions
        self._lease_s = lease_seconds
        self._poll_s = poll_interval_s
        self._owner = owner
        self._clock = clock
        self._tasks: list[asyncio.Task[None]] = []
        self._serving: set[str] = set()
        self._stopping = asyncio.Event()
        self.stats = stats or Stats()
        self._observer: Observer = observer or NullObserver()

    def start(self) -> None:
        for lane in self._lanes.values():
            self.serve(lane.name)

    def serve(self, lane_name: str) -> None:
        """Run the lane's tasks if it has groups and none run yet (a group added while running)."""
        lane = self._lanes[lane_name]
        if lane_name in self._serving or not self._groups(lane):
            return
        self._serving.add(lane_name)
        for slot in range(lane.concurrency):
            self._tasks.append(
                asyncio.create_task(self._lane_loop(lane, slot), name=f"lane-{lane.name}-{slot}")
            )

    def _groups(self, lane: Lane) -> list[str]:
        """The lane's groups now: groups may be added or removed while the engine runs."""
        return [s.group for s in list(self._subs.values()) if s.lane == lane.name]

    def _caps(self, groups: Sequence[str]) -> dict[str, int]:
        caps = {g: self._subs[g].max_leases for g in groups if g in self._subs}
        return {g: cap for g, cap in caps.items() if cap is not None}

    async def stop(self, grace_s: float = 10.0) -> None:
        """Let running batches finish (up to `grace_s`), then cancel."""
        self._stopping.set()
        self._notifier.notify()
        if not self._tasks:
            return
        _, pending = await asyncio.wait(self._tasks, timeout=grace_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self._tasks.clear()
        self._serving.clear()

    async def _lane_loop(self, lane: Lane, slot: int) -> None:
        prefer_parked = slot % 2 == 1
        busy = False
        while not self._stopping.is_set():
            token = self._notifier.token()
            groups = self._groups(lane)
            try:
                busy = bool(groups) and await self._work_once(lane, groups, prefer_parked, busy)
            except Exception:
                log.exception("engine.worker_error", lane=lane.name)
                busy = False
            prefer_parked = not prefer_parked
            if not busy:
                await self._notifier.wait(token, self._poll_s)
                # Woken by a commit of this process: there is work, skip the look before claiming.
                busy = token.is_set()

    async def _work_once(
        self, lane: Lane, groups: list[str], prefer_parked: bool, busy: bool
    ) -> bool:
        now = self._clock()
        if not busy and not await self._db.read(
            lambda c: has_work(c, groups, now), priority=lane.priority
        ):
            return False
        lease = Lease(self._owner, str(uuid.uuid4()), now + self._lease_s)
        dialect = self._db.dialect
        # Together the lane's tasks can cover every partition in one round of claims.
        spread = max(1, self._partitions // lane.concurrency)
        caps = self._caps(groups)

        def claim_and_read(conn: Connection) -> _Claimed | _Passed | None:
            claim = claim_partitions(conn, dialect, groups, lease, now, spread, caps=caps)
            if claim is None:
                return None
            sub = self._subs[claim.group]  # a group removed meanwhile: its lease simply expires
            per_partition = max(1, sub.batch_size // len(claim.positions))
            scanned, parked = read_claimed(conn, claim, per_partition, sub.types)
            if not any(found for found, _ in scanned.values()):
                # Nothing of the group's types in the round (the log's other groups' events):
                # the cursors move past it and the lease ends in this transaction, as the
                # round's acknowledgement would, without a second trip to the writer.
                advance_partitions(conn, claim, {p: to for p, (_, to) in scanned.items()}, None)
                return _Passed(claim.group)
            return _Claimed(claim, per_partition, sub.types, scanned, parked)

        def claim(conn: Connection) -> _Claimed | _Passed | SubjectClaim | None:
            # Both kinds are tried in one trip to the writer: a lane woken with nothing left
            # for it costs one operation, not two.
            for kind in ("parked", "partitions") if prefer_parked else ("partitions", "parked"):
                claimed: _Claimed | _Passed | SubjectClaim | None
                if kind == "partitions":
                    claimed = claim_and_read(conn)
                else:
                    claimed = claim_subject(conn, dialect, groups, lease, now, caps=caps)
                if claimed is not None:
                    return claimed
            return None

        claimed = await self._writer.submit(claim, priority=lane.priority)
        if isinstance(claimed, _Claimed):
            await self._run_partitions(claimed, lane)
        elif isinstance(claimed, _Passed):
            self.stats.batches += 1
        elif claimed is not None:
            await self._run_subject(claimed, lane)
        return claimed is not None

    @contextlib.asynccontextmanager
    async def _heartbeat(
        self, renew: Callable[[Connection, float], None], lane: Lane
    ) -> AsyncIterator[None]:
        async def beat() -> None:
            while True:
                await asyncio.sleep(self._lease_s / 3)
                until = self._clock() + self._lease_s

                def renewal(conn: Connection, until: float = until) -> None:
                    renew(conn, until)

                try:
                    await self._writer.submit(renewal, priority=lane.priority)
                except LeaseLost:
                    return

        task = asyncio.create_task(beat())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- partitions ---------------------------------------------------------------------------

    async def _run_partitions(self, claimed: _Claimed, lane: Lane) -> None:
        """Deliver rounds of events from the leased partitions; each acknowledgement also reads
        the next round, so a round costs one trip to the writer."""
        claim = claimed.claim
        sub = self._subs[claim.group]
        async with self._heartbeat(lambda c, until: renew_partitions(c, claim, until), lane):
            for round_no in range(1, MAX_ROUNDS_PER_LEASE + 1):
                positions = dict(claim.positions)
                matching: list[Event] = []
                drained = True
                for partition, (found, read_to) in claimed.scanned.items():
                    positions[partition] = read_to
                    drained = drained and len(found) < claimed.per_partition
                    matching.extend(found)
                matching.sort(key=lambda e: e.position)
                plan = await self._deliver(sub, matching, claimed.parked)
                if plan.paused_until is not None:
                    pause = partial(pause_partitions, claim=claim, until=plan.paused_until)
                    try:
                        await self._writer.submit(pause, priority=lane.priority)
                    except LeaseLost:
                        self.stats.lease_lost += 1
                    return
                keep = not drained and round_no < MAX_ROUNDS_PER_LEASE
                keep = keep and not self._stopping.is_set()
                try:
                    following = await self._ack_partitions(
                        claimed, sub, positions, keep, plan, lane
                    )
                except LeaseLost:
                    self.stats.lease_lost += 1
                    log.warning("engine.lease_lost", group=claim.group)
                    return
                claim.positions = positions
                if following is None:
                    return
                claimed.scanned, claimed.parked = following

    async def _ack_partitions(
        self,
        claimed: _Claimed,
        sub: Subscription,
        positions: dict[int, int],
        keep: bool,
        plan: _Plan,
        lane: Lane,
    ) -> Round | None:
        claim = claimed.claim
        until = self._clock() + self._lease_s if keep else None

        def ack(conn: Connection, plan: _Plan = plan) -> Round | None:
            advance_partitions(conn, claim, positions, until)
            self._apply(conn, sub, plan)
            if until is None:
                return None
            return read_claimed(
                conn,
                PartitionClaim(claim.group, positions, claim.lease),
                claimed.per_partition,
                claimed.types,
            )

        try:
            following = await self._writer.submit(ack, priority=lane.priority, appends=plan.emits)
        except LeaseLost:
            raise
        except Exception as exc:
            if plan.isolated:
                raise
            # A write of the batch failed: find the event it belongs to, one event at a time.
            log.warning("engine.batch_write_failed", group=sub.group, error=repr(exc))
            events = [e for batch in plan.done for e in batch.events]
            plan = await self._isolate(sub, events, _Plan(behind=plan.behind))
            following = await self._writer.submit(
                partial(ack, plan=plan), priority=lane.priority, appends=plan.emits
            )
        self._count(sub, plan)
        return following

    async def _deliver(self, sub: Subscription, events: list[Event], parked: set[str]) -> _Plan:
        plan = _Plan(behind=[e for e in events if e.subject in parked])
        ready = [e for e in events if e.subject not in parked]
        if not ready:
            return plan
        batch = Batch(sub.group, ready)
        try:
            await self._handle(sub, batch)
        except Unavailable as exc:
            # Every event would meet the same outage: the partitions wait it out as they are,
            # and the round is read again in one batch afterwards.
            log.info("engine.group_paused", group=sub.group, retry_after_s=exc.retry_after_s)
            return _Plan(paused_until=self._clock() + exc.retry_after_s)
        except Exception as exc:
            if len(ready) > 1:
                return await self._isolate(sub, ready, plan)
            self._fail(plan, sub, ready[0], 1, [], exc)
            return plan
        self._settle_batch(plan, sub, batch, set())
        return plan

    async def _handle(self, sub: Subscription, batch: Batch) -> None:
        """Call the handler under the observer; emitted events without a traceparent get the
        one the observer gives for their subject."""
        with self._observer.handling(sub.group, sub.lane, batch.events, batch.attempt) as scope:
            await sub.handler(batch)
            if batch.emitted:
                batch.emitted = [
                    e if e.traceparent else replace(e, traceparent=scope.traceparent_for(e.subject))
                    for e in batch.emitted
                ]

    async def _isolate(self, sub: Subscription, events: list[Event], plan: _Plan) -> _Plan:
        """Hand events over one at a time so only the failing ones (and their subjects) wait."""
        plan.isolated = True
        blocked: set[str] = set()
        for event in events:
            if event.subject in blocked:
                plan.behind.append(event)
                continue
            single = Batch(sub.group, [event])
            try:
                await self._handle(sub, single)
            except Exception as exc:
                if self._fail(plan, sub, event, 1, [], exc):
                    blocked.add(event.subject)
                continue
            self._settle_batch(plan, sub, single, blocked)
        return plan

    def _settle_batch(
        self, plan: _Plan, sub: Subscription, batch: Batch, blocked: set[str]
    ) -> None:
        """Split a returned batch into done events and those `batch.fail` marked."""
        if batch.failed:
            for event in batch.events:
                if event.subject in blocked:
                    plan.behind.append(event)
                elif (error := batch.failed.get(event.position)) is not None and self._fail(
                    plan, sub, event, batch.attempt, [], error
                ):
                    blocked.add(event.subject)
            batch.events = [
                e
                for e in batch.events
                if e.position not in batch.failed and e.subject not in blocked
            ]
        plan.done.append(batch)

    def _fail(
        self,
        plan: _Plan,
        sub: Subscription,
        event: Event,
        attempt: int,
        history: list[dict[str, Any]],
        error: BaseException,
    ) -> bool:
        """Record a failed attempt; True when the event will be retried (its subject waits)."""
        if isinstance(error, Unavailable):
            # Waiting out an outage is not an attempt: the count and the errors stay as they were.
            plan.failures.append(
                _Failure(event, attempt - 1, history, self._clock() + error.retry_after_s)
            )
            log.info(
                "engine.handler_waiting",
                group=sub.group,
                subject=event.subject,
                retry_after_s=round(error.retry_after_s, 1),
                reason=str(error),
            )
            return True
        errors = [*history, self._error_record(attempt, error)]
        permanent = isinstance(error, Reject) or attempt >= sub.max_attempts
        delay = error.delay_s if isinstance(error, RetryAfter) else sub.backoff.delay(attempt)
        next_at = None if permanent else self._clock() + delay
        plan.failures.append(_Failure(event, attempt, errors, next_at))
        log.warning(
            "engine.handler_failed",
            group=sub.group,
            event_id=event.id,
            type=event.type,
            subject=event.subject,
            attempt=attempt,
            error=errors[-1]["error"],
            dead_letter=permanent,
        )
        return not permanent

    def _error_record(self, attempt: int, error: BaseException) -> dict[str, Any]:
        return {
            "attempt": attempt,
            "at": format_time(utcnow()),
            "node": self._owner,
            "error": f"{type(error).__name__}: {error}"[:2000],
        }

    def _apply(self, conn: Connection, sub: Subscription, plan: _Plan) -> None:
        """Apply a delivery's outcome inside the acknowledging transaction."""
        dialect = self._db.dialect
        now = self._clock()
        # Subjects whose writes fail here: their later events wait behind (earlier failures were
        # already sorted out by the delivery).
        blocked: set[str] = set()
        for batch in plan.done:
            if not plan.isolated:
                self._apply_batch(conn, batch)
                continue
            event = batch.events[0] if batch.events else None
            if event is not None and event.subject in blocked:
                plan.behind.append(event)
                continue
            savepoint = conn.begin_nested()
            try:
                self._apply_batch(conn, batch)
            except Exception as exc:
                savepoint.rollback()
                if event is not None:
                    errors = [self._error_record(batch.attempt, exc)]
                    retry = not (isinstance(exc, Reject) or batch.attempt >= sub.max_attempts)
                    next_at = now + sub.backoff.delay(batch.attempt) if retry else None
                    plan.failures.append(_Failure(event, batch.attempt, errors, next_at))
                    if retry:
                        blocked.add(event.subject)
            else:
                savepoint.commit()
        for failure in plan.failures:
            if failure.next_at is None:
                bury(conn, sub.group, failure.event, failure.attempt, failure.errors, now)
            else:
                park(
                    conn,
                    dialect,
                    sub.group,
                    failure.event,
                    attempts=failure.attempt,
                    errors=failure.errors,
                    next_at=failure.next_at,
                    now=now,
                )
        for event in plan.behind:
            park(conn, dialect, sub.group, event, attempts=0, errors=[], next_at=now, now=now)

    def _apply_batch(self, conn: Connection, batch: Batch) -> None:
        for fn in batch.writes:
            fn(conn)
        if batch.emitted:
            insert_events(conn, batch.emitted, self._partitions)

    def _count(self, sub: Subscription, plan: _Plan, retried: int = 0) -> None:
        handled = sum(len(b.events) for b in plan.done)
        dead = sum(1 for f in plan.failures if f.next_at is None)
        self._observer.settled(
            sub.group,
            sub.lane,
            handled=handled,
            failed=len(plan.failures) - dead,
            dead_lettered=dead,
            retried=retried,
        )
        self.stats.batches += 1
        self.stats.handled += handled
        self.stats.per_group[sub.group] = self.stats.per_group.get(sub.group, 0) + handled
        for failure in plan.failures:
            self.stats.failed += 1
            if failure.next_at is None:
                self.stats.dead_lettered += 1
        if plan.failures or plan.behind:
            self._notifier.notify()

    # -- parked subjects ----------------------------------------------------------------------

    async def _run_subject(self, claim: SubjectClaim, lane: Lane) -> None:
        """Retry a parked subject: its queued events in order, until one fails again."""
        sub = self._subs.get(claim.group)
        if sub is None:
            return
        async with self._heartbeat(lambda c, until: renew_subject(c, claim, until), lane):
            queue = await self._db.read(
                lambda c: read_parked(c, claim.group, claim.subject, sub.batch_size),
                priority=lane.priority,
            )
            outcomes: list[Batch | _Failure] = []
            # Batches whose event failed through `batch.fail`: their writes and events still
            # commit with the acknowledgement (a record of the failed attempt, say).
            failed_batches: list[Batch] = []
            history: dict[int, list[dict[str, Any]]] = {}
            for parked in queue:
                attempt = parked.attempts + 1
                history[parked.event.position] = parked.errors
                single = Batch(sub.group, [parked.event], attempt=attempt)
                error: BaseException | None
                try:
                    await self._handle(sub, single)
                    error = single.failed.get(parked.event.position)
                except Exception as exc:
                    error = exc
                else:
                    if error is not None and (single.writes or single.emitted):
                        failed_batches.append(single)
                if error is None:
                    outcomes.append(single)
                    continue
                scratch = _Plan()
                retrying = self._fail(scratch, sub, parked.event, attempt, parked.errors, error)
                outcomes.append(scratch.failures[0])
                if retrying:
                    break
            self.stats.retried += len(outcomes)
            plan = _Plan(
                done=[o for o in outcomes if isinstance(o, Batch)],
                failures=[o for o in outcomes if isinstance(o, _Failure)],
            )

            def ack(conn: Connection) -> None:
                now = self._clock()
                for batch in failed_batches:
                    self._apply_batch(conn, batch)
                settled: list[int] = []
                next_at = now
                for outcome in outcomes:
                    if isinstance(outcome, Batch):
                        event = outcome.events[0]
                        savepoint = conn.begin_nested()
                        try:
                            self._apply_batch(conn, outcome)
                        except Exception as exc:
                            savepoint.rollback()
                            scratch = _Plan()
                            self._fail(
                                scratch, sub, event, outcome.attempt, history[event.position], exc
                            )
                            outcome = scratch.failures[0]
                        else:
                            savepoint.commit()
                            settled.append(event.position)
                            continue
                    if outcome.next_at is None:
                        bury(conn, sub.group, outcome.event, outcome.attempt, outcome.errors, now)
                        settled.append(outcome.event.position)
                        continue
                    record_retry(
                        conn, sub.group, outcome.event.position, outcome.attempt, outcome.errors
                    )
                    next_at = outcome.next_at
                    break
                unpark(conn, sub.group, settled)
                settle_subject(conn, claim, next_at)

            try:
                emits = plan.emits or any(b.emitted for b in failed_batches)
                await self._writer.submit(ack, priority=lane.priority, appends=emits)
            except LeaseLost:
                self.stats.lease_lost += 1
                return
            self._count(sub, plan, retried=len(outcomes))
