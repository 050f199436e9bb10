"""Readiness checks of `/readyz` beyond the database: the systems the hub cannot work without
(today the ERP), each asked with a cheap call under a timeout, its answer cached briefly so that
a probe polling every second does not become a call to the system every second."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

PROBE_TTL_S = 5.0
"""How long an answer is reused: the readiness of a system changes on a scale of seconds."""
PROBE_TIMEOUT_S = 2.0
"""A system slower than this to say its version is not ready for work either."""

OK = "ok"


class Probe:
    """One check (an awaitable answering `ok` or raising), its last answer reused for `ttl_s`.
    Concurrent callers share one call."""

    def __init__(
        self,
        check: Callable[[], Awaitable[str]],
        *,
        ttl_s: float = PROBE_TTL_S,
        timeout_s: float = PROBE_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._check = check
        self._ttl_s = ttl_s
        self._timeout_s = timeout_s
        self._clock = clock
        self._answer: tuple[float, str] | None = None
        self._lock = asyncio.Lock()

    async def result(self) -> str:
        """`ok`, or `failing: <why>`."""
        async with self._lock:
            now = self._clock()
            if self._answer is not None and now - self._answer[0] < self._ttl_s:
                return self._answer[1]
            answer = await self._ask()
            self._answer = (now, answer)
            return answer

    async def _ask(self) -> str:
        try:
            async with asyncio.timeout(self._timeout_s):
                return await self._check()
        except TimeoutError:
            return f"failing: no answer within {self._timeout_s:g} s"
        except Exception as exc:  # any failure to answer is "not ready", named by its cause
            return f"failing: {type(exc.__cause__ or exc).__name__}"
