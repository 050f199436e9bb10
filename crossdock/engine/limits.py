"""Protection for target systems: a token-bucket rate limit plus a concurrency cap, per system.

Connectors wrap each call in `async with limiter.slot():`. Limits hold per process; with several
hub processes, configure each system's rate as the share one process may use.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager


class TokenBucket:
    """`rate_per_s` tokens per second, at most `burst` saved up."""

    def __init__(
        self, rate_per_s: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate_per_s must be > 0 and burst >= 1")
        self.rate = rate_per_s
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def try_take(self) -> float:
        """Take a token if one is there (returns 0.0), else the seconds until one will be."""
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.rate

    async def take(self) -> None:
        while (wait := self.try_take()) > 0:
            await asyncio.sleep(wait)


class Limiter:
    """Rate and concurrency limits for one target system."""

    def __init__(self, name: str, rate_per_s: float, burst: int, concurrency: int) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        self.name = name
        self.bucket = TokenBucket(rate_per_s, burst)
        self.concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        self.in_flight = 0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._slots:
            await self.bucket.take()
            self.in_flight += 1
            try:
                yield
            finally:
                self.in_flight -= 1
