"""OpenTelemetry tracing: one tracer provider per hub, W3C `traceparent` in and out.

A trace follows an order through the hub: the HTTP request's span (the client's `traceparent` as
parent, if it sent one) → the `order.accepted` event (which stores the request span's
traceparent) → the handler batch span (that event's context as parent, or links when a batch
mixes several traces) → connector call spans (the `traceparent` header goes to Odoo) → events the
handler emits (they carry the handler span's traceparent) → outbound webhooks
(`current_traceparent()` at delivery).

Spans are exported over OTLP/HTTP only when `observability.otlp_endpoint` is set; with
`observability.tracing: false` no span is created at all. The provider is the hub's own (not the
process-global one), so tests run several hubs each with an in-memory exporter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from crossdock.config.schema import ObservabilityConfig

__all__ = [
    "Tracing",
    "business_keys",
    "context_from",
    "current_traceparent",
    "span_context_of",
    "tag_current_span",
]

_PROPAGATOR = TraceContextTextMapPropagator()
TRACER_NAME = "crossdock"
MAX_KEYS_PER_SPAN = 50
# Subject prefixes (`order:<id>`) and data keys that name a business object.
_SUBJECT_KEYS = {
    "order": "crossdock.order_id",
    "shipment": "crossdock.shipment_id",
    "po": "crossdock.purchase_order_id",
    "purchase_order": "crossdock.purchase_order_id",
}
_DATA_KEYS = {
    "order_id": "crossdock.order_id",
    "shipment_id": "crossdock.shipment_id",
    "purchase_order_id": "crossdock.purchase_order_id",
}


@dataclass
class Tracing:
    """The hub's tracer provider and tracer."""

    provider: TracerProvider
    tracer: trace.Tracer

    @classmethod
    def from_config(
        cls, config: ObservabilityConfig, exporter: SpanExporter | None = None
    ) -> Tracing | None:
        """None when tracing is off. `exporter` overrides the OTLP one (tests)."""
        if not config.tracing:
            return None
        provider = TracerProvider(
            sampler=ParentBased(TraceIdRatioBased(config.sample_ratio)),
            resource=Resource.create({"service.name": config.service_name}),
            shutdown_on_exit=False,
        )
        if exporter is None and config.otlp_endpoint:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter(endpoint=config.otlp_endpoint)
        if exporter is not None:
            provider.add_span_processor(BatchSpanProcessor(exporter))
        return cls(provider, provider.get_tracer(TRACER_NAME))

    def shutdown(self) -> None:
        self.provider.shutdown()


def current_traceparent() -> str | None:
    """The W3C traceparent of the current span (None outside any span): put it on outbound
    requests and events so the receiver continues the trace."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


def context_from(traceparent: str | None) -> Context | None:
    """The context a traceparent names (None when absent or malformed)."""
    if not traceparent:
        return None
    context = _PROPAGATOR.extract({"traceparent": traceparent})
    return context if trace.get_current_span(context).get_span_context().is_valid else None


def span_context_of(traceparent: str | None) -> trace.SpanContext | None:
    context = context_from(traceparent)
    return None if context is None else trace.get_current_span(context).get_span_context()


def business_keys(
    subjects: Iterable[str], data: Iterable[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """Span attributes naming the business objects of events: a single value per key, or a list
    (at most `MAX_KEYS_PER_SPAN`) when a batch covers several."""
    found: dict[str, list[str]] = {}

    def add(key: str, value: Any) -> None:
        values = found.setdefault(key, [])
        text = str(value)
        if text not in values and len(values) < MAX_KEYS_PER_SPAN:
            values.append(text)

    for subject in subjects:
        kind, sep, ident = subject.partition(":")
        if sep and kind in _SUBJECT_KEYS:
            add(_SUBJECT_KEYS[kind], ident)
    for item in data:
        for key, attribute in _DATA_KEYS.items():
            if isinstance(item.get(key), str | int):
                add(attribute, item[key])
    return {k: v[0] if len(v) == 1 else v for k, v in found.items()}


def tag_current_span(**keys: str | None) -> None:
    """Set business keys (`order_id=…`) on the current span, if one is recording."""
    span = trace.get_current_span()
    if not span.is_recording():
        return
    for key, value in keys.items():
        if value is not None:
            span.set_attribute(f"crossdock.{key}", value)


def trace_ids(span_context: trace.SpanContext) -> tuple[str, str]:
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")


def distinct_parents(traceparents: Sequence[str | None]) -> dict[int, trace.SpanContext]:
    """The first span context of each trace among `traceparents`, by trace id."""
    out: dict[int, trace.SpanContext] = {}
    for traceparent in traceparents:
        ctx = span_context_of(traceparent)
        if ctx is not None and ctx.trace_id not in out:
            out[ctx.trace_id] = ctx
    return out
