"""Delivery: consumer groups, per-subject order, parallel subjects, batches, atomic writes,
retries with backoff, dead letters and replay — on both backends."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select

from crossdock.engine import (
    Backoff,
    Batch,
    Engine,
    EngineSettings,
    Lane,
    NewEvent,
    Reject,
    Subscription,
    Unavailable,
)
from crossdock.engine.database import normalize_url
from crossdock.engine.log import partition_of
from tests.support.waiting import until

FAST = Backoff(base_s=0.01, factor=2, max_s=0.05, jitter=0.1)
SETTINGS = EngineSettings(poll_interval_s=0.02, lease_seconds=5)


def make_engine(url: str, concurrency: int = 4) -> Engine:
    return Engine(url, settings=SETTINGS, lanes=[Lane("default", 0, concurrency)])


def ev(subject: str, n: int, kind: str = "order.accepted") -> NewEvent:
    return NewEvent(kind, "shop", subject, {"n": n})


async def drained(engine: Engine) -> None:
    await until(engine.idle, what="the backlog to drain")


async def test_every_group_sees_every_matching_event_once(db_url: str) -> None:
    seen: dict[str, list[int]] = defaultdict(list)

    def recorder(group: str) -> Callable[[Batch], Awaitable[None]]:
        async def handle(batch: Batch) -> None:
            seen[group].extend(e.data["n"] for e in batch.events)

        return handle

    engine = make_engine(db_url)
    engine.subscribe(Subscription("orders", ["order.*"], recorder("orders")))
    engine.subscribe(Subscription("everything", ["*"], recorder("everything")))
    engine.subscribe(Subscription("stock", ["stock.changed"], recorder("stock")))
    async with engine:
        await engine.append([ev(f"o:{i % 7}", i) for i in range(200)])
        await engine.append([ev(f"s:{i}", 1000 + i, "stock.changed") for i in range(30)])
        await drained(engine)
    assert sorted(seen["orders"]) == list(range(200))
    assert sorted(seen["stock"]) == list(range(1000, 1030))
    assert sorted(seen["everything"]) == sorted(seen["orders"] + seen["stock"])


async def test_order_per_subject_and_batches_up_to_n(db_url: str) -> None:
    order: dict[str, list[int]] = defaultdict(list)
    sizes: list[int] = []

    async def handle(batch: Batch) -> None:
        sizes.append(len(batch.events))
        for e in batch.events:
            order[e.subject].append(e.data["n"])

    engine = make_engine(db_url)
    engine.subscribe(Subscription("g", ["order.*"], handle, batch_size=25))
    async with engine:
        for chunk in range(10):
            await engine.append([ev(f"o:{i % 13}", chunk * 100 + i) for i in range(100)])
        await drained(engine)
    assert max(sizes) <= 25 and max(sizes) > 1
    for subject, numbers in order.items():
        assert numbers == sorted(numbers), subject
    assert sum(len(v) for v in order.values()) == 1000


async def test_different_subjects_are_handled_in_parallel(db_url: str) -> None:
    """Each subject's handler waits until the other's has started: only two handlers running at
    once can finish; handled one after the other, the first waits for ever and the backlog never
    drains. Two partitions for two workers: each worker leases one partition, so the two
    subjects never come in one batch."""
    subjects = ("a", "d")
    assert partition_of("a", 2) != partition_of("d", 2)
    started = {subject: asyncio.Event() for subject in subjects}
    batches: list[list[str]] = []

    async def handle(batch: Batch) -> None:
        batches.append([e.subject for e in batch.events])
        for e in batch.events:
            started[e.subject].set()
        for e in batch.events:
            other = subjects[1 - subjects.index(e.subject)]
            await started[other].wait()

    engine = Engine(
        db_url, settings=replace(SETTINGS, partitions=2), lanes=[Lane("default", 0, 2)]
    )
    engine.subscribe(Subscription("g", ["order.*"], handle))
    async with engine:
        await engine.append([ev("a", 1), ev("d", 2)])
        await drained(engine)
    assert sorted(batches) == [["a"], ["d"]]  # each once, in a batch of its own, never retried


async def test_writes_commit_with_the_acknowledgement(db_url: str) -> None:
    """A write that fails rolls back the batch's acknowledgement: the events come again, and
    the one whose write keeps failing ends in the dead letters while the others commit."""
    meta = MetaData()
    notes = Table(
        "test_notes", meta, Column("n", Integer, primary_key=True), Column("subject", String(50))
    )
    from sqlalchemy import create_engine

    sync = create_engine(normalize_url(db_url))
    meta.create_all(sync)
    deliveries: dict[int, int] = defaultdict(int)

    async def handle(batch: Batch) -> None:
        rows = []
        for e in batch.events:
            deliveries[e.data["n"]] += 1
            # n=5 collides with a row written by n=4's handler: a unique-key failure.
            rows.append({"n": 4 if e.data["n"] == 5 else e.data["n"], "subject": e.subject})
        batch.write(lambda conn: conn.execute(insert(notes), rows) and None)

    engine = make_engine(db_url, concurrency=1)
    engine.subscribe(Subscription("g", ["order.*"], handle, max_attempts=2, backoff=FAST))
    async with engine:
        await engine.append([ev("x", n) for n in range(10)])
        await until(lambda: _has_dead(engine), what="a dead letter")
        await drained(engine)
        dead = await engine.dead_letters()
    with sync.connect() as conn:
        written = sorted(r.n for r in conn.execute(select(notes.c.n)))
    sync.dispose()
    assert written == [0, 1, 2, 3, 4, 6, 7, 8, 9]
    assert [d.subject for d in dead] == ["x"] and len(dead[0].errors) == 2
    assert "IntegrityError" in dead[0].errors[0]["error"]


async def _has_dead(engine: Engine) -> bool:
    return bool(await engine.dead_letters())


async def test_retry_with_backoff_does_not_block_other_subjects(db_url: str) -> None:
    attempts: dict[int, int] = defaultdict(int)
    handled: list[tuple[str, int]] = []
    release = asyncio.Event()

    async def handle(batch: Batch) -> None:
        for e in batch.events:
            n = e.data["n"]
            attempts[n] += 1
            if e.subject == "stuck" and n == 0 and not release.is_set():
                raise ConnectionError("Odoo is down")
            handled.append((e.subject, n))

    engine = make_engine(db_url)
    engine.subscribe(Subscription("g", ["order.*"], handle, max_attempts=1000, backoff=FAST))
    async with engine:
        await engine.append([ev("stuck", 0), ev("stuck", 1), ev("stuck", 2)])
        await engine.append([ev(f"free:{i}", 10 + i) for i in range(20)])
        await until(lambda: _done(handled, 20, "free"), what="the other subjects")
        await until(lambda: _failed_at_least(engine, 3), what="retries of the stuck event")
        assert ("stuck", 1) not in handled  # waits behind its failing head
        release.set()
        await drained(engine)
    stuck = [n for s, n in handled if s == "stuck"]
    assert stuck == [0, 1, 2]
    assert engine.stats.failed >= 3


async def _done(handled: list[tuple[str, int]], count: int, prefix: str) -> bool:
    return sum(1 for s, _ in handled if s.startswith(prefix)) >= count


async def _failed_at_least(engine: Engine, times: int) -> bool:
    return engine.stats.failed >= times


async def test_dead_letter_keeps_every_error_and_replay_puts_it_back(db_url: str) -> None:
    fixed = asyncio.Event()
    handled: list[int] = []

    async def handle(batch: Batch) -> None:
        if any(e.data["n"] == 1 for e in batch.events) and not fixed.is_set():
            raise ValueError(f"bad price on attempt {batch.attempt}")
        handled.extend(e.data["n"] for e in batch.events)

    engine = make_engine(db_url)
    engine.subscribe(Subscription("g", ["order.*"], handle, max_attempts=3, backoff=FAST))
    async with engine:
        await engine.append([ev("s", 0), ev("s", 1), ev("s", 2)])
        await until(lambda: _has_dead(engine), what="the dead letter")
        await drained(engine)
        [dead] = await engine.dead_letters()
        detail = await engine.dead_letter(dead.id)
        assert handled == [0, 2]  # the subject moves on after a dead letter
        fixed.set()
        assert await engine.replay(dead.id)
        assert not await engine.replay(dead.id)  # already replayed
        await drained(engine)
        remaining = await engine.dead_letters()
    assert dead.attempts == 3
    assert [e["attempt"] for e in dead.errors] == [1, 2, 3]
    assert all("bad price" in e["error"] for e in dead.errors)
    assert detail is not None and detail.event is not None and detail.event.data == {"n": 1}
    assert handled == [0, 2, 1]
    assert remaining == []


async def test_reject_goes_straight_to_the_dead_letters(db_url: str) -> None:
    calls: list[int] = []

    async def handle(batch: Batch) -> None:
        for e in batch.events:
            calls.append(e.data["n"])
            if e.data["n"] == 1:
                raise Reject("unknown SKU")

    engine = make_engine(db_url)
    engine.subscribe(Subscription("g", ["order.*"], handle, max_attempts=5, backoff=FAST))
    async with engine:
        await engine.append([ev("s", 1)])
        await until(lambda: _has_dead(engine), what="the dead letter")
        [dead] = await engine.dead_letters()
    assert calls == [1] and dead.attempts == 1


async def test_an_outage_of_any_length_uses_no_attempts_and_keeps_subject_order(
    db_url: str,
) -> None:
    """A handler whose system is down hands batches back as Unavailable many more times than
    max_attempts allows: nothing is buried, nothing is parked, and each subject's events are
    handled once, in order, once the system is back."""
    down_for = 12  # calls answered "unavailable" before the system is back
    calls: list[list[int]] = []
    handled: dict[str, list[int]] = defaultdict(list)

    async def handle(batch: Batch) -> None:
        calls.append([e.data["n"] for e in batch.events])
        if len(calls) <= down_for:
            raise Unavailable("the ERP is down", retry_after_s=0.01)
        for e in batch.events:
            handled[e.subject].append(e.data["n"])

    engine = make_engine(db_url, concurrency=2)
    engine.subscribe(Subscription("g", ["order.*"], handle, max_attempts=2, backoff=FAST))
    async with engine:
        await engine.append([ev(f"s{i % 3}", i) for i in range(9)])
        await drained(engine)
        assert await engine.dead_letters() == []
        assert engine.stats.retried == 0
    assert len(calls) > down_for
    assert {s: ns for s, ns in handled.items()} == {
        "s0": [0, 3, 6],
        "s1": [1, 4, 7],
        "s2": [2, 5, 8],
    }


async def test_batch_fail_retries_one_event_and_commits_the_rest(db_url: str) -> None:
    handled: list[int] = []
    tries: dict[int, int] = defaultdict(int)

    async def handle(batch: Batch) -> None:
        failed_subjects: set[str] = set()
        for e in batch.events:
            if e.subject in failed_subjects:
                continue
            tries[e.data["n"]] += 1
            if e.data["n"] == 3 and tries[3] < 3:
                batch.fail(e, "credit check unavailable")
                failed_subjects.add(e.subject)
                continue
            handled.append(e.data["n"])

    engine = make_engine(db_url, concurrency=1)
    engine.subscribe(Subscription("g", ["order.*"], handle, backoff=FAST, batch_size=50))
    async with engine:
        await engine.append([ev("a", 1), ev("a", 2), ev("a", 3), ev("a", 4), ev("b", 5)])
        await drained(engine)
    assert [n for n in handled if n != 5] == [1, 2, 3, 4]
    assert 5 in handled and tries[3] == 3


async def test_emitted_events_are_appended_once_with_the_ack(db_url: str) -> None:
    confirmations: list[str] = []

    async def accept(batch: Batch) -> None:
        for e in batch.events:
            batch.emit(
                NewEvent(
                    "order.confirmed",
                    "crossdock",
                    e.subject,
                    {"from": e.id},
                    idempotency_key=f"confirm:{e.id}",
                )
            )

    async def confirmed(batch: Batch) -> None:
        confirmations.extend(e.subject for e in batch.events)

    engine = make_engine(db_url)
    engine.subscribe(Subscription("accept", ["order.accepted"], accept))
    engine.subscribe(Subscription("notify", ["order.confirmed"], confirmed))
    async with engine:
        await engine.append([ev(f"o:{i}", i) for i in range(40)])
        await until(lambda: _count(confirmations, 40), what="confirmations")
        await drained(engine)
    assert sorted(confirmations) == sorted(f"o:{i}" for i in range(40))


async def _count(items: list[str], n: int) -> bool:
    return len(items) >= n


async def test_group_starting_at_latest_skips_history(db_url: str) -> None:
    seen: list[int] = []

    async def handle(batch: Batch) -> None:
        seen.extend(e.data["n"] for e in batch.events)

    async with make_engine(db_url) as engine:
        await engine.append([ev("s", i) for i in range(5)])
    engine = make_engine(db_url)
    engine.subscribe(Subscription("late", ["order.*"], handle, start_at="latest"))
    async with engine:
        await engine.append([ev("s", 99)])
        await drained(engine)
    assert seen == [99]


def test_subscription_rejects_unknown_lane() -> None:
    async def handle(batch: Batch) -> None:
        return None

    engine = make_engine("sqlite:///unused.db")
    with pytest.raises(ValueError, match="unknown lane 'orders'"):
        engine.subscribe(Subscription("g", ["order.*"], handle, lane="orders"))


async def test_partitions_default_by_backend_and_the_first_count_stays(
    db_url: str, backend: str
) -> None:
    async with Engine(db_url) as engine:
        assert engine.partitions == {"sqlite": 16, "postgresql": 32}[backend]
    # A node configured differently later reads the count the log was written with.
    async with Engine(db_url, settings=EngineSettings(partitions=64)) as engine:
        assert engine.partitions == {"sqlite": 16, "postgresql": 32}[backend]
