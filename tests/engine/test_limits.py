"""Rate limit (token bucket) and concurrency cap for target systems."""

from __future__ import annotations

import asyncio
import time

from crossdock.engine import Limiter, TokenBucket
from crossdock.engine.limits import GIVE_WAY_MAX_S, GIVE_WAY_QUIET_S, background


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(rate_per_s=10, burst=5, clock=lambda: now[0])
    assert [bucket.try_take() for _ in range(5)] == [0.0] * 5
    assert abs(bucket.try_take() - 0.1) < 1e-9
    now[0] += 0.25
    assert bucket.try_take() == 0.0 and bucket.try_take() == 0.0
    assert bucket.try_take() > 0
    now[0] += 100
    assert sum(bucket.try_take() == 0.0 for _ in range(10)) == 5  # never more than the burst


async def test_limiter_caps_concurrency() -> None:
    limiter = Limiter("odoo", rate_per_s=1000, burst=1000, concurrency=3)
    gate = asyncio.Event()
    peak = 0
    entered = 0

    async def call() -> None:
        nonlocal peak, entered
        async with limiter.slot():
            entered += 1
            peak = max(peak, limiter.in_flight)
            await gate.wait()

    tasks = [asyncio.create_task(call()) for _ in range(10)]
    while entered < 3:
        await asyncio.sleep(0)
    for _ in range(50):  # give the other seven every chance to (wrongly) enter
        await asyncio.sleep(0)
    assert entered == 3
    gate.set()
    await asyncio.gather(*tasks)
    assert peak == 3 and entered == 10


async def test_a_background_call_waits_for_the_others_to_pause() -> None:
    limiter = Limiter("odoo", rate_per_s=1000, burst=1000, concurrency=4)
    release = asyncio.Event()
    entered = asyncio.Event()
    ended_at: list[float] = []
    started_at: list[float] = []

    async def interactive() -> None:
        async with limiter.slot():
            entered.set()
            await release.wait()
        ended_at.append(time.monotonic())

    async def bulk() -> None:
        with background():
            async with limiter.slot():
                started_at.append(time.monotonic())

    order_call = asyncio.create_task(interactive())
    await entered.wait()
    stock_call = asyncio.create_task(bulk())
    for _ in range(20):
        await asyncio.sleep(0)
    assert not started_at, "a bulk call went in beside an order's call (slots were free)"
    release.set()
    await order_call
    await asyncio.wait_for(stock_call, timeout=10)
    assert started_at[0] - ended_at[0] >= GIVE_WAY_QUIET_S


async def test_a_background_call_waits_no_longer_than_its_limit() -> None:
    now = [0.0]
    limiter = Limiter("odoo", rate_per_s=1000, burst=1000, concurrency=4, clock=lambda: now[0])
    release = asyncio.Event()
    entered = asyncio.Event()
    went_in = asyncio.Event()

    async def interactive() -> None:
        async with limiter.slot():
            entered.set()
            await release.wait()

    async def bulk() -> None:
        with background():
            async with limiter.slot():
                went_in.set()

    order_call = asyncio.create_task(interactive())
    await entered.wait()
    stock_call = asyncio.create_task(bulk())
    for _ in range(20):
        await asyncio.sleep(0)
    assert not went_in.is_set()
    now[0] += GIVE_WAY_MAX_S  # orders keep the system busy: bulk work goes on all the same
    await asyncio.wait_for(went_in.wait(), timeout=10)
    assert not order_call.done()
    release.set()
    await asyncio.gather(order_call, stock_call)
