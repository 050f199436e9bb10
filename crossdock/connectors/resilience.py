"""Resilience helpers shared by every connector: a circuit breaker and retries with backoff.

* :class:`CircuitBreaker` stops calling a system that keeps failing: after ``failure_threshold``
  consecutive transient failures it *opens* and rejects calls at once with
  :class:`~crossdock.errors.Unavailable`; after ``reset_timeout_s`` it lets one *half-open* probe
  through, which closes it again on success or re-opens it on failure. Business errors are not
  failures of the system and do not count (the caller decides which errors to record).
* :func:`retry_async` runs an awaitable factory until it succeeds, raises an error that is not
  retryable, or runs out of attempts, waiting as the project's one :class:`~crossdock.retry.Backoff`
  says (for connectors: exponential with full jitter, :data:`CONNECTOR_BACKOFF`).

Both take their clock and sleep function as parameters so tests drive them without waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

from crossdock.errors import Unavailable
from crossdock.retry import Backoff

__all__ = [
    "CONNECTOR_BACKOFF",
    "BreakerState",
    "CircuitBreaker",
    "retry_async",
]

T = TypeVar("T")

BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """Consecutive-failure circuit breaker with a single half-open probe."""

    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = 5,
        reset_timeout_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1 or reset_timeout_s <= 0:
            raise ValueError("failure_threshold must be >= 1 and reset_timeout_s > 0")
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_timeout_s = reset_timeout_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probe_in_flight = False
        self.times_opened = 0

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self.reset_timeout_s:
            return "half_open"
        return "open"

    def retry_in(self) -> float | None:
        """Seconds until the next probe may go (0 when half-open); None when closed."""
        if self._opened_at is None:
            return None
        return max(0.0, self.reset_timeout_s - (self._clock() - self._opened_at))

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def before_call(self) -> None:
        """Raise :class:`~crossdock.errors.Unavailable` unless a call may go through now.

        In the half-open state only one probe is let through until its outcome is recorded.
        """
        state = self.state
        if state == "closed":
            return
        assert self._opened_at is not None
        if state == "half_open" and not self._probe_in_flight:
            self._probe_in_flight = True
            return
        retry_in = self.retry_in() or 0.0
        raise Unavailable(
            f"circuit of {self.name} is open; next probe in {retry_in:.1f}s",
            retry_in,
            system=self.name,
        )

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._probe_in_flight = False

    def record_failure(self) -> None:
        """Count a transient failure; open (or re-open after a failed probe) at the threshold."""
        self._failures += 1
        if self._probe_in_flight or self._failures >= self.failure_threshold:
            if self._opened_at is None or self._probe_in_flight:
                self.times_opened += 1
            self._opened_at = self._clock()
            self._probe_in_flight = False

    def record_neutral(self) -> None:
        """The call reached the system and got an answer that says nothing about its health
        (a business error): a probe in flight counts as a success."""
        if self._probe_in_flight or self._opened_at is not None:
            self.record_success()
        else:
            self._failures = 0


CONNECTOR_BACKOFF = Backoff(base_s=0.2, max_s=5.0, jitter=1.0, full_jitter=True)
"""Calls to a system: attempt n waits anywhere up to `min(5, 0.2 * 2 ** (n - 1))` seconds."""


async def retry_async(
    operation: Callable[[], Awaitable[T]],
    *,
    attempts: int,
    backoff: Backoff = CONNECTOR_BACKOFF,
    retryable: Callable[[BaseException], bool],
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    on_retry: Callable[[int, BaseException, float], None] | None = None,
) -> T:
    """Await ``operation()`` until it succeeds; retry errors for which ``retryable`` is true.

    The last error is re-raised when ``attempts`` attempts have failed.
    """
    attempt = 1
    while True:
        try:
            return await operation()
        except Exception as exc:
            if attempt >= attempts or not retryable(exc):
                raise
            wait = backoff.delay(attempt)
            if on_retry is not None:
                on_retry(attempt, exc, wait)
            await sleep(wait)
            attempt += 1
