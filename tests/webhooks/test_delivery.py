"""Outbound delivery against real receivers on 127.0.0.1 that verify every request with the
`standardwebhooks` library: success, retries, dead letters, disabling, Retry-After, replay,
concurrency caps and per-subject ordering."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import select

from crossdock.webhooks.tables import webhook_messages
from tests.support.waiting import until
from tests.webhooks.conftest import HubFactory, WebhookHub
from tests.webhooks.receiver import Received, Reply

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


async def attempts(hooks: WebhookHub, endpoint_id: str) -> list[dict[str, Any]]:
    answer = await hooks.client.get(
        f"/v1/subscriptions/{endpoint_id}/attempts", headers=hooks.auth()
    )
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def messages(hooks: WebhookHub, endpoint_id: str, state: str | None = None) -> list[Any]:
    params = {"state": state} if state else {}
    answer = await hooks.client.get(
        f"/v1/subscriptions/{endpoint_id}/messages", params=params, headers=hooks.auth()
    )
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def test_delivery_is_signed_and_carries_the_envelope(hooks: WebhookHub) -> None:
    receiver = await hooks.receiver()
    sub = await hooks.subscribe(receiver, ["order.*"])
    other = await hooks.receiver()
    await hooks.subscribe(other, ["invoice.posted"])
    event = await hooks.emit("order.confirmed", "order:A1", order_id="A1", traceparent=TRACEPARENT)
    await hooks.emit("shipment.dispatched", "order:A1", order_id="A1")  # not subscribed
    await until(lambda: _count(receiver, 1), what="the delivery")
    [got] = receiver.received
    assert got.verified_by == [0], "the standardwebhooks library must verify the signature"
    assert got.msg_id == event.id
    assert got.headers["traceparent"] == TRACEPARENT
    assert got.headers["content-type"] == "application/json"
    assert got.event == event.to_cloudevent()
    await until(lambda: _attempts_are(hooks, sub["id"], 1), what="the attempt record")
    [attempt] = await attempts(hooks, sub["id"])
    assert attempt["status"] == 200 and attempt["outcome"] == "delivered"
    assert attempt["response"] == "ok" and attempt["latency_ms"] >= 0
    assert other.received == []


async def _count(receiver: Any, n: int) -> bool:
    return len(receiver.received) >= n


async def _attempts_are(hooks: WebhookHub, endpoint_id: str, n: int) -> bool:
    return len(await attempts(hooks, endpoint_id)) >= n


async def test_500s_are_retried_on_schedule_until_delivered(hooks: WebhookHub) -> None:
    def script(request: Received, nth: int) -> Reply:
        return Reply(500, "boom: database down") if nth <= 2 else Reply(200)

    receiver = await hooks.receiver(script)
    sub = await hooks.subscribe(receiver, ["order.confirmed"])
    event = await hooks.emit("order.confirmed", "order:R1", order_id="R1")
    await until(lambda: _attempts_are(hooks, sub["id"], 3), what="three attempts")
    tries = list(reversed(await attempts(hooks, sub["id"])))
    assert [a["status"] for a in tries] == [500, 500, 200]
    assert [a["outcome"] for a in tries] == ["retry", "retry", "delivered"]
    assert tries[0]["response"] == "boom: database down"
    assert all(r.verified_by == [0] and r.msg_id == event.id for r in receiver.received)
    assert len(receiver.received) == 3
    [message] = await messages(hooks, sub["id"])
    assert message["state"] == "delivered" and message["attempts"] == 3


async def test_exhausted_schedule_dead_letters_emits_failing_and_replays(
    sqlite_url: str, make_hub: HubFactory
) -> None:
    hooks = await make_hub(sqlite_url, timeout_s=0.3, lease_s=2)
    healthy = asyncio.Event()

    def script(request: Received, nth: int) -> Reply:
        if healthy.is_set():
            return Reply(200)
        if nth % 2:
            return Reply(hold=asyncio.Event())  # never answers: a timeout
        return Reply(503, "maintenance")

    receiver = await hooks.receiver(script)
    sub = await hooks.subscribe(receiver, ["order.*"])
    refused = await hooks.subscribe(receiver, ["order.*"])  # then pointed at a closed port
    await hooks.client.patch(
        f"/v1/subscriptions/{refused['id']}",
        json={"url": "http://127.0.0.1:9/closed"},
        headers=hooks.auth(),
    )
    event = await hooks.emit("order.failed", "order:D1", order_id="D1")

    async def both_dead() -> bool:
        return all([await messages(hooks, s["id"], "dead") for s in (sub, refused)])

    await until(both_dead, what="dead letters")
    tries = await attempts(hooks, sub["id"])
    assert len(tries) == 4 and tries[0]["outcome"] == "dead"
    assert any("timed out" in (a["error"] or "") for a in tries)
    assert any(a["status"] == 503 for a in tries)
    refused_tries = await attempts(hooks, refused["id"])
    assert len(refused_tries) == 4 and all(a["status"] is None for a in refused_tries)
    assert "connect failed" in (refused_tries[0]["error"] or "")
    failing = await hooks.hub.engine.events_after(0, 100, types=["webhook.endpoint.failing"])
    assert {e.data["endpoint_id"] for e in failing} == {sub["id"], refused["id"]}
    assert all(e.data["event_id"] == event.id for e in failing)

    healthy.set()
    [dead] = await messages(hooks, sub["id"], "dead")
    answer = await hooks.client.post(
        f"/v1/subscriptions/{sub['id']}/messages/{dead['id']}/replay", headers=hooks.auth()
    )
    assert answer.status_code == 202, answer.text
    await until(lambda: _delivered(hooks, sub["id"]), what="the replayed delivery")
    # replay every failed message of the other endpoint since a time, after fixing its URL
    await hooks.client.patch(
        f"/v1/subscriptions/{refused['id']}", json={"url": receiver.url}, headers=hooks.auth()
    )
    answer = await hooks.client.post(
        f"/v1/subscriptions/{refused['id']}/replay",
        json={"since": "2000-01-01T00:00:00Z"},
        headers=hooks.auth(),
    )
    assert answer.json() == {"replayed": 1}
    await until(lambda: _delivered(hooks, refused["id"]), what="the replay of failures")
    ok = [r for r in receiver.received if r.msg_id == event.id and r.verified_by]
    assert len(ok) == 4 + 2  # four failed attempts (the other endpoint refused) + two replays


async def _delivered(hooks: WebhookHub, endpoint_id: str) -> bool:
    return bool(await messages(hooks, endpoint_id, "delivered"))


async def test_410_disables_the_endpoint_and_resume_delivers(lite: WebhookHub) -> None:
    gone = True

    def script(request: Received, nth: int) -> Reply:
        return Reply(410, "gone") if gone else Reply(200)

    receiver = await lite.receiver(script)
    sub = await lite.subscribe(receiver, ["order.*"])
    await lite.emit("order.cancelled", "order:G1", order_id="G1")

    async def disabled() -> bool:
        view = await lite.client.get(f"/v1/subscriptions/{sub['id']}", headers=lite.auth())
        return bool(view.json()["state"] == "disabled")

    await until(disabled, what="the endpoint disabled")
    view = (await lite.client.get(f"/v1/subscriptions/{sub['id']}", headers=lite.auth())).json()
    assert "410" in view["disabled_reason"]
    assert len(receiver.received) == 1
    events = await lite.hub.engine.events_after(0, 100, types=["webhook.endpoint.disabled"])
    assert [e.data["endpoint_id"] for e in events] == [sub["id"]]
    await lite.emit("order.cancelled", "order:G2", order_id="G2")  # not queued while disabled
    await until(lite.hub.engine.idle, what="the fan-out of G2")
    gone = False
    answer = await lite.client.post(f"/v1/subscriptions/{sub['id']}/resume", headers=lite.auth())
    assert answer.json()["state"] == "active"
    await until(lambda: _delivered(lite, sub["id"]), what="delivery after resume")
    assert [m["state"] for m in await messages(lite, sub["id"])] == ["delivered"]


async def test_429_and_503_honour_retry_after(lite: WebhookHub) -> None:
    def script(request: Received, nth: int) -> Reply:
        if nth == 1:
            return Reply(429, "slow down", headers={"Retry-After": "1"})
        return Reply(200)

    receiver = await lite.receiver(script)
    await lite.subscribe(receiver, ["order.released"])
    event = await lite.emit("order.released", "order:T1", order_id="T1")
    await until(lambda: _count(receiver, 2), what="the retry")
    first, second = receiver.by_id(event.id)
    assert second.at - first.at >= 0.95, "the schedule (50 ms) must yield to Retry-After (1 s)"


async def test_endpoint_failing_for_days_is_disabled(sqlite_url: str, make_hub: HubFactory) -> None:
    hooks = await make_hub(sqlite_url, failing_days=0.5 / 86400, retry_schedule_s=[0, 0.3, 0.3])
    receiver = await hooks.receiver(lambda request, nth: Reply(500))
    sub = await hooks.subscribe(receiver, ["order.*"])
    await hooks.emit("order.exception", "order:F1", order_id="F1")

    async def disabled() -> bool:
        view = await hooks.client.get(f"/v1/subscriptions/{sub['id']}", headers=hooks.auth())
        return bool(view.json()["state"] == "disabled")

    await until(disabled, what="disabled after failing for the configured time")
    view = (await hooks.client.get(f"/v1/subscriptions/{sub['id']}", headers=hooks.auth())).json()
    assert "failing" in view["disabled_reason"]
    assert view["failing_since"] is not None


async def test_per_endpoint_concurrency_cap(lite: WebhookHub) -> None:
    release = asyncio.Event()
    receiver = await lite.receiver(lambda request, nth: Reply(hold=release))
    await lite.subscribe(receiver, ["order.*"], max_in_flight=3)
    for n in range(12):
        await lite.emit("order.accepted", f"order:C{n}", order_id=f"C{n}")
    await until(lambda: _count(receiver, 3), what="three deliveries in flight")
    stuck = len(receiver.received)
    release.set()
    await until(lambda: _count(receiver, 12), what="all deliveries")
    assert stuck == 3 and receiver.max_in_flight == 3


async def test_strict_ordering_per_subject(lite: WebhookHub) -> None:
    def script(request: Received, nth: int) -> Reply:
        # the first event of each subject fails twice: later ones must wait for it
        return Reply(500) if request.event["data"]["n"] == 0 and nth <= 2 else Reply(200)

    receiver = await lite.receiver(script)
    sub = await lite.subscribe(receiver, ["order.*"], strict_ordering=True)
    for n in range(5):
        for subject in ("order:S1", "order:S2"):
            await lite.emit("order.accepted", subject, order_id=subject, n=n)

    async def all_delivered() -> bool:
        return len(await messages(lite, sub["id"], "delivered")) == 10

    await until(all_delivered, what="every ordered delivery")
    for subject in ("order:S1", "order:S2"):
        seen = [r.event["data"]["n"] for r in receiver.received if r.event["subject"] == subject]
        assert seen == [0, 0, 0, 1, 2, 3, 4]


async def test_paused_endpoint_queues_until_resumed(lite: WebhookHub) -> None:
    receiver = await lite.receiver()
    sub = await lite.subscribe(receiver, ["invoice.posted"])
    answer = await lite.client.post(f"/v1/subscriptions/{sub['id']}/pause", headers=lite.auth())
    assert answer.json()["state"] == "paused"
    await lite.emit("invoice.posted", "order:P1", order_id="P1")

    async def queued() -> bool:
        return bool(await messages(lite, sub["id"], "pending"))

    await until(queued, what="the message queued")
    assert receiver.received == []
    await lite.client.post(f"/v1/subscriptions/{sub['id']}/resume", headers=lite.auth())
    await until(lambda: _count(receiver, 1), what="delivery after resume")


async def test_messages_are_recorded_once_per_subscription(hooks: WebhookHub) -> None:
    receiver = await hooks.receiver()
    sub = await hooks.subscribe(receiver, ["order.*", "order.confirmed"])
    for n in range(50):
        await hooks.emit("order.confirmed", f"order:M{n}", order_id=f"M{n}")
    await until(lambda: _count(receiver, 50), what="fifty deliveries")

    def rows(conn: Any) -> int:
        return len(
            conn.execute(
                select(webhook_messages.c.id).where(webhook_messages.c.endpoint_id == sub["id"])
            ).all()
        )

    assert await hooks.hub.engine.db.read(rows) == 50
    assert len({r.msg_id for r in receiver.received}) == 50
    assert time.time() > 0


async def test_a_hanging_endpoint_does_not_starve_the_others(
    sqlite_url: str, make_hub: HubFactory
) -> None:
    # The hanging endpoint's backlog is older than the healthy one's message and larger than a
    # claim looks at; its attempts only end at `timeout_s`, far beyond the wait below.
    hooks = await make_hub(sqlite_url, concurrency=8, timeout_s=60, lease_s=61)
    hang = asyncio.Event()
    try:
        stuck = await hooks.receiver(lambda request, nth: Reply(hold=hang))
        hanging = await hooks.subscribe(stuck, ["order.*"], max_in_flight=2)
        healthy = await hooks.receiver()
        await hooks.subscribe(healthy, ["invoice.posted"])
        ordered = await hooks.receiver(lambda request, nth: Reply(hold=hang))
        strict = await hooks.subscribe(ordered, ["shipment.*"], strict_ordering=True)
        for n in range(60):
            await hooks.emit("order.accepted", f"order:H{n}", order_id=f"H{n}")
            await hooks.emit("shipment.confirmed", "shipment:one", n=n)
        await until(lambda: _count(stuck, 2), what="the hanging endpoint's cap in flight")
        await hooks.emit("invoice.posted", "invoice:1", invoice_id="1")
        await until(lambda: _count(healthy, 1), timeout=30, what="the healthy delivery")
        assert await attempts(hooks, hanging["id"]) == [], "no hanging attempt has ended yet"
        assert await attempts(hooks, strict["id"]) == []
        assert len(stuck.received) == 2 and len(ordered.received) == 1
    finally:
        hang.set()
