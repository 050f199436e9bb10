"""`Retry-After` parsing; the retry schedule itself is a `crossdock.retry.Backoff.schedule`."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

MAX_RETRY_AFTER_S = 86400.0


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
