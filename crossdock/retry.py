"""The one retry back-off of the project: how long to wait after a failed attempt.

`Backoff.delay(attempt)` is a pure function of the attempt number (and a random source for the
jitter), not a wrapper around a call, because the engine and the webhooks store the next attempt's
time in the database and wait for it there; the connectors (`connectors.resilience.retry_async`)
and the supervisor's restarts sleep for it in process. Two forms:

* exponential: `base_s * factor ** (attempt - 1)`, capped at `max_s`;
* an explicit schedule (`Backoff.schedule`), as webhooks configure it: a list of delays that
  begins with the first try's (normally 0, "at once"), then "5 s, 5 min, ...", the last one
  repeating; its length is the number of attempts.

The jitter is either proportional (`+/- jitter` of the delay) or full (`full_jitter`: anywhere
between 0 and the delay, as for calls that many clients retry at once).

A stdlib-only leaf module so that every layer (engine, connectors, webhooks, commands) can import
it; no library is used because `tenacity` and `stamina` wrap calls and keep the attempt count in
memory, while the stored-delay case needs the delay of attempt n on its own.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Backoff"]


@dataclass(frozen=True, slots=True)
class Backoff:
    """The wait after failed attempt n (1-based), jittered."""

    base_s: float = 1.0
    factor: float = 2.0
    max_s: float = 3600.0
    jitter: float = 0.2
    full_jitter: bool = False
    steps: tuple[float, ...] = ()
    """An explicit schedule: `steps[n]` is the wait before attempt n+1 (`steps[0]` before the
    first); when given, it replaces the exponential form."""

    @classmethod
    def schedule(cls, delays: Sequence[float], jitter: float = 0.1) -> Backoff:
        """An explicit schedule: `delays[n]` is the wait before attempt n+1, the last repeating."""
        if not delays:
            raise ValueError("a retry schedule needs at least one delay")
        return cls(jitter=jitter, steps=tuple(float(d) for d in delays))

    @property
    def attempts(self) -> int | None:
        """How many attempts an explicit schedule allows; None for the exponential form."""
        return len(self.steps) if self.steps else None

    def nominal(self, attempt: int) -> float:
        """The wait after failed attempt `attempt`, before jitter."""
        if self.steps:
            return self.steps[min(max(attempt, 0), len(self.steps) - 1)]
        return min(self.max_s, self.base_s * self.factor ** max(0, attempt - 1))

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """The wait after failed attempt `attempt`, jittered."""
        raw = self.nominal(attempt)
        source = rng or random
        if self.full_jitter:
            return source.uniform(0, raw) if self.jitter else raw
        spread = raw * self.jitter
        return max(0.0, raw + source.uniform(-spread, spread))

    def span_s(self) -> float:
        """An explicit schedule's whole length without jitter (how long a message is retried)."""
        return float(sum(self.steps))
