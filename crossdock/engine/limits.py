"""Rate limits: a token bucket, plus a concurrency cap per target system.

Connectors wrap each call in `async with limiter.slot():`. Limits hold per process; with several
hub processes, configure each system's rate as the share one process may use. The API's
per-token limits are shared by the processes of one server (`serve --processes`) through
`SharedTokenBucket`, whose state is a small file in `$CROSSDOCK_SHARED_DIR`.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import struct
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

SHARED_DIR_ENV = "CROSSDOCK_SHARED_DIR"
"""A directory private to the processes of one server (set by its supervisor)."""

_STATE = struct.Struct("dd")  # tokens, when counted (time.monotonic: one clock per machine)


def _take(tokens: float, stamp: float, now: float, rate: float, burst: int) -> tuple[float, float]:
    """The bucket after a take at `now`, and the wait (0.0: a token was taken)."""
    tokens = min(burst, tokens + (now - stamp) * rate)
    if tokens >= 1:
        return tokens - 1, 0.0
    return tokens, (1 - tokens) / rate


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

    def try_take(self) -> float:
        """Take a token if one is there (returns 0.0), else the seconds until one will be."""
        now = self._clock()
        self._tokens, wait = _take(self._tokens, self._stamp, now, self.rate, self.burst)
        self._stamp = now
        return wait

    async def take(self) -> None:
        while (wait := self.try_take()) > 0:
            await asyncio.sleep(wait)


class SharedTokenBucket:
    """A `TokenBucket` whose state is the file `path`, read and written under an exclusive lock
    of it, so that every process using the file takes from one bucket."""

    def __init__(self, path: Path, rate_per_s: float, burst: int) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate_per_s must be > 0 and burst >= 1")
        self.rate = rate_per_s
        self.burst = burst
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def try_take(self) -> float:
        """Take a token if one is there (returns 0.0), else the seconds until one will be."""
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            now = time.monotonic()
            stored = os.pread(self._fd, _STATE.size, 0)
            tokens, stamp = (
                _STATE.unpack(stored) if len(stored) == _STATE.size else (self.burst, now)
            )
            tokens, wait = _take(tokens, stamp, now, self.rate, self.burst)
            os.pwrite(self._fd, _STATE.pack(tokens, now), 0)
            return wait
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


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
