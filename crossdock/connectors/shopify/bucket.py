"""Shopify's cost-based GraphQL limit, modelled from the answers themselves.

Every answer carries ``extensions.cost``: the query's ``requestedQueryCost`` and
``actualQueryCost``, and the bucket's ``throttleStatus`` (``maximumAvailable``,
``currentlyAvailable``, ``restoreRate`` points per second). The bucket leaks back at the restore
rate; a query whose requested cost exceeds what is available is answered ``THROTTLED``.

:class:`CostBucket` keeps the last state the shop told us, restores it with time, reserves the
expected cost of each query before it is sent (so concurrent queries pace together) and says how
long to wait before the next one fits. The expected cost of an operation is what the shop last
said it requested (a first query of a kind goes with the caller's estimate).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CostBucket", "ThrottleStatus", "throttle_status"]


@dataclass(frozen=True, slots=True)
class ThrottleStatus:
    maximum: float
    available: float
    restore_rate: float


def throttle_status(extensions: Mapping[str, Any] | None) -> ThrottleStatus | None:
    """The ``throttleStatus`` of an answer's ``extensions.cost``, when it has one."""
    cost = (extensions or {}).get("cost") or {}
    status = cost.get("throttleStatus") if isinstance(cost, Mapping) else None
    if not isinstance(status, Mapping):
        return None
    try:
        return ThrottleStatus(
            float(status["maximumAvailable"]),
            float(status["currentlyAvailable"]),
            float(status["restoreRate"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


@dataclass
class CostBucket:
    """The client's view of the shop's bucket (see the module's docstring)."""

    maximum: float = 2000.0
    """Until the first answer: Shopify's standard plan (2,000 points, 100 per second)."""
    restore_rate: float = 100.0
    available: float = 2000.0
    clock: Callable[[], float] = time.monotonic
    _at: float | None = None
    _reserved: float = 0.0
    costs: dict[str, float] = field(default_factory=dict)
    """The requested cost of each operation, as the shop last stated it."""
    spent: float = 0.0
    """Actual cost of every answered query (``actualQueryCost``), for the bench's floor."""

    def _now_available(self, now: float) -> float:
        if self._at is None:
            return self.available - self._reserved
        restored = self.available + self.restore_rate * (now - self._at)
        return min(self.maximum, restored) - self._reserved

    def expected(self, operation: str, estimate: float) -> float:
        return min(self.maximum, self.costs.get(operation, estimate))

    def wait_for(self, cost: float) -> float:
        """Seconds until ``cost`` points are available (0: send now)."""
        missing = cost - self._now_available(self.clock())
        return 0.0 if missing <= 0 else missing / self.restore_rate

    def reserve(self, cost: float) -> None:
        self._reserved += cost

    def settle(
        self,
        reserved: float,
        operation: str,
        status: ThrottleStatus | None,
        requested: float | None,
        actual: float | None,
    ) -> None:
        """An answer came: release the reservation and take the shop's word for the state."""
        self._reserved = max(0.0, self._reserved - reserved)
        if requested is not None:
            self.costs[operation] = requested
        if actual is not None:
            self.spent += actual
        if status is not None:
            self.maximum = status.maximum
            self.restore_rate = max(status.restore_rate, 1e-6)
            self.available = status.available
            self._at = self.clock()
