"""What the Shopify channel publishes is what the event catalog says: Shopify's published order
and refund sent as signed webhooks, an edit after acceptance, and the pull's schedule fired
against the simulated shop; every event appended validated against its catalog schema."""

from __future__ import annotations

import time

from crossdock.engine import Event
from tests.catalog.conformance import problems
from tests.flows.shopify.conftest import ShopHub, published_order
from tests.flows.shopify.test_channel import Channel, channel  # noqa: F401 - the fixture
from tests.flows.shopify.test_refunds_in import _delivered, published_refund


async def _all_events(shop: ShopHub) -> list[Event]:
    out: list[Event] = []
    while batch := await shop.hub.engine.events_after(out[-1].position if out else 0, 500):
        out.extend(batch)
    return out


async def test_received_orders_refunds_and_changes_match_the_catalog(shop: ShopHub) -> None:
    await _delivered(shop)  # shopify.order_received, then order.accepted
    edited = {**published_order(), "updated_at": "2008-01-10T13:00:00-05:00"}
    edited["line_items"] = [{**edited["line_items"][0], "quantity": 3}]
    r = await shop.deliver(edited, "orders/edited", webhook_id="w-2")
    assert r.status_code == 200, r.text
    r = await shop.deliver(published_refund(), "refunds/create", webhook_id="r-1")
    assert r.status_code == 200, r.text
    await shop.settle()
    events = await _all_events(shop)
    seen = {e.type for e in events}
    wanted = {"shopify.order_received", "order.change_requested", "shopify.refund_received"}
    assert seen >= wanted, sorted(wanted - seen)
    assert problems(events) == []


async def test_the_pull_schedule_matches_the_catalog(channel: Channel) -> None:  # noqa: F811
    engine = channel.hub.hub.engine
    now = time.time()
    await engine.fire_schedules(now)  # a schedule seen first starts at its next tick
    fired = await engine.fire_schedules(now + 86400)
    assert {e.type for e in fired} >= {"shopify.pull_due"}
    await channel.hub.settle()
    assert problems(fired) == []
