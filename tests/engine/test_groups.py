"""Consumer groups decided at run time: a retry delay chosen per failure (`RetryAfter`), groups
added and removed while the engine runs, groups opened in a caller's transaction (and skipped
forward, their unread events listed), a cap on a group's leases across processes, the writes of
a failed retry, and an event handed over again (`requeue`) — on both backends."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

from sqlalchemy import func, select

from crossdock.engine import (
    Backoff,
    Batch,
    Engine,
    EngineSettings,
    Lane,
    NewEvent,
    RetryAfter,
    Subscription,
    count_unread,
    cursors_table,
    open_group,
    requeue,
    skip_unread,
    unread,
)
from tests.support.waiting import until

SETTINGS = EngineSettings(poll_interval_s=0.02, lease_seconds=5)
SLOW = Backoff(base_s=3600, max_s=3600, jitter=0)  # a retry only comes back early if told so


def make_engine(url: str, concurrency: int = 4, node: str | None = None) -> Engine:
    return Engine(url, settings=SETTINGS, lanes=[Lane("default", 0, concurrency)], node=node)


def ev(subject: str, n: int, kind: str = "order.accepted") -> NewEvent:
    return NewEvent(kind, "shop", subject, {"n": n})


async def test_retry_after_sets_the_delay_of_one_failure(db_url: str) -> None:
    tries: dict[int, list[tuple[int, float]]] = defaultdict(list)

    async def handle(batch: Batch) -> None:
        for e in batch.events:
            tries[e.data["n"]].append((batch.attempt, time.time()))
            if len(tries[e.data["n"]]) == 1:
                batch.fail(e, RetryAfter("429 Too Many Requests", 0.3))

    engine = make_engine(db_url)
    engine.subscribe(Subscription("g", ["order.*"], handle, backoff=SLOW, max_attempts=3))
    once = make_engine(db_url)
    once.subscribe(
        Subscription("last", ["order.*"], lambda b: _refuse(b), backoff=SLOW, max_attempts=1)
    )
    async with engine, once:
        await engine.append([ev("a", 1)])
        await until(lambda: _tried(tries, 1, 2), what="the retry after the chosen delay")
        await until(once.idle, what="the last attempt settled")
        [dead] = await once.dead_letters(group="last")
    (first, at_first), (second, at_second) = tries[1]
    assert (first, second) == (1, 2)
    assert at_second - at_first >= 0.3, "not before the delay the failure chose"
    assert dead.attempts == 1 and "429" in dead.errors[0]["error"]


async def _refuse(batch: Batch) -> None:
    for e in batch.events:
        batch.fail(e, RetryAfter("429 Too Many Requests", 0.01))


async def _tried(tries: dict[int, list[tuple[int, float]]], n: int, count: int) -> bool:
    return len(tries[n]) >= count


async def test_groups_added_and_removed_while_running(db_url: str) -> None:
    seen: dict[str, list[int]] = defaultdict(list)

    def recorder(group: str) -> Subscription:
        async def handle(batch: Batch) -> None:
            seen[group].extend(e.data["n"] for e in batch.events)

        return Subscription(group, ["order.*"], handle, start_at="latest")

    engine = make_engine(db_url)  # no group at start: workers still run
    async with engine:
        await engine.append([ev("s", 1)])
        await engine.add_group(recorder("first"))
        await engine.append([ev("s", 2)])
        await until(lambda: _seen(seen, "first", 1), what="the first group")
        await engine.add_group(recorder("second"))
        await engine.append([ev("s", 3)])
        await until(lambda: _seen(seen, "second", 1), what="the second group")
        await until(lambda: _seen(seen, "first", 2), what="the first group again")
        await engine.remove_group("first", forget=True)
        await engine.append([ev("s", 4)])
        await until(lambda: _seen(seen, "second", 2), what="the second group again")
        await until(engine.idle, what="the backlog to drain")
        left = await engine.db.read(
            lambda c: c.execute(
                select(func.count())
                .select_from(cursors_table)
                .where(cursors_table.c.group_name == "first")
            ).scalar_one()
        )
    assert seen == {"first": [2, 3], "second": [3, 4]}
    assert left == 0


async def _seen(seen: dict[str, list[int]], group: str, count: int) -> bool:
    return len(seen[group]) >= count


async def test_max_leases_caps_a_group_across_processes(db_url: str) -> None:
    release = asyncio.Event()
    in_flight = 0
    most = 0
    capped_done: list[int] = []
    free_done: list[int] = []

    async def capped(batch: Batch) -> None:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        try:
            await release.wait()
        finally:
            in_flight -= 1
        capped_done.extend(e.data["n"] for e in batch.events)

    async def free(batch: Batch) -> None:
        free_done.extend(e.data["n"] for e in batch.events)

    engines = [make_engine(db_url, concurrency=4, node=f"node-{i}") for i in range(2)]
    for engine in engines:
        engine.subscribe(Subscription("capped", ["order.*"], capped, batch_size=1, max_leases=1))
        engine.subscribe(Subscription("free", ["order.*"], free, batch_size=1))
    first, second = engines
    async with first, second:
        await first.append([ev(f"s{i}", i) for i in range(40)])
        await until(lambda: _at_least(free_done, 40), what="the uncapped group")
        # The workers of both engines claimed forty times meanwhile; the capped group, with
        # unread events in every partition, still holds one lease.
        assert in_flight == 1 and capped_done == []
        release.set()
        await until(lambda: _at_least(capped_done, 40), what="the capped group")
    assert most == 1
    assert sorted(capped_done) == list(range(40))


async def _at_least(items: list[int], n: int) -> bool:
    return len(items) >= n


async def test_a_group_opened_in_a_callers_transaction(db_url: str) -> None:
    seen: dict[str, list[int]] = defaultdict(list)

    def recorder(group: str) -> Subscription:
        async def handle(batch: Batch) -> None:
            seen[group].extend(e.data["n"] for e in batch.events)

        return Subscription(group, ["order.*"], handle, start_at="latest")

    engine = make_engine(db_url)
    async with engine:
        await engine.append([ev("s", 1)])
        await engine.writer.submit(lambda c: open_group(c, "opened"))
        await engine.writer.submit(lambda c: open_group(c, "skipping"))
        await engine.append([ev("s", 2), ev("t", 3, "invoice.posted")])
        waiting = await engine.db.read(lambda c: unread(c, "opened", ["order.*"], 10))
        counted = await engine.db.read(lambda c: count_unread(c, "opened", ["*"]))
        await engine.writer.submit(lambda c: skip_unread(c, "skipping"))
        await engine.append([ev("s", 4)])
        await engine.add_group(recorder("opened"))  # later, as another process would
        await engine.add_group(recorder("skipping"))
        await until(lambda: _seen(seen, "opened", 2), what="the opened group")
        await until(lambda: _seen(seen, "skipping", 1), what="the skipping group")
        await until(engine.idle, what="the backlog to drain")
    assert [e.data["n"] for e in waiting] == [2] and counted == 2
    assert seen == {"opened": [2, 4], "skipping": [4]}


async def test_a_failed_retry_commits_its_writes_and_requeue_hands_over_again(
    db_url: str,
) -> None:
    calls: list[tuple[int, int]] = []

    async def handle(batch: Batch) -> None:
        for e in batch.events:
            if e.type != "order.accepted":
                continue
            calls.append((e.data["n"], batch.attempt))
            batch.emit(NewEvent("note.attempted", "test", "notes", {"attempt": batch.attempt}))
            if batch.attempt < 3 and len(calls) <= 3:
                batch.fail(e, RetryAfter("not yet", 0.01))

    engine = make_engine(db_url)
    engine.subscribe(Subscription("g", ["order.*"], handle, backoff=SLOW, max_attempts=5))
    async with engine:
        await engine.append([ev("s", 1)])
        await until(lambda: _calls(calls, 3), what="three attempts")
        await until(engine.idle, what="the retries settled")
        [event] = await engine.events_after(0, 10, types=["order.accepted"])
        dialect = engine.db.dialect
        assert await engine.writer.submit(
            lambda c: requeue(c, dialect, "g", event.position, time.time())
        )
        engine.notifier.notify()
        await until(lambda: _calls(calls, 4), what="the event handed over again")
        await until(engine.idle, what="the replay settled")
        notes = await engine.events_after(0, 100, types=["note.attempted"])
    assert calls == [(1, 1), (1, 2), (1, 3), (1, 1)]
    assert [n.data["attempt"] for n in notes] == [1, 2, 3, 1], "failed attempts wrote too"


async def _calls(calls: list[tuple[int, int]], n: int) -> bool:
    return len(calls) >= n
