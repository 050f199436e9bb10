"""Every metric family appears on `GET /metrics` after a small scenario, with plausible values:
orders accepted over HTTP, handled (one retried, one dead-lettered, one credit hold, one failed
step after an Odoo error), Odoo calls, backlog and exceptions read at scrape time."""

from __future__ import annotations

import time

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from crossdock.ops import metrics as m
from crossdock.ops.metrics import counter, histogram
from tests.ops.conftest import Observed, order_body
from tests.support.waiting import until


def _samples(text: str) -> dict[str, list[Sample]]:
    out: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(text):
        out.setdefault(family.name, []).extend(family.samples)
    return out


def _value(samples: dict[str, list[Sample]], name: str, **labels: str) -> float:
    family = name.removesuffix("_total").removesuffix("_count").removesuffix("_sum")
    total = 0.0
    for sample in samples.get(family, []):
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
            total += sample.value
    return total


async def test_every_family_after_a_small_scenario(observed: Observed) -> None:
    began = time.time()  # ages and lags below are at most the scenario's time (plus rounding)
    before = m.EVENTS_SETTLED.labels("ops.test", "orders", "handled")._value.get()
    refs = ["WS-1", "WS-2", "FAIL-3", "DEAD-4", "HOLD-5", "BAD-6"]
    for ref in refs:
        response = await observed.client.post(
            "/v1/orders", json=order_body(ref), headers=observed.auth()
        )
        assert response.status_code == 202

    async def settled() -> bool:
        return await observed.hub.engine.idle() and bool(await observed.hub.engine.dead_letters())

    await until(settled, timeout=30, what="handling and a dead letter")
    # Something unread for the scrape-time backlog: an event held by its handler.
    await observed.client.post("/v1/orders", json=order_body("SLOW-7"), headers=observed.auth())
    await observed.entered.wait()

    unauthorised = await observed.client.get("/metrics")
    assert unauthorised.status_code == 401
    response = await observed.client.get("/metrics", headers=observed.auth("viewer"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    s = _samples(response.text)

    # flows, from the order projection's steps
    assert _value(s, "crossdock_flow_steps_total", step="accepted", status="done") >= 7
    assert _value(s, "crossdock_flow_steps_total", step="credit_check", status="done") >= 4
    assert _value(s, "crossdock_flow_step_seconds_count", step="credit_check") >= 5
    assert (
        _value(s, "crossdock_flow_errors_total", step="credit_check", type="OdooError")
        + _value(s, "crossdock_flow_errors_total", step="credit_check")
        >= 1
    )
    # handler batches, outcomes, retries, dead letters
    group = {"group": "ops.test", "lane": "orders"}
    assert _value(s, "crossdock_handler_batch_seconds_count", **group) >= 2
    assert _value(s, "crossdock_handler_batch_events_sum", **group) >= 6
    assert _value(s, "crossdock_events_settled_total", outcome="handled", **group) - before >= 5
    assert _value(s, "crossdock_handler_errors_total", type="ConnectionError", **group) >= 1
    assert _value(s, "crossdock_retries_total", **group) >= 1
    assert _value(s, "crossdock_dead_lettered_total", **group) >= 1
    assert _value(s, "crossdock_dead_letters", group="ops.test") == 1
    assert _value(s, "crossdock_engine_commit_seconds_count") > 0
    assert _value(s, "crossdock_engine_commit_operations_count") > 0
    # backlog per group and lane (the last order is still in its handler)
    assert _value(s, "crossdock_consumer_depth", **group) == 1
    assert _value(s, "crossdock_consumer_parked", **group) == 0
    assert 0 <= _value(s, "crossdock_consumer_lag_seconds", **group) <= time.time() - began + 1
    assert _value(s, "crossdock_lane_depth", lane="orders") == 1
    assert _value(s, "crossdock_lane_lag_seconds", lane="orders") >= 0
    # connectors
    odoo = {"system": "odoo"}
    assert (
        _value(s, "crossdock_connector_call_seconds_count", method="res.partner.search_read") >= 5
    )
    assert _value(s, "crossdock_connector_errors_total", **odoo) >= 1
    assert "crossdock_connector_retries" in s
    assert _value(s, "crossdock_connector_circuit_state", state="closed", **odoo) == 1
    assert _value(s, "crossdock_connector_circuit_state", state="open", **odoo) == 0
    # exceptions by type and age
    assert _value(s, "crossdock_exceptions_open", type="credit_hold", age="lt_1h") == 1
    oldest = _value(s, "crossdock_exceptions_oldest_age_seconds", type="credit_hold")
    assert 0 <= oldest <= time.time() - began + 1
    # HTTP by route template
    route = {"method": "POST", "route": "/v1/orders", "status": "202"}
    assert _value(s, "crossdock_http_request_seconds_count", **route) >= 7
    assert _value(s, "crossdock_http_request_seconds_count", route="/metrics", status="401") >= 1


def test_other_packages_register_their_families() -> None:
    deliveries = counter("test_deliveries_total", "Deliveries.", ["endpoint", "outcome"])
    assert counter("test_deliveries_total", "Deliveries.", ["endpoint", "outcome"]) is deliveries
    deliveries.labels("shop", "success").inc()
    latency = histogram("test_delivery_seconds", "Latency.", ["endpoint"])
    latency.labels("shop").observe(0.2)
    try:
        histogram("test_deliveries_total", "Again.", ["endpoint", "outcome"])
    except ValueError as exc:
        assert "exists" in str(exc)
    else:
        raise AssertionError("a second kind under one name must be refused")
    from prometheus_client import generate_latest

    text = generate_latest(m.REGISTRY).decode()
    assert 'crossdock_test_deliveries_total{endpoint="shop",outcome="success"} 1.0' in text
