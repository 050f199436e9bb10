"""The retry schedule: the delay before each attempt, with jitter, and `Retry-After` parsing."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

MAX_RETRY_AFTER_S = 86400.0


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """`delays[n]` is the wait before attempt n+1 (`delays[0]`, normally 0, is the first try);
    after `len(delays)` failed attempts the message is dead-lettered."""

    delays: Sequence[float]
    jitter: float = 0.1

    @property
    def attempts(self) -> int:
        return len(self.delays)

    def delay_before(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before `attempt` (1-based), jittered by +/- `jitter`."""
        raw = float(self.delays[min(attempt, len(self.delays)) - 1])
        spread = raw * self.jitter
        return max(0.0, raw + (rng or random).uniform(-spread, spread))

    def span_s(self) -> float:
        """The whole schedule without jitter (how long a message is retried)."""
        return float(sum(self.delays))


def retry_after_s(value: str | None, now: float | None = None) -> float | None:
    """`Retry-After` as seconds: delta-seconds or an HTTP date; `None` if absent or invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = moment.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return min(MAX_RETRY_AFTER_S, max(0.0, seconds))
