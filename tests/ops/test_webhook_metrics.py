"""Webhook deliveries per endpoint on `GET /metrics`: attempts by outcome (a receiver answering 200
counts successes, one answering 500 failures, on every retry) and their latency."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from crossdock.api.auth import create_token
from tests.support.waiting import until
from tests.webhooks.conftest import (  # noqa: F401 - the webhook tests' fixtures, reused
    HubFactory,
    inbound_secrets,
    make_hub,
    sqlite_url,
)
from tests.webhooks.receiver import Reply


def _series(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


async def test_deliveries_per_endpoint_by_outcome_with_latency(
    sqlite_url: str,  # noqa: F811 - fixtures imported above
    make_hub: HubFactory,  # noqa: F811
) -> None:
    hooks = await make_hub(sqlite_url)  # retry schedule: 4 attempts in all
    ok = await hooks.receiver()
    broken = await hooks.receiver(script=lambda _received, _count: Reply(status=500))
    healthy = await hooks.subscribe(ok, ["order.*"])
    failing = await hooks.subscribe(broken, ["order.released"])
    token = await hooks.hub.engine.writer.submit(lambda c: create_token(c, "metrics", ["ops:read"]))

    for n in range(3):
        await hooks.emit("order.confirmed", f"order:M-{n}", order_id=f"M-{n}")
    await hooks.emit("order.released", "order:M-9", order_id="M-9")

    async def all_sent() -> bool:
        return len(ok.verified()) == 4 and len(broken.received) == 4

    await until(all_sent, timeout=30, what="4 deliveries and 4 failed attempts")

    async def recorded() -> bool:  # the last failed attempt is counted once it was sent
        answer = await hooks.client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        text = answer.text
        return (
            _series(
                text,
                "crossdock_webhook_deliveries_total",
                endpoint=failing["id"],
                outcome="failure",
            )
            == 4
        )

    await until(recorded, timeout=30, what="the failed attempts on /metrics")
    answer = await hooks.client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    text = answer.text
    good = {"endpoint": healthy["id"]}
    bad = {"endpoint": failing["id"]}
    assert _series(text, "crossdock_webhook_deliveries_total", outcome="success", **good) == 4
    assert _series(text, "crossdock_webhook_deliveries_total", outcome="failure", **good) == 0
    assert _series(text, "crossdock_webhook_deliveries_total", outcome="success", **bad) == 0
    assert _series(text, "crossdock_webhook_delivery_seconds_count", **good) == 4
    assert _series(text, "crossdock_webhook_delivery_seconds_count", **bad) == 4
    assert 0 < _series(text, "crossdock_webhook_delivery_seconds_sum", **good) < 4 * 2.0
    # every attempt took less than the configured 1 s timeout: all in the buckets up to 1 s
    assert _series(text, "crossdock_webhook_delivery_seconds_bucket", le="1.0", **bad) == 4
