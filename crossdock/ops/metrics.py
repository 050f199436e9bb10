"""Prometheus metrics of the hub, in their own registry (`REGISTRY`), served at `GET /metrics`.

Other packages add their families here with the get-or-create helpers, e.g. the webhooks:

    from crossdock.ops.metrics import counter, histogram
    DELIVERIES = counter("webhook_deliveries_total", "Webhook deliveries.", ["endpoint", "outcome"])
    DELIVERY_SECONDS = histogram("webhook_delivery_seconds", "Delivery latency.", ["endpoint"])

Names get the `crossdock_` prefix; asking twice for the same name returns the same family (a
different kind or label set is an error). Families below are updated as things happen (handler
batches, connector calls, HTTP requests) except the `ScrapedGauge`s, which
`crossdock.ops.collect` sets from the database on each scrape (backlog, dead letters, exceptions,
drift).

Several processes of one server (`crossdock serve --processes N`) share their figures through
prometheus_client's multi-process mode: the server sets `PROMETHEUS_MULTIPROC_DIR` for its
processes, each writes its counters, histograms and gauges to files there, and a scrape of any
of them (`exposition`) adds them up — plus its own `ScrapedGauge`s, which hold database-wide
values and are therefore never added across processes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = [
    "MULTIPROCESS_DIR",
    "PREFIX",
    "REGISTRY",
    "Reading",
    "ScrapedGauge",
    "counter",
    "exposition",
    "gauge",
    "histogram",
    "scraped_gauge",
]

MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
"""Where the processes of a multi-process server keep their figures (prometheus_client reads
the same variable when it loads)."""

PREFIX = "crossdock_"
REGISTRY = CollectorRegistry(auto_describe=True)
"""The hub's registry: only what `/metrics` should show (no process-wide default collectors)."""

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
FLOW_BUCKETS = (0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 86400)
SIZE_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


class ScrapedGauge:
    """A gauge set whole from the database at each scrape (`clear`, then `labels(...).set`).
    Its values stay in this process: the database is the same for every process, so adding
    them up across processes would count them several times."""

    def __init__(
        self, name: str, doc: str, labels: Sequence[str], registry: CollectorRegistry
    ) -> None:
        self.name, self.doc, self.labelnames = name, doc, tuple(labels)
        self._values: dict[tuple[str, ...], float] = {}
        registry.register(self)

    def labels(self, *values: str) -> _Setting:
        if len(values) != len(self.labelnames):
            raise ValueError(f"{self.name} takes labels {list(self.labelnames)}")
        return _Setting(self._values, tuple(str(v) for v in values))

    def clear(self) -> None:
        self._values = {}

    def describe(self) -> list[Metric]:
        return [GaugeMetricFamily(self.name, self.doc, labels=self.labelnames)]

    def collect(self) -> list[Metric]:
        family = GaugeMetricFamily(self.name, self.doc, labels=self.labelnames)
        for key, value in self._values.items():
            family.add_metric(key, value)
        return [family]


@dataclass(frozen=True, slots=True)
class _Setting:
    values: dict[tuple[str, ...], float]
    key: tuple[str, ...]

    def set(self, value: float) -> None:
        self.values[self.key] = float(value)


Family = MetricWrapperBase | ScrapedGauge
F = TypeVar("F", bound=Family)
_families: dict[str, tuple[Family, tuple[str, ...]]] = {}


def _family(kind: type[F], name: str, doc: str, labels: Sequence[str], **kwargs: Any) -> F:
    full = name if name.startswith(PREFIX) else PREFIX + name
    wanted = tuple(labels)
    found = _families.get(full)
    if found is not None:
        metric, have = found
        if not isinstance(metric, kind) or have != wanted:
            raise ValueError(f"metric {full} exists as {type(metric).__name__}{list(have)}")
        return metric
    made = kind(full, doc, wanted, registry=REGISTRY, **kwargs)
    _families[full] = (made, wanted)
    return made


def counter(name: str, doc: str, labels: Sequence[str] = ()) -> Counter:
    return _family(Counter, name, doc, labels)


GaugeMode = Literal["max", "livemostrecent"]


def gauge(name: str, doc: str, labels: Sequence[str] = (), *, across_processes: GaugeMode) -> Gauge:
    """A gauge set as things happen; `across_processes` says what a multi-process server shows:
    `max`, the highest value of any of its processes (exited ones included), or
    `livemostrecent`, the value set last by a running one."""
    return _family(Gauge, name, doc, labels, multiprocess_mode=across_processes)


def scraped_gauge(name: str, doc: str, labels: Sequence[str] = ()) -> ScrapedGauge:
    return _family(ScrapedGauge, name, doc, labels)


class Reading:
    """The families as a scrape shows them (added up over the processes of a multi-process
    server), read once: the processes' files are parsed when the reading is made, not again
    for each family asked of it."""

    def __init__(self) -> None:
        self._shared: dict[str, Metric] | None = None
        if MULTIPROCESS_DIR is not None:
            found = _multiprocess().collect()  # type: ignore[no-untyped-call]
            self._shared = {metric.name: metric for metric in found}

    def collected(self, family: Family) -> Iterable[Metric]:
        if self._shared is None or isinstance(family, ScrapedGauge):
            return family.collect()
        [described] = family.describe()
        found = self._shared.get(described.name)
        return [] if found is None else [found]


def exposition() -> bytes:
    """The Prometheus text of every family (of every process of a multi-process server)."""
    if MULTIPROCESS_DIR is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    registry.register(_multiprocess())
    for family, _ in _families.values():
        if isinstance(family, ScrapedGauge):
            registry.register(family)
    return generate_latest(registry)


def _multiprocess() -> MultiProcessCollector:
    return MultiProcessCollector(None, MULTIPROCESS_DIR)  # type: ignore[no-untyped-call]


def histogram(
    name: str, doc: str, labels: Sequence[str] = (), buckets: Sequence[float] = LATENCY_BUCKETS
) -> Histogram:
    return _family(Histogram, name, doc, labels, buckets=tuple(buckets))


# -- engine: handler batches, retries, dead letters, commits -------------------------------------

HANDLER_BATCH_SECONDS = histogram(
    "handler_batch_seconds", "Time in a handler per batch.", ["group", "lane"]
)
HANDLER_BATCH_EVENTS = histogram(
    "handler_batch_events", "Events per handler batch.", ["group", "lane"], SIZE_BUCKETS
)
HANDLER_ERRORS = counter(
    "handler_errors_total", "Handler calls that raised, by error type.", ["group", "lane", "type"]
)
EVENTS_SETTLED = counter(
    "events_settled_total",
    "Events acknowledged, by outcome: handled, failed (will retry), dead_lettered.",
    ["group", "lane", "outcome"],
)
RETRIES = counter("retries_total", "Retries of parked (failed) events.", ["group", "lane"])
DEAD_LETTERED = counter(
    "dead_lettered_total", "Events moved to the dead letters by this process.", ["group", "lane"]
)
COMMIT_SECONDS = histogram("engine_commit_seconds", "Duration of the writer's group commits.")
COMMIT_OPERATIONS = histogram(
    "engine_commit_operations", "Operations per group commit.", buckets=SIZE_BUCKETS
)

# -- connectors ----------------------------------------------------------------------------------

CONNECTOR_SECONDS = histogram(
    "connector_call_seconds", "Calls to external systems (one attempt each).", ["system", "method"]
)
CONNECTOR_ERRORS = counter(
    "connector_errors_total", "Failed calls to external systems, by error type.", ["system", "type"]
)
CONNECTOR_RETRIES = counter("connector_retries_total", "Retried calls.", ["system"])
CONNECTOR_LAST_SUCCESS = gauge(
    "connector_last_success_timestamp_seconds",
    "When a call to the system last succeeded (epoch seconds, this process).",
    ["system"],
    across_processes="max",
)

# -- HTTP ----------------------------------------------------------------------------------------

HTTP_SECONDS = histogram(
    "http_request_seconds",
    "HTTP requests by route template (unmatched paths as `unmatched`).",
    ["method", "route", "status"],
)

# -- refreshed from the database on each scrape (`crossdock.ops.collect`) ------------------------

CONSUMER_DEPTH = scraped_gauge(
    "consumer_depth", "Events not yet read, per consumer group.", ["group", "lane"]
)
CONSUMER_PARKED = scraped_gauge("consumer_parked", "Events parked for a retry.", ["group", "lane"])
CONSUMER_LAG = scraped_gauge(
    "consumer_lag_seconds", "Age of the oldest unread event, per consumer group.", ["group", "lane"]
)
LANE_DEPTH = scraped_gauge("lane_depth", "Events not yet read by the groups of a lane.", ["lane"])
LANE_LAG = scraped_gauge("lane_lag_seconds", "Age of the oldest unread event of a lane.", ["lane"])
DEAD_LETTERS = scraped_gauge(
    "dead_letters", "Dead letters not replayed, per consumer group.", ["group"]
)
EXCEPTIONS_OPEN = scraped_gauge(
    "exceptions_open", "Open business exceptions by type and age band.", ["type", "age"]
)
EXCEPTIONS_OLDEST = scraped_gauge(
    "exceptions_oldest_age_seconds", "Age of the oldest open exception, by type.", ["type"]
)
FLOW_STEPS = counter(
    "flow_steps_total",
    "Steps recorded by flows (from the order projection), by status.",
    ["flow", "step", "status"],
)
FLOW_STEP_SECONDS = histogram(
    "flow_step_seconds",
    "Time from an order's previous step to this step.",
    ["flow", "step"],
    FLOW_BUCKETS,
)
FLOW_ERRORS = counter(
    "flow_errors_total", "Failed flow steps, by error type.", ["flow", "step", "type"]
)
CIRCUIT_STATE = gauge(
    "connector_circuit_state",
    "Circuit breaker state per system: 1 for the current state, 0 for the others.",
    ["system", "state"],
    across_processes="livemostrecent",
)

# -- reconciliation: set by `crossdock.flows.reconciliation.metrics` at the end of each run and,
# database-wide, by its `refresh(db)` ---------------------------------------------------------

RECONCILIATION_DRIFT_ITEMS = scraped_gauge(
    "reconciliation_drift_items",
    "Drift items still present (open or being corrected), by reconciliation and type.",
    ["kind", "type"],
)
RECONCILIATION_DRIFT_VALUE = scraped_gauge(
    "reconciliation_drift_value",
    "Money involved in the drift items still present, per currency (ISO code; empty: none).",
    ["kind", "type", "currency"],
)
RECONCILIATION_DRIFT_OLDEST = scraped_gauge(
    "reconciliation_drift_oldest_age_seconds",
    "Age of the oldest drift item still present, by reconciliation.",
    ["kind"],
)
RECONCILIATION_CORRECTIONS = counter(
    "reconciliation_corrections_total",
    "Owner's values applied by reconciliation, by outcome (applied, failed).",
    ["kind", "type", "outcome"],
)
RECONCILIATION_RUNS = counter(
    "reconciliation_runs_total", "Reconciliation runs, by status (ok, failed).", ["kind", "status"]
)
RECONCILIATION_LAST_RUN = scraped_gauge(
    "reconciliation_last_run_timestamp_seconds",
    "When the last successful run of each reconciliation finished (Unix time).",
    ["kind"],
)
RECONCILIATION_RUN_SECONDS = histogram(
    "reconciliation_run_seconds",
    "Duration of reconciliation runs.",
    ["kind"],
    (0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600),
)
