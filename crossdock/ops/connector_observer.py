"""Connector calls seen by the operations layer (`crossdock.connectors.observer.CallObserver`):
a client span per attempt (child of the handler span), latency and errors per system, retries,
the circuit state (`publish_circuits`: at each scrape, and every few seconds in the workers
process of a multi-process server), the time of the last successful call per system, and the
`traceparent` header on every outbound request."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping

from opentelemetry import trace

from crossdock.ops import metrics as m
from crossdock.ops.tracing import Tracing, current_traceparent

__all__ = ["CIRCUIT_STATES", "ConnectorObserver"]

CIRCUIT_STATES = ("closed", "half_open", "open")


class ConnectorObserver:
    def __init__(self, tracing: Tracing | None) -> None:
        self._tracing = tracing
        self.circuits: dict[str, Callable[[], str]] = {}

    @contextlib.contextmanager
    def calling(self, system: str, operation: str, attributes: Mapping[str, str]) -> Iterator[None]:
        started = time.perf_counter()
        try:
            if self._tracing is None:
                yield
            else:
                with self._tracing.tracer.start_as_current_span(
                    f"{system} {operation}",
                    kind=trace.SpanKind.CLIENT,
                    attributes={"crossdock.system": system, **attributes},
                ):
                    yield
        except Exception as exc:
            m.CONNECTOR_ERRORS.labels(system, type(exc).__name__).inc()
            raise
        else:
            m.CONNECTOR_LAST_SUCCESS.labels(system).set(time.time())
        finally:
            m.CONNECTOR_SECONDS.labels(system, operation).observe(time.perf_counter() - started)

    def retrying(self, system: str, error: BaseException) -> None:
        m.CONNECTOR_RETRIES.labels(system).inc()

    def watch_circuit(self, system: str, state: Callable[[], str]) -> None:
        self.circuits[system] = state

    def outgoing_headers(self) -> Mapping[str, str]:
        traceparent = current_traceparent()
        return {"traceparent": traceparent} if traceparent else {}

    def publish_circuits(self) -> None:
        """Set `connector_circuit_state` from the breakers of this process (a breaker moves from
        open to half-open by the clock, so its state is read rather than pushed)."""
        for system, read in self.circuits.items():
            state = read()
            for candidate in CIRCUIT_STATES:
                m.CIRCUIT_STATE.labels(system, candidate).set(1 if candidate == state else 0)
