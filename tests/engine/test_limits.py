"""Rate limit (token bucket) and concurrency cap for target systems."""

from __future__ import annotations

import asyncio

from crossdock.engine import Limiter, TokenBucket


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
