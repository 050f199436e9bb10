"""The hook through which a connector reports its calls (latency, errors, retries, circuit state)
and obtains headers to propagate (W3C `traceparent`). Connectors never import the operations
layer: a client takes an optional `CallObserver` and calls it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Protocol


class CallObserver(Protocol):
    def calling(
        self, system: str, operation: str, attributes: Mapping[str, str]
    ) -> AbstractContextManager[None]:
        """Wraps one attempt of a call (`operation` like `sale.order.create`); exceptions pass
        through it, so it sees the error type."""
        ...

    def retrying(self, system: str, error: BaseException) -> None:
        """An attempt failed and the call will be tried again."""
        ...

    def watch_circuit(self, system: str, state: Callable[[], str]) -> None:
        """Register how to read the system's circuit state (`closed`, `open`, `half_open`)."""
        ...

    def outgoing_headers(self) -> Mapping[str, str]:
        """Headers to add to each outbound request (trace context), read at send time."""
        ...
