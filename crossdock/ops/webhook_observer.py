"""What the operations layer logs of webhook deliveries (the delivery worker's `on_result`): one
line per failed attempt (`webhooks.delivery_failed`, with the status or error and when the next
attempt goes) and one per message dead-lettered after its last attempt
(`webhooks.dead_lettered`). Successes are counted by the metrics, not logged."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

import structlog

from crossdock.engine import format_time

__all__ = ["log_delivery"]


# What the log reads of an attempt (the webhook queue's claim, result and record of it): an
# interface, so that operations observe the webhooks without importing them.
class Claimed(Protocol):
    @property
    def endpoint_id(self) -> str: ...
    @property
    def message_id(self) -> int: ...
    @property
    def msg_id(self) -> str: ...
    @property
    def attempt(self) -> int: ...


class Result(Protocol):
    @property
    def ok(self) -> bool: ...
    @property
    def status(self) -> int | None: ...
    @property
    def error(self) -> str | None: ...


class Recorded(Protocol):
    @property
    def outcome(self) -> str: ...
    @property
    def next_at(self) -> float | None: ...


def log_delivery(claimed: Claimed, result: Result, recorded: Recorded) -> None:
    """Log a recorded attempt that failed (the worker calls this after recording each one)."""
    if result.ok or recorded.outcome == "lost":
        return
    # Looked up at each call: these lines are rare, and a test's logging configuration applies.
    log = structlog.get_logger("crossdock.webhooks")
    keys = {
        "endpoint_id": claimed.endpoint_id,
        "message_id": claimed.message_id,
        "event_id": claimed.msg_id,
        "attempt": claimed.attempt,
        "status": result.status,
        "error": result.error,
    }
    if recorded.outcome == "dead":
        log.error("webhooks.dead_lettered", **keys)
        return
    next_at = recorded.next_at
    when = format_time(datetime.fromtimestamp(next_at, UTC)) if next_at is not None else None
    log.warning("webhooks.delivery_failed", **keys, next_attempt_at=when)
