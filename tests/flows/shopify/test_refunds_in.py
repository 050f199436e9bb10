"""Refunds made in Shopify (``refunds/create``, Shopify's published refund of the published
order) become returns through the returns flow's accept path: once across re-deliveries, never
for the hub's own refund coming back, and as an exception naming the rule when the goods were
never delivered or the refund cancels unshipped units."""

from __future__ import annotations

import json
import time
from typing import Any

from crossdock.flows.exceptions import list_exceptions
from crossdock.flows.orders import StateChange, get_order_by_ref, step_row, write_changes
from crossdock.flows.returns.store import get_return_by_ref, list_returns
from tests.flows.shopify.conftest import DATA, ShopHub, published_order


def published_refund(**changes: Any) -> dict[str, Any]:
    """Shopify's published refund of the published order (tests/flows/shopify/data/README.md)."""
    refund: dict[str, Any] = json.loads((DATA / "refund_python_api.json").read_text())
    refund.update(changes)
    return refund


async def _delivered(shop: ShopHub, ref: str = "450789469") -> None:
    """The order accepted and, as order-to-cash would record it, delivered in full."""
    response = await shop.deliver(published_order() | {"id": int(ref)}, webhook_id=f"o-{ref}")
    assert response.status_code == 200, response.text
    await shop.settle()

    def ship(conn: Any) -> None:
        record = get_order_by_ref(conn, "shop", ref)
        assert record is not None
        shipped = {line.sku: str(line.quantity) for line in record.order().lines}
        now = time.time()
        write_changes(
            conn,
            [StateChange(record.id, "invoiced", now, {"shipments": [{"shipped": shipped}]})],
            [step_row(record.id, "shipped", "done", now)],
        )

    await shop.hub.engine.db.write(ship)


async def _returns(shop: ShopHub) -> list[Any]:
    found: list[Any] = await shop.hub.engine.db.read(lambda c: list_returns(c))
    return found


async def _exceptions(shop: ShopHub) -> list[Any]:
    found: list[Any] = await shop.hub.engine.db.read(lambda c: list_exceptions(c))
    return found


async def test_the_published_refund_becomes_one_return(shop: ShopHub) -> None:
    await _delivered(shop)
    refund = published_refund()
    for webhook_id in ("r-1", "r-1", "r-2"):  # the same id again, then a re-delivery
        response = await shop.deliver(refund, "refunds/create", webhook_id=webhook_id)
        assert response.status_code == 200, response.text
    await shop.settle()
    record = await shop.hub.engine.db.read(
        lambda c: get_return_by_ref(c, "shop", "shopify-refund:509562969")
    )
    assert record is not None
    assert record.outcome == "refund" and record.state == "requested"
    assert {line["sku"]: line["quantity"] for line in record.lines} == {
        "IPOD2008BLACK": "1",
        "IPOD2008GREEN": "1",
    }
    assert record.body["note"] == "it broke during shipping"
    assert len(await _returns(shop)) == 1
    assert await _exceptions(shop) == []


async def test_the_hubs_own_refund_coming_back_is_no_return(shop: ShopHub) -> None:
    await _delivered(shop)
    ours = published_refund(note="return R-1 (RMA-1) [crossdock:RMA-1]")
    assert (await shop.deliver(ours, "refunds/create", webhook_id="r-3")).status_code == 200
    await shop.settle()
    assert await _returns(shop) == [] and await _exceptions(shop) == []


async def test_a_refund_of_goods_never_delivered_names_the_rule(shop: ShopHub) -> None:
    response = await shop.deliver(published_order(), webhook_id="o-1")
    assert response.status_code == 200
    await shop.deliver(published_refund(), "refunds/create", webhook_id="r-4")
    await shop.settle()
    assert await _returns(shop) == []
    [exception] = await _exceptions(shop)
    assert exception.type == "shopify_refund_not_returnable"
    assert "509562969" in exception.reason and "/lines/" in exception.reason


async def test_units_refunded_before_shipping_are_an_exception_for_sales(shop: ShopHub) -> None:
    await _delivered(shop)
    refund = published_refund(id=509562970)
    refund["refund_line_items"][0]["restock_type"] = "cancel"
    await shop.deliver(refund, "refunds/create", webhook_id="r-5")
    await shop.settle()
    [record] = await _returns(shop)
    assert [line["sku"] for line in record.lines] == ["IPOD2008GREEN"]
    [exception] = await _exceptions(shop)
    assert exception.type == "shopify_refund_unshipped" and "IPOD2008BLACK x1" in exception.reason


async def test_a_refund_line_without_a_sku_is_named(shop: ShopHub) -> None:
    refund = published_refund(id=509562971)
    refund["refund_line_items"][1]["line_item"]["sku"] = ""
    await shop.deliver(refund, "refunds/create", webhook_id="r-6")
    await shop.settle()
    [exception] = await _exceptions(shop)
    assert "/refund_line_items/1/line_item/sku" in exception.reason
