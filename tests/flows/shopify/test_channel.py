"""The Shopify channel against the simulated shop (both real HTTP servers on 127.0.0.1): webhooks
signed and sent by the simulator (retried, re-delivered, out of order), the scheduled pull
finding a missed webhook without doubling anything, fulfilments on shipment.dispatched (waiting
while the shop is down) and stock published compare-and-set."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import crossdock.sandbox.shopify.connector  # noqa: F401 - registers the sandboxed kind
from crossdock.connectors.shopify.client import ShopifyClient
from crossdock.connectors.shopify.operations import ShopifyOperations
from crossdock.connectors.shopify.settings import ShopifySettings
from crossdock.engine import NewEvent
from crossdock.flows.exceptions import list_exceptions
from crossdock.flows.orders import get_order_by_ref
from crossdock.flows.shopify.outbound import PULL_DUE
from crossdock.flows.shopify.tables import shopify_orders
from crossdock.sandbox.shopify.app import ShopSandboxSettings
from crossdock.sandbox.shopify.server import ShopifySandboxServer
from crossdock.sandbox.shopify.shop import Shop
from tests.flows.shopify.conftest import DOMAIN, SECRET, TOKEN, ShopHub, published_order, serve_hub

LOCATION = "gid://shopify/Location/1"


@dataclass
class Channel:
    hub: ShopHub
    server: ShopifySandboxServer

    @property
    def shop(self) -> Shop:
        shop: Shop = self.server.shop
        return shop

    async def send(self, topic: str, payload: dict[str, Any]) -> Any:
        sender = self.server.sandbox.webhooks
        return await asyncio.to_thread(sender.send, topic, payload)

    async def orders_received(self) -> int:
        return len(
            await self.hub.hub.engine.events_after(0, 10_000, types=["shopify.order_received"])
        )

    async def accepted(self) -> int:
        return int(
            await self.hub.hub.engine.db.read(
                lambda c: c.execute(
                    select(func.count())
                    .select_from(shopify_orders)
                    .where(shopify_orders.c.state == "accepted")
                ).scalar_one()
            )
        )


@pytest.fixture
async def channel(tmp_path: Path, shop_env: None) -> AsyncIterator[Channel]:
    simulated = ShopSandboxSettings(
        token=TOKEN, webhook_secret=SECRET, domain=DOMAIN, restore_rate=1000.0, bucket_max=2000.0
    )
    with ShopifySandboxServer(simulated) as server:
        settings = ShopifySettings(
            name="shop",
            url=server.url,
            shop_domain=DOMAIN,
            access_token=TOKEN,
            webhook_secret=SECRET,
            locations={LOCATION: "WH1"},
            stock_channels={"shop": LOCATION},
            retry_attempts=2,
        )
        operations = ShopifyOperations(ShopifyClient(settings))
        async for hub in serve_hub(tmp_path, operations):
            base = str(hub.client.base_url).rstrip("/")
            server.sandbox.webhooks.address = f"{base}/v1/channels/shopify/shop/webhooks"
            yield Channel(hub, server)
        await operations.aclose()


async def test_the_pull_finds_a_missed_webhook_and_doubles_nothing(channel: Channel) -> None:
    shop = channel.shop
    missed = shop.place(published_order() | {"id": 5001, "name": "#5001"})  # no webhook came
    sent = shop.place(published_order() | {"id": 5002, "name": "#5002"})
    delivery = await channel.send("orders/create", sent)
    assert delivery.attempts == [200]
    await channel.hub.settle()
    assert await channel.accepted() == 1
    await channel.hub.hub.engine.append_one(
        NewEvent(PULL_DUE, "test", "pull:shop", {"system": "shop"})
    )
    await channel.hub.settle()
    assert await channel.accepted() == 2
    received = await channel.orders_received()
    assert received == 3  # the webhook, and each order pulled once
    # the next pull reads the overlap again: the same versions append nothing
    await channel.hub.hub.engine.append_one(
        NewEvent(PULL_DUE, "test", "pull:shop", {"system": "shop"})
    )
    await channel.hub.settle()
    assert await channel.orders_received() == received
    for ref in (str(missed["id"]), str(sent["id"])):
        record = await channel.hub.hub.engine.db.read(
            lambda c, r=ref: get_order_by_ref(c, "shop", r)
        )
        assert record is not None and record.state == "accepted"


async def test_redelivered_and_out_of_order_webhooks(channel: Channel) -> None:
    shop, sender = channel.shop, channel.server.sandbox.webhooks
    created = shop.place(published_order() | {"id": 6001})
    first = sender.prepare("orders/create", created)
    paid = shop.update(6001, financial_status="paid")
    second = sender.prepare("orders/updated", paid)
    await asyncio.to_thread(sender.deliver, second)  # the newer one arrives first
    await asyncio.to_thread(sender.deliver, first)
    await asyncio.to_thread(sender.deliver, second)  # re-delivered: same webhook id
    again = await asyncio.to_thread(sender.again_new_id, second)
    assert again.attempts == [200]
    await channel.hub.settle()
    assert await channel.accepted() == 1
    assert await channel.orders_received() == 3  # the duplicate id stored nothing
    row = await channel.hub.hub.engine.db.read(
        lambda c: c.execute(select(shopify_orders.c.facts)).scalar_one()
    )
    assert '"financial_status": "paid"' in row


async def test_a_failed_delivery_is_retried_by_the_shop(channel: Channel) -> None:
    sender = channel.server.sandbox.webhooks
    good = sender.address
    sender.address = good.replace("/shop/", "/nobody/") if good else None
    sender.retry_schedule_s = (0.0, 0.01)
    lost = await channel.send("orders/create", published_order())
    assert lost.attempts == [404, 404] and not lost.delivered
    sender.address = good
    assert (await asyncio.to_thread(sender.deliver, lost)).delivered


async def test_a_dispatched_shipment_is_fulfilled_waiting_while_the_shop_is_down(
    channel: Channel,
) -> None:
    shop = channel.shop
    order = published_order() | {"id": 7001}
    order["line_items"][0]["quantity"] = 2
    shop.place(order)
    engine = channel.hub.hub.engine

    def dispatched(n: int, shipped: dict[str, str], tracking: str) -> NewEvent:
        return NewEvent(
            "shipment.dispatched",
            "crossdock.order_to_cash",
            "order:hub-7001",
            {
                "order_id": "hub-7001",
                "channel": "shop",
                "external_ref": "7001",
                "shipped": shipped,
                "carrier": "DHL",
                "tracking_number": tracking,
            },
            idempotency_key=f"dispatched:{n}",
        )

    await engine.append_one(dispatched(1, {"IPOD2008GREEN": "1"}, "JD0001"))
    await channel.hub.settle()
    assert len(shop.fulfilments_of(7001)) == 1
    channel.server.sandbox.down = True
    await engine.append_one(dispatched(2, {"IPOD2008GREEN": "1", "IPOD2008RED": "1"}, "JD0002"))
    async with asyncio.timeout(30):
        while channel.server.sandbox.refused < 4:  # two attempts of the batch, two calls each
            await asyncio.sleep(0.02)
    assert len(shop.fulfilments_of(7001)) == 1
    channel.server.sandbox.down = False
    await channel.hub.settle()
    made = shop.fulfilments_of(7001)
    assert [f["trackingInfo"][0]["number"] for f in made] == ["JD0001", "JD0002"]
    assert made[1]["lines"] == [
        {"sku": "IPOD2008GREEN", "quantity": 1},
        {"sku": "IPOD2008RED", "quantity": 1},
    ]


async def test_available_to_promise_is_published_compare_and_set(channel: Channel) -> None:
    shop = channel.shop
    for sku in ("SKU-A", "SKU-B"):
        shop.add_item(sku, {LOCATION: 3})
    engine = channel.hub.hub.engine
    for sku, available in (("SKU-A", "5"), ("SKU-B", "2.000"), ("SKU-A", "4")):
        await engine.append_one(
            NewEvent(
                "inventory.available",
                "crossdock.inventory",
                "availability:shop",
                {"channel": "shop", "sku": sku, "available": available},
            )
        )
    await channel.hub.settle()
    assert shop.available("SKU-A", LOCATION) == 4
    assert shop.available("SKU-B", LOCATION) == 2


async def test_a_location_mapped_to_no_warehouse_is_an_exception(channel: Channel) -> None:
    channel.shop.locations["gid://shopify/Location/77"] = "Pop-up store"
    engine = channel.hub.hub.engine
    await engine.append_one(NewEvent(PULL_DUE, "test", "pull:shop", {"system": "shop"}))
    await channel.hub.settle()
    [exception] = await engine.db.read(lambda c: list_exceptions(c))
    assert exception.type == "shopify_location_unmapped"
    assert "Pop-up store" in exception.reason and "Location/77" in exception.reason
