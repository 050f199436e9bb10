"""Prometheus metrics of the hub, in their own registry (`REGISTRY`), served at `GET /metrics`.

Other packages add their families here with the get-or-create helpers, e.g. the webhooks:

    from crossdock.ops.metrics import counter, histogram
    DELIVERIES = counter("webhook_deliveries_total", "Webhook deliveries.", ["endpoint", "outcome"])
    DELIVERY_SECONDS = histogram("webhook_delivery_seconds", "Delivery latency.", ["endpoint"])

Names get the `crossdock_` prefix; asking twice for the same name returns the same family (a
different kind or label set is an error). Families below are updated as things happen (handler
batches, connector calls, HTTP requests) except the `SCRAPED` ones, which `crossdock.ops.collect`
refreshes from the database on each scrape (backlog, dead letters, exceptions, flow steps).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

__all__ = ["PREFIX", "REGISTRY", "counter", "gauge", "histogram"]

PREFIX = "crossdock_"
REGISTRY = CollectorRegistry(auto_describe=True)
"""The hub's registry: only what `/metrics` should show (no process-wide default collectors)."""

M = TypeVar("M", bound=MetricWrapperBase)
_families: dict[str, tuple[MetricWrapperBase, tuple[str, ...]]] = {}

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
FLOW_BUCKETS = (0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 86400)
SIZE_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


def _family(kind: type[M], name: str, doc: str, labels: Sequence[str], **kwargs: Any) -> M:
    full = name if name.startswith(PREFIX) else PREFIX + name
    wanted = tuple(labels)
    found = _families.get(full)
    if found is not None:
        metric, have = found
        if not isinstance(metric, kind) or have != wanted:
            raise ValueError(f"metric {full} exists as {type(metric).__name__}{list(have)}")
        return metric
    metric = kind(full, doc, wanted, registry=REGISTRY, **kwargs)
    _families[full] = (metric, wanted)
    return metric


def counter(name: str, doc: str, labels: Sequence[str] = ()) -> Counter:
    return _family(Counter, name, doc, labels)


def gauge(name: str, doc: str, labels: Sequence[str] = ()) -> Gauge:
    return _family(Gauge, name, doc, labels)


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
)

# -- HTTP ----------------------------------------------------------------------------------------

HTTP_SECONDS = histogram(
    "http_request_seconds",
    "HTTP requests by route template (unmatched paths as `unmatched`).",
    ["method", "route", "status"],
)

# -- refreshed from the database on each scrape (`crossdock.ops.collect`) ------------------------

CONSUMER_DEPTH = gauge(
    "consumer_depth", "Events not yet read, per consumer group.", ["group", "lane"]
)
CONSUMER_PARKED = gauge("consumer_parked", "Events parked for a retry.", ["group", "lane"])
CONSUMER_LAG = gauge(
    "consumer_lag_seconds", "Age of the oldest unread event, per consumer group.", ["group", "lane"]
)
LANE_DEPTH = gauge("lane_depth", "Events not yet read by the groups of a lane.", ["lane"])
LANE_LAG = gauge("lane_lag_seconds", "Age of the oldest unread event of a lane.", ["lane"])
DEAD_LETTERS = gauge("dead_letters", "Dead letters not replayed, per consumer group.", ["group"])
EXCEPTIONS_OPEN = gauge(
    "exceptions_open", "Open business exceptions by type and age band.", ["type", "age"]
)
EXCEPTIONS_OLDEST = gauge(
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
)

# -- reconciliation: set by `crossdock.flows.reconciliation.metrics` at the end of each run and,
# database-wide, by its `refresh(db)` ---------------------------------------------------------

RECONCILIATION_DRIFT_ITEMS = gauge(
    "reconciliation_drift_items",
    "Drift items still present (open or being corrected), by reconciliation and type.",
    ["kind", "type"],
)
RECONCILIATION_DRIFT_VALUE = gauge(
    "reconciliation_drift_value",
    "Money involved in the drift items still present (each in its own currency, summed).",
    ["kind", "type"],
)
RECONCILIATION_DRIFT_OLDEST = gauge(
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
RECONCILIATION_LAST_RUN = gauge(
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

SCRAPED: tuple[Gauge, ...] = (
    CONSUMER_DEPTH,
    CONSUMER_PARKED,
    CONSUMER_LAG,
    LANE_DEPTH,
    LANE_LAG,
    DEAD_LETTERS,
    EXCEPTIONS_OPEN,
    EXCEPTIONS_OLDEST,
    CIRCUIT_STATE,
)
