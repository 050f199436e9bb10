"""Shopify order webhooks end to end on a real HTTP server: verified on the raw body, stored
first and worked later into order-to-cash's accepted orders; forgeries, unknown shops,
re-deliveries, out-of-order and stale versions, malformed, test and cancelled orders."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from crossdock.engine.tables import events
from crossdock.flows.exceptions import list_exceptions
from crossdock.flows.orders import get_order_by_ref
from crossdock.flows.shopify.tables import shopify_orders
from crossdock.webhooks.tables import webhook_inbound
from tests.flows.shopify.conftest import ShopHub, published_order


async def _count(shop: ShopHub, table: Any) -> int:
    return int(
        await shop.hub.engine.db.read(
            lambda c: c.execute(select(func.count()).select_from(table)).scalar_one()
        )
    )


async def _row(shop: ShopHub, shopify_id: str) -> Any:
    return await shop.hub.engine.db.read(
        lambda c: c.execute(
            select(shopify_orders).where(shopify_orders.c.shopify_id == shopify_id)
        ).first()
    )


async def _order(shop: ShopHub, ref: str) -> Any:
    return await shop.hub.engine.db.read(lambda c: get_order_by_ref(c, "shop", ref))


async def _exceptions(shop: ShopHub) -> list[Any]:
    result: list[Any] = await shop.hub.engine.db.read(lambda c: list_exceptions(c))
    return result


async def test_published_order_is_accepted_once_across_redeliveries(shop: ShopHub) -> None:
    payload = published_order()
    first = await shop.deliver(payload, webhook_id="w-1")
    assert first.status_code == 200, first.text
    again = await shop.deliver(payload, webhook_id="w-1")
    assert again.json() == {**first.json(), "duplicate": True}
    # Shopify also re-sends the same version under a new webhook id (a re-delivery)
    other = await shop.deliver(payload, webhook_id="w-2")
    assert other.status_code == 200 and other.json()["duplicate"] is False
    await shop.settle()
    record = await _order(shop, "450789469")
    assert record is not None and record.state == "accepted"
    order = record.order()
    assert [line.sku for line in order.lines] == ["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]
    assert order.customer.external_ref == "customer:207119551"
    assert str(order.tax_amount) == "11.94" and str(order.total_amount) == "409.94"
    row = await _row(shop, "450789469")
    assert row.state == "accepted" and row.order_id == record.id
    facts = json.loads(row.facts)
    assert facts["financial_status"] == "authorized"
    assert facts["note_attributes"] == {"custom engraving": "Happy Birthday", "colour": "green"}
    assert await _count(shop, webhook_inbound) == 2


async def test_forged_or_altered_webhook_is_401_and_stores_nothing(shop: ShopHub) -> None:
    payload = published_order()
    forged = await shop.deliver(payload, secret="not-the-secret")
    assert forged.status_code == 401
    assert forged.headers["content-type"].startswith("application/problem+json")
    body = json.dumps(payload).encode()
    from tests.flows.shopify.conftest import signed

    altered = body.replace(b'"409.94"', b'"0.01"')
    response = await shop.client.post(
        "/v1/channels/shopify/shop/webhooks",
        content=altered,
        headers={
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Hmac-Sha256": signed(body),
            "X-Shopify-Shop-Domain": "crossdock-test.myshopify.com",
            "X-Shopify-Webhook-Id": "w-9",
            "X-Shopify-Triggered-At": "2026-12-05T06:00:00Z",
        },
    )
    assert response.status_code == 401
    assert await _count(shop, webhook_inbound) == 0
    assert await _count(shop, events) == 0


async def test_unknown_shop_is_404(shop: ShopHub) -> None:
    payload = published_order()
    assert (await shop.deliver(payload, system="nope")).status_code == 404
    wrong_domain = await shop.deliver(payload, domain="someone-else.myshopify.com")
    assert wrong_domain.status_code == 404
    assert await _count(shop, webhook_inbound) == 0


async def test_older_version_never_overwrites_newer(shop: ShopHub) -> None:
    older = published_order()
    newer = {**older, "updated_at": "2008-01-10T12:00:00-05:00", "financial_status": "paid"}
    assert (await shop.deliver(newer, "orders/updated", webhook_id="w-new")).status_code == 200
    assert (await shop.deliver(older, "orders/create", webhook_id="w-old")).status_code == 200
    await shop.settle()
    row = await _row(shop, "450789469")
    assert json.loads(row.facts)["financial_status"] == "paid"
    assert await _exceptions(shop) == []


async def test_malformed_order_is_kept_and_names_the_field(shop: ShopHub) -> None:
    payload = published_order()
    payload["line_items"][1]["quantity"] = -1
    payload["line_items"][2]["sku"] = None
    payload["currency"] = "XXY"
    response = await shop.deliver(payload)
    assert response.status_code == 200
    await shop.settle()
    assert await _order(shop, "450789469") is None
    [exception] = await _exceptions(shop)
    assert exception.type == "shopify_order_invalid"
    assert "/line_items/1/quantity" in exception.reason
    assert "/line_items/2/sku" in exception.reason and "IPod Nano - 8gb - black" in exception.reason
    assert "/currency" in exception.reason
    assert (await _row(shop, "450789469")).state == "invalid"
    assert await _count(shop, webhook_inbound) == 1  # kept as received


async def test_no_line_items_is_an_exception(shop: ShopHub) -> None:
    payload = {**published_order(), "line_items": []}
    await shop.deliver(payload)
    await shop.settle()
    [exception] = await _exceptions(shop)
    assert "/line_items" in exception.reason


async def test_test_orders_are_recognised_not_accepted(shop: ShopHub) -> None:
    await shop.deliver({**published_order(), "test": True})
    await shop.settle()
    assert await _order(shop, "450789469") is None
    assert (await _row(shop, "450789469")).state == "test"


async def test_cancelled_in_shopify_asks_order_to_cash_to_cancel(shop: ShopHub) -> None:
    payload = published_order()
    await shop.deliver(payload, webhook_id="w-1")
    cancelled = {
        **payload,
        "updated_at": "2008-01-11T09:00:00-05:00",
        "cancelled_at": "2008-01-11T09:00:00-05:00",
        "cancel_reason": "customer",
    }
    await shop.deliver(cancelled, "orders/cancelled", webhook_id="w-2")
    await shop.settle()
    record = await _order(shop, "450789469")
    asked = await shop.hub.engine.events_after(0, 100, types=["order.cancel_requested"])
    assert [e.subject for e in asked] == [f"order:{record.id}"]
    assert (await _row(shop, "450789469")).state == "cancelled"


async def test_changed_lines_after_acceptance_ask_order_to_cash_to_change(shop: ShopHub) -> None:
    payload = published_order()
    await shop.deliver(payload, webhook_id="w-1")
    edited = {**payload, "updated_at": "2008-01-10T13:00:00-05:00"}
    edited["line_items"] = [{**payload["line_items"][0], "quantity": 3}]
    await shop.deliver(edited, "orders/edited", webhook_id="w-2")
    # the same edit again (orders/updated follows orders/edited) and a newer version that only
    # changes the payment status: nothing more
    await shop.deliver(edited, "orders/updated", webhook_id="w-3")
    paid = {**edited, "updated_at": "2008-01-10T14:00:00-05:00", "financial_status": "paid"}
    await shop.deliver(paid, "orders/updated", webhook_id="w-4")
    # an older version arriving late is stale: it asks nothing
    await shop.deliver(payload, "orders/updated", webhook_id="w-5")
    await shop.settle()
    record = await _order(shop, "450789469")
    asked = await shop.hub.engine.events_after(0, 100, types=["order.change_requested"])
    assert [e.subject for e in asked] == [f"order:{record.id}"]
    [change] = asked
    assert change.data["external_ref"] == "450789469" and change.data["by"] == "shop"
    assert [(ln["sku"], ln["quantity"]) for ln in change.data["order"]["lines"]] == [
        ("IPOD2008GREEN", "3")
    ]
    assert await _exceptions(shop) == []


async def test_a_changed_price_after_acceptance_is_an_exception_for_sales(shop: ShopHub) -> None:
    payload = published_order()
    await shop.deliver(payload, webhook_id="w-1")
    edited = {**payload, "updated_at": "2008-01-10T13:00:00-05:00"}
    edited["line_items"] = [
        {**payload["line_items"][0], "price": "188.00"},
        *payload["line_items"][1:],
    ]
    await shop.deliver(edited, "orders/updated", webhook_id="w-2")
    await shop.settle()
    [exception] = await _exceptions(shop)
    record = await _order(shop, "450789469")
    assert exception.type == "shopify_order_changed" and exception.subject == f"order:{record.id}"
    assert "prices, customer or addresses" in exception.reason
    assert await shop.hub.engine.events_after(0, 100, types=["order.change_requested"]) == []
    assert [line.sku for line in record.order().lines] == [
        "IPOD2008GREEN",
        "IPOD2008RED",
        "IPOD2008BLACK",
    ]


async def test_other_topics_are_acknowledged_and_ignored(shop: ShopHub) -> None:
    response = await shop.deliver({"id": 1}, "app/uninstalled")
    assert response.status_code == 200 and response.json()["ignored"] is True
    assert await _count(shop, events) == 0
