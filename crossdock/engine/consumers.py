"""What a consumer group declares (`Subscription`), what its handler receives (`Batch`), and how
failures are retried (`Backoff`, `Reject`).

A handler is `async def handle(batch: Batch) -> None`. Returning means every event in the batch was
handled. Raising means the batch failed: the engine then hands the events over one at a time to find
the failing ones, parks each failing event (and the later events of its subject) for a retry with
backoff, and lets every other subject move on. `batch.fail(event, error)` fails a single event
without failing the batch. Raising `Reject` marks the failure as permanent: no retry, straight to
the dead letters. Raising `Unavailable` says a system the handler needs is down (its circuit is
open): the partitions of the batch pause for `retry_after_s` with their cursors where they were,
then the same events come again in one batch — no attempt is counted and no event is handed over
alone, so an outage of any length neither buries events nor slows the drain afterwards.
Failing with `RetryAfter(message, delay_s)` counts an attempt whose retry waits the delay it gives
(a receiver's `Retry-After`) instead of the group's backoff.

Writes to the hub's own database go through `batch.write(fn)`: `fn(conn)` runs in the transaction
that acknowledges the batch, so the writes and the acknowledgement commit together or not at all.
Events emitted with `batch.emit(...)` are appended in that same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection

from crossdock.engine.envelope import Event, NewEvent
from crossdock.errors import CrossdockError
from crossdock.retry import Backoff

Handler = Callable[["Batch"], Awaitable[None]]
TYPE_PATTERN = re.compile(r"^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$")
WriteFn = Callable[[Connection], None]


class Reject(CrossdockError):
    """A permanent failure: the event goes to the dead letters without further attempts."""


class Failed(CrossdockError):
    """A failure given as a message to `Batch.fail`."""


class RetryAfter(CrossdockError):
    """A failed attempt whose next attempt waits `delay_s` (a receiver's `Retry-After`, say)
    instead of the group's backoff; it counts as an attempt like any failure."""

    def __init__(self, message: str, delay_s: float) -> None:
        super().__init__(message)
        self.delay_s = max(0.0, delay_s)


@dataclass(frozen=True)
class Subscription:
    """A consumer group: which event types it takes, its handler, lane and failure policy."""

    group: str
    types: Sequence[str]
    handler: Handler
    lane: str = "default"
    batch_size: int = 100
    max_attempts: int = 8
    backoff: Backoff = field(default_factory=Backoff)
    start_at: str = "beginning"  # or "latest": skip what was appended before the group existed
    max_leases: int | None = None  # leases (partitions claimed together, or a parked subject)
    # the group may hold at once across every process; None: no cap

    def __post_init__(self) -> None:
        if not self.group:
            raise ValueError("group: must not be empty")
        if not self.types:
            raise ValueError(f"{self.group}: subscribe to at least one event type")
        if self.max_leases is not None and self.max_leases < 1:
            raise ValueError(f"{self.group}: max_leases must be >= 1")
        if self.batch_size < 1 or self.max_attempts < 1:
            raise ValueError(f"{self.group}: batch_size and max_attempts must be >= 1")
        if self.start_at not in ("beginning", "latest"):
            raise ValueError(f"{self.group}: start_at must be 'beginning' or 'latest'")
        for pattern in self.types:
            if not TYPE_PATTERN.match(pattern):
                raise ValueError(
                    f"{self.group}: type pattern {pattern!r} must be a type (order.accepted), "
                    "a prefix (order.*) or *"
                )


@dataclass
class Batch:
    """Events of one consumer group handed to its handler, in log order per subject."""

    group: str
    events: list[Event]
    attempt: int = 1
    writes: list[WriteFn] = field(default_factory=list)
    emitted: list[NewEvent] = field(default_factory=list)
    failed: dict[int, BaseException] = field(default_factory=dict)

    def write(self, fn: WriteFn) -> None:
        """Run `fn(conn)` in the transaction that acknowledges this batch."""
        self.writes.append(fn)

    def emit(self, *new_events: NewEvent) -> None:
        """Append events atomically with this batch's acknowledgement."""
        for new in new_events:
            new.validate()
        self.emitted.extend(new_events)

    def fail(self, event: Event, error: BaseException | str) -> None:
        """Fail one event: it (and later events of its subject) will be retried, the rest commit."""
        self.failed[event.position] = error if isinstance(error, BaseException) else Failed(error)
