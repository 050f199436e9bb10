"""Connector calls seen by the operations layer (`crossdock.connectors.observer.CallObserver`):
a client span per attempt (child of the handler span), latency and errors per system, retries,
the circuit state (`publish_circuits`: at each scrape, and every few seconds in the workers
process of a multi-process server), the time of the last successful call per system, and the
`traceparent` header on every outbound request.

It also logs each change an operator must know of, once per change rather than per call: a
system unreachable (no connection, no answer) and reachable again, its circuit opened and
closed (read after each attempt; half-open is a passing state and logs nothing)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping

import httpx
import structlog
from opentelemetry import trace

from crossdock.errors import Unavailable
from crossdock.ops import metrics as m
from crossdock.ops.tracing import Tracing, current_traceparent

__all__ = ["CIRCUIT_STATES", "ConnectorObserver"]

CIRCUIT_STATES = ("closed", "half_open", "open")


class ConnectorObserver:
    def __init__(self, tracing: Tracing | None) -> None:
        self._tracing = tracing
        self.circuits: dict[str, Callable[[], str]] = {}
        self._unreachable: set[str] = set()
        self._circuit_seen: dict[str, str] = {}

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
            self._reached(system, operation, exc)
            raise
        else:
            m.CONNECTOR_LAST_SUCCESS.labels(system).set(time.time())
            self._reached(system, operation, None)
        finally:
            m.CONNECTOR_SECONDS.labels(system, operation).observe(time.perf_counter() - started)
            self._circuit_changed(system)

    def _reached(self, system: str, operation: str, error: BaseException | None) -> None:
        """Log the system becoming unreachable, or reachable again (any answer, even an error)."""
        cause = _cause(error)
        if isinstance(cause, Unavailable):
            return  # not sent: says nothing about the system
        log = structlog.get_logger("crossdock.connectors")
        if cause is not None and system not in self._unreachable:
            self._unreachable.add(system)
            log.warning(
                "connector.unreachable", system=system, operation=operation, error=str(error)
            )
        elif cause is None and system in self._unreachable:
            self._unreachable.discard(system)
            log.info("connector.reachable", system=system)

    def _circuit_changed(self, system: str) -> None:
        read = self.circuits.get(system)
        state = read() if read is not None else "closed"
        if state == "half_open" or state == self._circuit_seen.get(system, "closed"):
            return
        self._circuit_seen[system] = state
        log = structlog.get_logger("crossdock.connectors")
        if state == "open":
            log.error("connector.circuit_opened", system=system)
        else:
            log.info("connector.circuit_closed", system=system)

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


def _cause(error: BaseException | None) -> BaseException | None:
    """In `error`'s chain of causes, what kept the call from the system: a transport failure
    (refused, reset, timed out) or an open circuit; None when the system answered."""
    while error is not None:
        if isinstance(error, httpx.TransportError | OSError | TimeoutError | Unavailable):
            return error
        error = error.__cause__
    return None
