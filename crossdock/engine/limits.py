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
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
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


_BACKGROUND: ContextVar[bool] = ContextVar("crossdock_background_calls", default=False)
GIVE_WAY_QUIET_S = 0.05
"""A background call starts once the system's other calls have paused this long…"""
GIVE_WAY_MAX_S = 2.0
"""…or once it has waited this long (bulk work slows down under traffic, it never stops)."""


@contextmanager
def background() -> Iterator[None]:
    """Calls made inside (by this task and the tasks it starts) are bulk work that gives way:
    each waits until the target system's other calls pause (see `Limiter.slot`)."""
    token = _BACKGROUND.set(True)
    try:
        yield
    finally:
        _BACKGROUND.reset(token)


class Limiter:
    """Rate and concurrency limits for one target system, and priority for its interactive
    calls: a call made under `background()` (stock written in bulk) waits until no other call is
    in flight and none has been for `GIVE_WAY_QUIET_S`, at most `GIVE_WAY_MAX_S`. An order's
    calls to the ERP then meet at most one bulk call in progress, not a queue of them."""

    def __init__(
        self,
        name: str,
        rate_per_s: float,
        burst: int,
        concurrency: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        self.name = name
        self.bucket = TokenBucket(rate_per_s, burst, clock)
        self.concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        self._clock = clock
        self.in_flight = 0
        self._interactive = 0
        self._interactive_ended = float("-inf")

    async def _give_way(self) -> None:
        deadline = self._clock() + GIVE_WAY_MAX_S
        while True:
            now = self._clock()
            quiet = now - self._interactive_ended if self._interactive == 0 else 0.0
            if quiet >= GIVE_WAY_QUIET_S or now >= deadline:
                return
            await asyncio.sleep(min(GIVE_WAY_QUIET_S - quiet, deadline - now))

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        bulk = _BACKGROUND.get()
        if bulk:
            await self._give_way()
        async with self._slots:
            await self.bucket.take()
            self.in_flight += 1
            if not bulk:
                self._interactive += 1
            try:
                yield
            finally:
                self.in_flight -= 1
                if not bulk:
                    self._interactive -= 1
                    self._interactive_ended = self._clock()
