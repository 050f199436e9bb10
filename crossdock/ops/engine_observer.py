"""What the operations layer does when the engine reports (the `Observer` of `crossdock.engine`):
a span and timing per handler batch, counters per settled delivery (and a log line when events
were dead-lettered), commit durations.

A batch whose events belong to one trace gets a span that is a child of that trace (the events'
`traceparent`), so `POST /v1/orders` → handler → Odoo calls is one trace. A batch mixing several
traces starts a new trace linked to each of them; events it emits keep the trace of the event
with the same subject. Business keys and trace ids are also bound to the log context for the
duration of the handler call.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence

import structlog
from opentelemetry import trace

from crossdock.engine import Event, HandlerScope
from crossdock.ops import metrics as m
from crossdock.ops.tracing import (
    Tracing,
    business_keys,
    current_traceparent,
    distinct_parents,
)

__all__ = ["EngineMetricsObserver"]


class _Scope:
    def __init__(self, own: str | None, by_subject: dict[str, str]) -> None:
        self._own = own
        self._by_subject = by_subject

    def traceparent_for(self, subject: str) -> str | None:
        return self._by_subject.get(subject, self._own)


class EngineMetricsObserver:
    """Implements the engine's observer protocol with metrics, spans and log context."""

    def __init__(self, tracing: Tracing | None) -> None:
        self._tracing = tracing

    @contextlib.contextmanager
    def handling(
        self, group: str, lane: str, events: Sequence[Event], attempt: int
    ) -> Iterator[HandlerScope]:
        m.HANDLER_BATCH_EVENTS.labels(group, lane).observe(len(events))
        keys = business_keys((e.subject for e in events), (e.data for e in events))
        log_keys = {k.removeprefix("crossdock."): v for k, v in keys.items() if isinstance(v, str)}
        started = time.perf_counter()
        try:
            with (
                structlog.contextvars.bound_contextvars(group=group, **log_keys),
                self._span(group, lane, events, attempt, keys) as scope,
            ):
                yield scope
        except Exception as exc:
            m.HANDLER_ERRORS.labels(group, lane, type(exc).__name__).inc()
            raise
        finally:
            m.HANDLER_BATCH_SECONDS.labels(group, lane).observe(time.perf_counter() - started)

    @contextlib.contextmanager
    def _span(
        self,
        group: str,
        lane: str,
        events: Sequence[Event],
        attempt: int,
        keys: dict[str, object],
    ) -> Iterator[_Scope]:
        if self._tracing is None:
            yield _Scope(None, {})
            return
        parents = distinct_parents([e.traceparent for e in events])
        parent_context = None
        links: list[trace.Link] = []
        if len(parents) == 1:
            parent_context = trace.set_span_in_context(
                trace.NonRecordingSpan(next(iter(parents.values())))
            )
        else:
            links = [trace.Link(ctx) for ctx in parents.values()]
        attributes: dict[str, object] = {
            "crossdock.group": group,
            "crossdock.lane": lane,
            "crossdock.batch.size": len(events),
            "crossdock.attempt": attempt,
            "crossdock.event_types": sorted({e.type for e in events}),
            **keys,
        }
        with self._tracing.tracer.start_as_current_span(
            f"handle {group}",
            context=parent_context,
            kind=trace.SpanKind.CONSUMER,
            links=links,
            attributes=attributes,  # type: ignore[arg-type]
        ):
            own = current_traceparent()
            # Several traces in one batch: what it emits on a subject stays in that subject's trace.
            by_subject = (
                {e.subject: e.traceparent for e in events if e.traceparent}
                if len(parents) > 1
                else {}
            )
            yield _Scope(own, by_subject)

    def settled(
        self, group: str, lane: str, *, handled: int, failed: int, dead_lettered: int, retried: int
    ) -> None:
        for outcome, count in (
            ("handled", handled),
            ("failed", failed),
            ("dead_lettered", dead_lettered),
        ):
            if count:
                m.EVENTS_SETTLED.labels(group, lane, outcome).inc(count)
        if dead_lettered:
            m.DEAD_LETTERED.labels(group, lane).inc(dead_lettered)
            structlog.get_logger("crossdock.engine").error(
                "engine.dead_lettered",
                group=group,
                lane=lane,
                events=dead_lettered,
                see=f"crossdock dlq list --group {group}",
            )
        if retried:
            m.RETRIES.labels(group, lane).inc(retried)

    def committed(self, seconds: float, operations: int) -> None:
        m.COMMIT_SECONDS.observe(seconds)
        m.COMMIT_OPERATIONS.observe(operations)
