"""The shop port on the sandbox (and a real development shop when configured): the pull's pages
of updated orders in the webhooks' shape, partial fulfilments on the right fulfilment order
lines, compare-and-set inventory in batches, and the cost bucket respected."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from crossdock.connectors.shopify.errors import ShopifyError
from crossdock.connectors.shopify.mapping import map_order
from crossdock.connectors.shopify.records import FulfilmentLine, InventoryChange
from tests.contract.shopify.conftest import LOCATION, SECOND, ShopifyTarget

DATA = Path(__file__).parents[2] / "flows" / "shopify" / "data"


def published(**changes: Any) -> dict[str, Any]:
    order: dict[str, Any] = json.loads((DATA / "order_python_api.json").read_text())
    order.update(changes)
    return order


async def test_locations_are_the_shops(target: ShopifyTarget) -> None:
    operations = target.operations()
    try:
        found = await operations.locations()
    finally:
        await operations.aclose()
    assert set(target.settings.locations) <= set(found)


async def test_pull_pages_every_updated_order_oldest_first(target: ShopifyTarget) -> None:
    shop = target.shop
    since = datetime.now(UTC) - timedelta(seconds=1)
    placed = [shop.place(published(id=shop.next_id(), name=f"#P{i}")) for i in range(7)]
    big = published(id=shop.next_id(), name="#BIG")
    big["line_items"] = [
        {**big["line_items"][0], "id": 9000 + i, "sku": f"BIG-{i}"} for i in range(45)
    ]
    placed.append(shop.place(big))
    operations = target.operations()
    try:
        pages = [page async for page in operations.orders_updated_since(since)]
    finally:
        await operations.aclose()
    orders = [o for page in pages for o in page]
    ids = [str(o["id"]) for o in orders]
    assert ids == [str(p["id"]) for p in placed]
    assert len(pages) >= 3  # paged: a page stays under the single-query cost limit
    mapped = map_order("shop", orders[0], locations=target.settings.locations)
    assert mapped.problems == [] and mapped.order is not None
    assert [line.sku for line in mapped.order.lines] == [
        "IPOD2008GREEN",
        "IPOD2008RED",
        "IPOD2008BLACK",
    ]
    assert str(mapped.order.total_amount) == "409.94"
    big_mapped = map_order("shop", orders[-1], locations=target.settings.locations)
    assert big_mapped.order is not None and len(big_mapped.order.lines) == 45  # all lines paged


async def test_partial_shipments_are_partial_fulfilments(target: ShopifyTarget) -> None:
    shop = target.shop
    order = published(id=shop.next_id())
    order["line_items"][0]["quantity"] = 3
    placed = shop.place(order)
    operations = target.operations()
    try:
        first = await operations.fulfil(
            str(placed["id"]),
            [FulfilmentLine("IPOD2008GREEN", Decimal(2))],
            carrier="UPS",
            tracking="1Z999AA10123456784",
        )
        second = await operations.fulfil(
            str(placed["id"]),
            [
                FulfilmentLine("IPOD2008GREEN", Decimal(1)),
                FulfilmentLine("IPOD2008RED", Decimal(1)),
            ],
            carrier="UPS",
            tracking="1Z999AA10123456785",
        )
        with pytest.raises(ShopifyError, match="IPOD2008GREEN"):
            await operations.fulfil(
                str(placed["id"]),
                [FulfilmentLine("IPOD2008GREEN", Decimal(1))],
                carrier=None,
                tracking=None,
            )
    finally:
        await operations.aclose()
    assert first != second
    made = shop.fulfilments_of(int(placed["id"]))
    assert [f["lines"] for f in made] == [
        [{"sku": "IPOD2008GREEN", "quantity": 2}],
        [{"sku": "IPOD2008GREEN", "quantity": 1}, {"sku": "IPOD2008RED", "quantity": 1}],
    ]
    assert made[0]["trackingInfo"] == [{"company": "UPS", "number": "1Z999AA10123456784"}]


async def test_inventory_is_compare_and_set_in_batches(target: ShopifyTarget) -> None:
    shop = target.shop
    skus = [f"CAS-{i:04d}" for i in range(300)]
    for sku in skus:
        shop.add_item(sku, {LOCATION: 5, SECOND: 1})
    operations = target.operations()
    try:
        changes = [InventoryChange(sku, LOCATION, 10) for sku in skus]
        changes += [
            InventoryChange(skus[0], SECOND, 4),
            InventoryChange("NOT-IN-SHOP", LOCATION, 1),
        ]
        outcome = await operations.set_inventory(changes)
        assert outcome.set == 301 and outcome.unknown == ["NOT-IN-SHOP"] and not outcome.conflicts
        assert shop.available(skus[299], LOCATION) == 10
        assert shop.available(skus[0], SECOND) == 4
        calls, throttled = operations.client.calls, operations.client.throttled
        # a sale in Shopify meanwhile: the next publish must not overwrite it blindly
        shop.adjust(skus[1], LOCATION, -2)
        again = await operations.set_inventory(
            [InventoryChange(skus[1], LOCATION, 7), InventoryChange(skus[2], LOCATION, 7)]
        )
        assert again.conflicts == {(skus[1], LOCATION): 8} and again.reread == 1
        assert shop.available(skus[1], LOCATION) == 8  # the shop's change stands
        assert shop.available(skus[2], LOCATION) == 7
        assert operations.client.calls == calls + 3  # refused, re-read, set the rest
        assert operations.client.throttled == throttled  # paced from the answers
    finally:
        await operations.aclose()


async def test_a_line_beyond_the_first_page_of_a_fulfilment_order_is_found(
    target: ShopifyTarget,
) -> None:
    shop = target.shop
    order = published(id=shop.next_id())
    order["line_items"] = [
        {**order["line_items"][0], "id": 7000 + i, "sku": f"LONG-{i:02d}"} for i in range(30)
    ]
    placed = shop.place(order)
    operations = target.operations()
    try:
        await operations.fulfil(
            str(placed["id"]), [FulfilmentLine("LONG-28", Decimal(1))], carrier=None, tracking=None
        )
    finally:
        await operations.aclose()
    assert shop.fulfilments_of(int(placed["id"]))[0]["lines"] == [{"sku": "LONG-28", "quantity": 1}]
