"""Connector calls seen by the operations layer (`crossdock.connectors.observer.CallObserver`):
a client span per attempt (child of the handler span), latency and errors per system, retries,
the circuit state read at scrape time, the time of the last successful call per system, and the
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
        self.last_success: dict[str, float] = {}
        """Epoch seconds of the last call that succeeded, per system (this process)."""

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
            self.last_success[system] = now = time.time()
            m.CONNECTOR_LAST_SUCCESS.labels(system).set(now)
        finally:
            m.CONNECTOR_SECONDS.labels(system, operation).observe(time.perf_counter() - started)

    def retrying(self, system: str, error: BaseException) -> None:
        m.CONNECTOR_RETRIES.labels(system).inc()

    def watch_circuit(self, system: str, state: Callable[[], str]) -> None:
        self.circuits[system] = state

    def outgoing_headers(self) -> Mapping[str, str]:
        traceparent = current_traceparent()
        return {"traceparent": traceparent} if traceparent else {}

    def circuit_states(self) -> dict[str, str]:
        return {system: read() for system, read in self.circuits.items()}
