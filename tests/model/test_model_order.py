"""The canonical Order, validated from the intake API's request body."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from crossdock.model import Address, Customer, Order, OrderCustomer
from tests.model.model_samples import sample_body


def errors_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as caught:
        Order.model_validate(body)
    return [dict(error) for error in caught.value.errors()]


def test_sample_body_parses() -> None:
    order = Order.model_validate(sample_body())
    assert order.external_ref == "WS-1001"
    assert order.channel == "webshop"
    assert order.currency == "USD"
    assert order.requested_date == date(2026, 11, 30)
    assert order.status == "pending"
    (line,) = order.lines
    assert (line.sku, line.quantity, line.uom, line.unit_price) == (
        "DESK-1",
        Decimal("2"),
        "unit",
        Decimal("120.00"),
    )
    assert order.customer.address is not None
    assert order.customer.address.city == "Springfield"
    assert order.lines_net_amount == Decimal("240.00")
    assert order.delivery_address == order.customer.address


def test_source_defaults_to_channel_and_customer_inherits_it() -> None:
    order = Order.model_validate(sample_body())
    assert order.source == "webshop"
    assert order.customer.source == "webshop"
    assert isinstance(order.customer, Customer)


def test_explicit_sources_are_kept() -> None:
    body = sample_body()
    body["source"] = "odoo"
    order = Order.model_validate(body)
    assert (order.channel, order.source, order.customer.source) == ("webshop", "odoo", "odoo")

    body["customer"]["source"] = "crm"
    assert Order.model_validate(body).customer.source == "crm"


def test_order_accepts_a_customer_object() -> None:
    body = sample_body()
    body["customer"] = Customer.model_validate({**body["customer"], "source": "crm"})
    order = Order.model_validate(body)
    assert isinstance(order.customer, OrderCustomer)
    assert order.customer.source == "crm"
    assert order.customer.name == "Acme Ltd"


def test_missing_channel_and_source_is_reported_on_channel_and_source() -> None:
    body = sample_body()
    del body["channel"]
    locs = {error["loc"] for error in errors_of(body)}
    assert ("channel",) in locs
    assert ("source",) in locs


def test_duplicate_sku_is_rejected_at_the_repeated_line() -> None:
    body = sample_body()
    body["lines"] = [
        {"sku": "DESK-1", "quantity": "2", "unit_price": "120.00"},
        {"sku": "CHAIR-1", "quantity": "4", "unit_price": "45.00"},
        {"sku": " DESK-1 ", "quantity": "1", "unit_price": "120.00"},
    ]
    (error,) = errors_of(body)
    assert error["loc"] == ("lines", 2, "sku")
    assert error["type"] == "duplicate_sku"
    assert "DESK-1" in error["msg"]
    assert "index 0" in error["msg"]


@pytest.mark.parametrize("quantity", ["0", "-1", 0, "-0.001"])
def test_non_positive_quantity_is_rejected(quantity: Any) -> None:
    body = sample_body()
    body["lines"][0]["quantity"] = quantity
    (error,) = errors_of(body)
    assert error["loc"] == ("lines", 0, "quantity")
    assert error["type"] == "greater_than"


def test_fractional_quantity_with_unit_of_measure() -> None:
    body = sample_body()
    body["lines"][0].update(quantity="2.5", uom="kg")
    (line,) = Order.model_validate(body).lines
    assert (line.quantity, line.uom) == (Decimal("2.5"), "kg")


@pytest.mark.parametrize("price", ["", " ", "abc", "NaN", "Infinity", 1.5, True])
def test_bad_unit_price_is_rejected(price: Any) -> None:
    body = sample_body()
    body["lines"][0]["unit_price"] = price
    (error,) = errors_of(body)
    assert error["loc"] == ("lines", 0, "unit_price")


def test_negative_unit_price_is_rejected() -> None:
    body = sample_body()
    body["lines"][0]["unit_price"] = "-1.00"
    (error,) = errors_of(body)
    assert error["loc"] == ("lines", 0, "unit_price")
    assert error["type"] == "greater_than_equal"


@pytest.mark.parametrize("part", ["street", "city", "postal_code", "country"])
def test_required_address_parts(part: str) -> None:
    body = sample_body()
    del body["customer"]["address"][part]
    (error,) = errors_of(body)
    assert error["loc"] == ("customer", "address", part)
    assert error["type"] == "missing"

    body = sample_body()
    body["customer"]["address"][part] = "  "
    (error,) = errors_of(body)
    assert error["loc"] == ("customer", "address", part)


def test_currency_and_country_are_validated_with_their_path() -> None:
    body = sample_body()
    body["currency"] = "DOLLAR"
    body["customer"]["address"]["country"] = "USA"
    errors = {error["loc"]: error["type"] for error in errors_of(body)}
    assert errors == {
        ("currency",): "currency_code",
        ("customer", "address", "country"): "country_code",
    }


def test_order_needs_at_least_one_line() -> None:
    body = sample_body()
    body["lines"] = []
    (error,) = errors_of(body)
    assert error["loc"] == ("lines",)


def test_unknown_fields_are_rejected() -> None:
    body = sample_body()
    body["odoo_id"] = 7
    body["lines"][0]["colour"] = "red"
    locs = {error["loc"] for error in errors_of(body)}
    assert locs == {("odoo_id",), ("lines", 0, "colour")}


def test_refs_hold_identifiers_in_other_systems() -> None:
    body = sample_body()
    body["refs"] = {"odoo": "sale.order:42", "shopify": "gid://shopify/Order/1"}
    assert Order.model_validate(body).refs["odoo"] == "sale.order:42"
    body["refs"] = {"odoo": ""}
    (error,) = errors_of(body)
    assert error["loc"] == ("refs", "odoo")


def test_external_ref_must_not_be_blank() -> None:
    body = sample_body()
    body["external_ref"] = "   "
    (error,) = errors_of(body)
    assert error["loc"] == ("external_ref",)


def test_ordered_at_needs_a_time_zone() -> None:
    body = sample_body()
    body["ordered_at"] = "2026-11-20T10:00:00"
    (error,) = errors_of(body)
    assert error["loc"] == ("ordered_at",)
    body["ordered_at"] = "2026-11-20T10:00:00+01:00"
    assert Order.model_validate(body).ordered_at is not None


def test_json_round_trip() -> None:
    body = sample_body()
    body.update(
        ordered_at="2026-11-20T10:00:00Z",
        shipping_amount="9.90",
        tax_amount="21.60",
        total_amount="271.50",
        shipping_address={
            "name": "Receiving dock",
            "street": "2 Dock Rd",
            "city": "Springfield",
            "postal_code": "12346",
            "country": "US",
        },
    )
    order = Order.model_validate(body)
    again = Order.model_validate_json(order.model_dump_json())
    assert again == order
    assert again.shipping_amount == Decimal("9.90")
    assert isinstance(again.delivery_address, Address)
    assert again.delivery_address.name == "Receiving dock"


def test_orders_are_immutable_and_input_is_not_mutated() -> None:
    body = sample_body()
    before = copy.deepcopy(body)
    order = Order.model_validate(body)
    assert body == before
    with pytest.raises(ValidationError):
        order.channel = "edi"  # type: ignore[misc]
