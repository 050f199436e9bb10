"""Cron schedules fire once per tick across nodes, and catch up once after downtime."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

import pytest

from crossdock.engine import Batch, Engine, EngineSettings, Schedule, Subscription
from tests.support.waiting import until

T0 = 1_790_000_000.0  # a fixed moment; ticks are computed from it, not from the wall clock


def node(url: str, ticks: Counter[str] | None = None) -> Engine:
    engine = Engine(url, settings=EngineSettings(poll_interval_s=0.02))
    engine.schedule(Schedule("stock-reconcile", "* * * * *", "reconcile.stock.requested"))
    if ticks is not None:

        async def handle(batch: Batch) -> None:
            ticks.update(e.data["tick"] for e in batch.events)

        engine.subscribe(Subscription("reconcile", ["reconcile.*"], handle))
    return engine


async def test_two_nodes_fire_each_tick_once(db_url: str) -> None:
    ticks: Counter[str] = Counter()
    first, second = node(db_url, ticks), node(db_url)
    await first.start(scheduler=False)
    await second.start(scheduler=False)
    try:
        base = (T0 // 60) * 60 + 5
        await asyncio.gather(first.fire_schedules(base), second.fire_schedules(base))
        for minute in range(1, 6):
            now = base + 60 * minute
            await asyncio.gather(*(n.fire_schedules(now) for n in (first, second, first)))
        await until(lambda: _at_least(ticks, 5), what="five ticks handled")
        await until(first.idle, what="drain")
        # Both nodes down for four minutes: one catch-up tick, not four.
        await asyncio.gather(first.fire_schedules(base + 600), second.fire_schedules(base + 600))
        await until(lambda: _at_least(ticks, 6), what="the catch-up tick")
        await until(first.idle, what="drain")
    finally:
        await first.stop()
        await second.stop()
    assert len(ticks) == 6
    assert set(ticks.values()) == {1}


async def _at_least(ticks: Counter[str], n: int) -> bool:
    return len(ticks) >= n


def test_invalid_cron_is_refused() -> None:
    with pytest.raises(ValueError, match="not a valid cron"):
        Schedule("bad", "every minute", "x.y")


def test_cron_is_read_in_the_schedules_time_zone() -> None:
    nightly = Schedule("n", "0 2 * * *", "x.y", timezone="Europe/Brussels")
    winter = datetime(2026, 1, 15, 12, 0, tzinfo=UTC).timestamp()
    summer = datetime(2026, 7, 15, 12, 0, tzinfo=UTC).timestamp()
    # 02:00 in Brussels is 01:00 UTC in winter (CET) and 00:00 UTC in summer (CEST)
    assert nightly.latest_tick(winter) == datetime(2026, 1, 15, 1, 0, tzinfo=UTC).timestamp()
    assert nightly.latest_tick(summer) == datetime(2026, 7, 15, 0, 0, tzinfo=UTC).timestamp()
    assert nightly.next_tick(summer) == datetime(2026, 7, 16, 0, 0, tzinfo=UTC).timestamp()
    utc = Schedule("u", "0 2 * * *", "x.y")
    assert utc.latest_tick(summer) == datetime(2026, 7, 15, 2, 0, tzinfo=UTC).timestamp()
    with pytest.raises(ValueError, match="unknown time zone"):
        Schedule("bad", "0 2 * * *", "x.y", timezone="Mars/Olympus")


def test_latest_and_next_tick() -> None:
    schedule = Schedule("s", "*/5 * * * *", "x.y")
    on_tick = (T0 // 300) * 300
    assert schedule.latest_tick(on_tick) == on_tick
    assert schedule.latest_tick(on_tick + 299) == on_tick
    assert schedule.next_tick(on_tick + 1) == on_tick + 300
