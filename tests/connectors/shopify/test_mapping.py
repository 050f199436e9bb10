"""Mapping Shopify's published order to the canonical order: taxes included or not, discounts,
shipping, the customer by id then e-mail, lines of one SKU, and the pulled (GraphQL) shape of
the same order mapping to the same canonical order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crossdock.connectors.shopify.mapping import from_graphql, map_order
from crossdock.sandbox.shopify.graphql_api import GraphqlApi
from crossdock.sandbox.shopify.shop import Shop
from tests.flows.shopify.conftest import published_order

LOCATIONS = {"gid://shopify/Location/1": "WH1"}


def _map(payload: dict[str, Any]) -> Any:
    return map_order("shop", payload, locations=LOCATIONS)


def test_the_published_order() -> None:
    mapped = _map(published_order())
    order = mapped.order
    assert mapped.problems == [] and order is not None
    assert (order.channel, order.external_ref, order.currency) == ("shop", "450789469", "USD")
    assert order.customer_reference == "#1001"
    assert [(line.sku, line.quantity, line.unit_price) for line in order.lines] == [
        ("IPOD2008GREEN", Decimal(1), Decimal("199.00")),
        ("IPOD2008RED", Decimal(1), Decimal("199.00")),
        ("IPOD2008BLACK", Decimal(1), Decimal("199.00")),
    ]
    assert order.shipping_method == "Free Shipping" and order.shipping_amount == Decimal(0)
    assert order.shipping_address is not None and order.shipping_address.region == "KY"
    assert mapped.facts["tags"] == [] and mapped.facts["presentment_currency"] == "USD"
    assert mapped.test is False and mapped.cancelled is False


def test_taxes_included_prices_come_back_to_before_tax() -> None:
    payload = published_order() | {"taxes_included": True}
    payload["line_items"][0] |= {"quantity": 2, "tax_lines": [{"price": "66.34", "rate": 0.2}]}
    payload["shipping_lines"] = [
        {"title": "Express", "price": "12.00", "tax_lines": [{"price": "2.00"}]}
    ]
    order = _map(payload).order
    assert order is not None
    green = order.lines[0]
    assert green.unit_price == Decimal("165.83") and green.tax_amount == Decimal("66.34")
    assert order.shipping_amount == Decimal("10.00")


def test_line_and_order_discounts() -> None:
    payload = published_order() | {"total_discounts": "30.00"}
    payload["line_items"][0]["discount_allocations"] = [{"amount": "19.90"}]
    order = _map(payload).order
    assert order is not None
    assert order.lines[0].discount_amount == Decimal("19.90")
    assert order.discount_amount == Decimal("10.10")  # what no line carries


def test_a_guest_is_known_by_e_mail_and_a_customer_by_id() -> None:
    guest = published_order() | {"customer": None, "email": "Guest@Example.com"}
    order = _map(guest).order
    assert order is not None and order.customer.external_ref == "email:guest@example.com"
    again = _map(published_order() | {"id": 1, "name": "#1002"}).order
    assert again is not None and again.customer.external_ref == "customer:207119551"
    nobody = _map(published_order() | {"customer": None, "email": None})
    assert [p.pointer for p in nobody.problems] == ["/customer"]


def test_two_lines_of_one_sku_at_one_price_are_one_line() -> None:
    payload = published_order()
    payload["line_items"][1] |= {"sku": "IPOD2008GREEN", "quantity": 2}
    order = _map(payload).order
    assert order is not None
    assert [(line.sku, line.quantity) for line in order.lines] == [
        ("IPOD2008GREEN", Decimal(3)),
        ("IPOD2008BLACK", Decimal(1)),
    ]


def test_an_unmapped_location_is_named() -> None:
    mapped = _map(published_order() | {"location_id": 99})
    assert mapped.order is None
    assert [p.pointer for p in mapped.problems] == ["/location_id"]
    assert "99" in mapped.problems[0].detail


def test_the_pulled_shape_maps_to_the_same_order() -> None:
    shop = Shop()
    api = GraphqlApi(shop)
    payload = published_order() | {"tags": "vip, wholesale"}
    payload["line_items"][0]["tax_lines"] = [{"price": "11.94", "title": "State Tax"}]
    stored = shop.place(payload)
    node = api._order_view(stored)
    for key in ("lineItems", "shippingLines"):
        node[key] = node[key](None, first=50)
    pulled = _map(from_graphql(node))
    pushed = _map(stored)
    assert pulled.problems == [] and pulled.order == pushed.order
    assert pulled.facts["tags"] == ["vip", "wholesale"]
