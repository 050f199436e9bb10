"""The overview's figures, gathered in one pass and shared by every viewer for a second.

Backlog, dead letters, open exceptions by age and circuit states come from the same scrape-time
collector as `GET /metrics` (refreshed, then read back from the registry); orders per state and
throughput from the order projection; accept p99 from the HTTP latency histogram of
`POST /v1/orders` over the last minutes; webhook endpoints from their table and the delivery
counters; the last success of each connector from the connector observer.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from crossdock.api.running import RunningHub
from crossdock.ops import metrics as m
from crossdock.ui.figures import HistogramWindow, Quantile, samples
from crossdock.ui.reads import OrderCounts, endpoint_backlog, order_counts
from crossdock.webhooks.delivery import DELIVERIES
from crossdock.webhooks.store import Endpoint, list_endpoints

__all__ = ["Overview", "OverviewSource"]

AGE_BANDS = ("lt_1h", "1h_24h", "gt_24h")
CACHE_S = 1.0


@dataclass(frozen=True, slots=True)
class GroupLag:
    group: str
    lane: str
    depth: int
    parked: int
    lag_s: float


@dataclass(frozen=True, slots=True)
class LaneLag:
    lane: str
    depth: int
    lag_s: float


@dataclass(frozen=True, slots=True)
class ExceptionAges:
    type: str
    bands: dict[str, int]
    oldest_s: float

    @property
    def total(self) -> int:
        return sum(self.bands.values())


@dataclass(frozen=True, slots=True)
class EndpointHealth:
    endpoint: Endpoint
    pending: int
    dead: int
    successes: int
    failures: int

    @property
    def failing(self) -> bool:
        e = self.endpoint
        return e.state != "active" or e.failing_since is not None or self.dead > 0


@dataclass(frozen=True, slots=True)
class SystemHealth:
    name: str
    circuit: str
    last_success: float | None
    errors: int


@dataclass(frozen=True, slots=True)
class Overview:
    at: float
    orders: OrderCounts
    accept_p99: Quantile
    groups: list[GroupLag]
    lanes: list[LaneLag]
    dead_letters: dict[str, int]
    exceptions: list[ExceptionAges]
    endpoints: list[EndpointHealth]
    systems: list[SystemHealth]
    webhooks_running: bool
    notes: list[str] = field(default_factory=list)

    @property
    def dead_total(self) -> int:
        return sum(self.dead_letters.values())

    @property
    def exceptions_total(self) -> int:
        return sum(e.total for e in self.exceptions)

    @property
    def failing_endpoints(self) -> list[EndpointHealth]:
        return [e for e in self.endpoints if e.failing]

    @property
    def orders_24h(self) -> int:
        return sum(self.orders.per_state.values())


def _accepts(labels: Any) -> bool:
    return bool(
        labels.get("method") == "POST"
        and labels.get("route") == "/v1/orders"
        and str(labels.get("status", "")).startswith("2")
    )


def _int(family: Any, suffix: str, reading: m.Reading, **match: str) -> int:
    return int(sum(v for _, v in samples(family, suffix, reading, **match)))


class OverviewSource:
    """Builds the overview of one hub at most once per `CACHE_S`; concurrent viewers share it."""

    def __init__(self, hub: RunningHub) -> None:
        self.hub = hub
        self.accept_latency = HistogramWindow(m.HTTP_SECONDS, _accepts)
        self._lock = asyncio.Lock()
        self._cached: tuple[float, Overview] | None = None

    async def get(self) -> Overview:
        async with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] >= CACHE_S:
                self._cached = (now, await self._build())
            return self._cached[1]

    async def _build(self) -> Overview:
        hub = self.hub
        await hub.ops.collector(hub.engine).refresh()
        # Read the refreshed families before anything else awaits (another scrape may refresh).
        reading = m.Reading()
        groups = [
            GroupLag(
                labels["group"],
                labels["lane"],
                int(depth),
                _int(m.CONSUMER_PARKED, "", reading, group=labels["group"]),
                sum(v for _, v in samples(m.CONSUMER_LAG, "", reading, group=labels["group"])),
            )
            for labels, depth in samples(m.CONSUMER_DEPTH, "", reading)
        ]
        lanes = [
            LaneLag(
                labels["lane"],
                int(depth),
                sum(v for _, v in samples(m.LANE_LAG, "", reading, **labels)),
            )
            for labels, depth in samples(m.LANE_DEPTH, "", reading)
        ]
        dead = {labels["group"]: int(v) for labels, v in samples(m.DEAD_LETTERS, "", reading) if v}
        types = sorted({labels["type"] for labels, _ in samples(m.EXCEPTIONS_OPEN, "", reading)})
        exceptions = [
            ExceptionAges(
                t,
                {
                    band: _int(m.EXCEPTIONS_OPEN, "", reading, type=t, age=band)
                    for band in AGE_BANDS
                },
                sum(v for _, v in samples(m.EXCEPTIONS_OLDEST, "", reading, type=t)),
            )
            for t in types
        ]
        exceptions = [e for e in exceptions if e.total]
        circuits = {
            labels["system"]: labels["state"]
            for labels, v in samples(m.CIRCUIT_STATE, "", reading)
            if v
        }
        last_success = {
            labels["system"]: v for labels, v in samples(m.CONNECTOR_LAST_SUCCESS, "", reading)
        }
        systems = [
            SystemHealth(
                name,
                state,
                last_success.get(name),
                _int(m.CONNECTOR_ERRORS, "_total", reading, system=name),
            )
            for name, state in sorted(circuits.items())
        ]
        accept_p99 = self.accept_latency.quantile(0.99, reading)
        wall = time.time()

        def read(conn: Any) -> tuple[OrderCounts, list[Endpoint], dict[str, dict[str, int]]]:
            return order_counts(conn, wall), list_endpoints(conn), endpoint_backlog(conn)

        counts, endpoints, backlog = await hub.engine.db.read(read)
        health = [
            EndpointHealth(
                e,
                backlog.get(e.id, {}).get("pending", 0),
                backlog.get(e.id, {}).get("dead", 0),
                _int(DELIVERIES, "_total", reading, endpoint=e.id, outcome="success"),
                _int(DELIVERIES, "_total", reading, endpoint=e.id, outcome="failure"),
            )
            for e in endpoints
        ]
        notes = []
        if not hub.flows and m.MULTIPROCESS_DIR is None:
            notes.append(
                "No workers on this node: connectors and flow lag show on the worker nodes."
            )
        return Overview(
            at=wall,
            orders=counts,
            accept_p99=accept_p99,
            groups=sorted(groups, key=lambda g: (g.lane, g.group)),
            lanes=sorted(lanes, key=lambda lane: lane.lane),
            dead_letters=dead,
            exceptions=exceptions,
            endpoints=health,
            systems=systems,
            webhooks_running=bool(hub.webhooks and hub.webhooks.running),
            notes=notes,
        )
