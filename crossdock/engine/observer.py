"""Hooks through which the engine reports what it does, for metrics, tracing and logs.

The engine never imports the operations layer: it is handed an `Observer` (`Engine(observer=…)`)
and calls it at a few points — around each handler call, when a delivery is settled, after each
group commit. `NullObserver` (the default) does nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from crossdock.engine.envelope import Event


class HandlerScope(Protocol):
    """What the observer gives back for one handler call."""

    def traceparent_for(self, subject: str) -> str | None:
        """The W3C traceparent for events the handler emits on `subject` without one."""
        ...


class Observer(Protocol):
    def handling(
        self, group: str, lane: str, events: Sequence[Event], attempt: int
    ) -> AbstractContextManager[HandlerScope]:
        """Wraps one handler call (`events` handed over together); exceptions pass through."""
        ...

    def settled(
        self, group: str, lane: str, *, handled: int, failed: int, dead_lettered: int, retried: int
    ) -> None:
        """A delivery was acknowledged: events handled, failed (to retry), dead-lettered, and
        events that were retries of parked ones."""
        ...

    def committed(self, seconds: float, operations: int) -> None:
        """A group commit of the writer finished: its duration and the operations it carried."""
        ...


class _NoScope:
    def traceparent_for(self, subject: str) -> str | None:
        return None


class NullObserver:
    """Observes nothing."""

    @contextlib.contextmanager
    def handling(
        self, group: str, lane: str, events: Sequence[Event], attempt: int
    ) -> Iterator[HandlerScope]:
        yield _NoScope()

    def settled(
        self, group: str, lane: str, *, handled: int, failed: int, dead_lettered: int, retried: int
    ) -> None:
        return None

    def committed(self, seconds: float, operations: int) -> None:
        return None
