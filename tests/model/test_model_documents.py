"""Every canonical object: a realistic sample parses and round-trips; document rules hold."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from crossdock.model import (
    MODELS,
    CanonicalObject,
    FreightCost,
    Invoice,
    Payment,
    Shipment,
    StockEvent,
    StockLevel,
)
from crossdock.model.planning import Forecast
from tests.model.model_samples import SAMPLES


def sample(name: str) -> dict[str, Any]:
    return copy.deepcopy(SAMPLES[name])


def errors_of(model: type[CanonicalObject], data: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return [dict(error) for error in caught.value.errors()]


def test_every_registered_model_has_a_sample() -> None:
    assert set(SAMPLES) == set(MODELS)


def test_registry_names_match_the_classes() -> None:
    for name, model in MODELS.items():
        assert name == model.SCHEMA_NAME
        assert model.SCHEMA_VERSION == 1
        assert issubclass(model, CanonicalObject)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_parses_and_round_trips_through_json(name: str) -> None:
    model = MODELS[name]
    obj = model.model_validate(sample(name))
    assert obj.external_ref == SAMPLES[name]["external_ref"]
    assert obj.source
    again = model.model_validate_json(obj.model_dump_json())
    assert again == obj
    assert model.model_validate(obj.model_dump(mode="json")) == obj


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_object_requires_an_external_ref(name: str) -> None:
    data = sample(name)
    del data["external_ref"]
    assert ("external_ref",) in {error["loc"] for error in errors_of(MODELS[name], data)}


@pytest.mark.parametrize("name", sorted(set(SAMPLES) - {"order"}))
def test_every_object_requires_a_source(name: str) -> None:
    data = sample(name)
    del data["source"]
    assert ("source",) in {error["loc"] for error in errors_of(MODELS[name], data)}


def test_stock_level_on_hand_cannot_be_negative_but_available_can() -> None:
    data = sample("stock_level")
    data["available"] = "-3"
    assert StockLevel.model_validate(data).available == Decimal(-3)
    data["on_hand"] = "-1"
    (error,) = errors_of(StockLevel, data)
    assert error["loc"] == ("on_hand",)


def test_stock_event_deltas_are_signed_and_times_aware() -> None:
    data = sample("stock_event")
    assert StockEvent.model_validate(data).quantity == Decimal(-2)
    data["quantity"] = "+5"
    assert StockEvent.model_validate(data).quantity == Decimal(5)
    data["occurred_at"] = "2026-11-22T08:05:00"
    data["sequence"] = -1
    locs = {error["loc"] for error in errors_of(StockEvent, data)}
    assert locs == {("occurred_at",), ("sequence",)}


def test_shipment_serials_must_be_unique() -> None:
    data = sample("shipment")
    data["lines"][0]["serials"] = ["SN-1", "SN-1"]
    (error,) = errors_of(Shipment, data)
    assert error["loc"] == ("lines", 0, "serials", 1)


def test_shipment_milestone_codes_are_normalized() -> None:
    data = sample("shipment")
    shipment = Shipment.model_validate(data)
    assert shipment.latest_milestone is not None
    assert shipment.latest_milestone.code == "delivered"
    data["milestones"][0]["code"] = "PU"
    (error,) = errors_of(Shipment, data)
    assert error["loc"] == ("milestones", 0, "code")


def test_invoice_total_must_match_subtotal_plus_tax() -> None:
    data = sample("invoice")
    data["total"] = "216.01"
    (error,) = errors_of(Invoice, data)
    assert error["loc"] == ("total",)
    assert error["type"] == "amount_mismatch"
    assert "216.00" in error["msg"]


def test_invoice_subtotal_must_match_line_subtotals() -> None:
    data = sample("invoice")
    data["lines"][1]["subtotal"] = "-39.00"
    (error,) = errors_of(Invoice, data)
    assert error["loc"] == ("subtotal",)


def test_invoice_totals_are_not_checked_when_parts_are_missing() -> None:
    data = sample("invoice")
    del data["lines"][0]["subtotal"]
    del data["tax_total"]
    data["subtotal"] = "123.45"
    assert Invoice.model_validate(data).total == Decimal("216.00")


def test_invoice_due_date_not_before_invoice_date() -> None:
    data = sample("invoice")
    data["due_date"] = "2026-11-01"
    (error,) = errors_of(Invoice, data)
    assert error["loc"] == ("due_date",)


def test_payment_amount_is_positive_and_covers_allocations() -> None:
    data = sample("payment")
    data["allocations"].append({"invoice_ref": "INV/2026/0002", "amount": "0.01"})
    (error,) = errors_of(Payment, data)
    assert error["loc"] == ("allocations",)
    assert error["type"] == "allocation_exceeds_amount"
    data = sample("payment")
    data["amount"] = "0"
    assert ("amount",) in {error["loc"] for error in errors_of(Payment, data)}


def test_refund_must_be_positive() -> None:
    data = sample("return")
    data["refund"]["amount"]["amount"] = "-120.00"
    (error,) = errors_of(MODELS["return"], data)
    assert error["loc"] == ("refund", "amount", "amount")


def test_purchase_order_line_numbers_are_unique() -> None:
    data = sample("purchase_order")
    data["lines"][1]["line_number"] = "1"
    (error,) = errors_of(MODELS["purchase_order"], data)
    assert error["loc"] == ("lines", 1, "line_number")


def test_asn_tolerance_is_a_percentage() -> None:
    data = sample("advance_ship_notice")
    data["lines"][0]["over_tolerance_percent"] = "101"
    (error,) = errors_of(MODELS["advance_ship_notice"], data)
    assert error["loc"] == ("lines", 0, "over_tolerance_percent")


def test_forecast_periods_in_order_without_overlap() -> None:
    data = sample("forecast")
    data["periods"][1]["start"] = "2026-11-29"
    (error,) = errors_of(Forecast, data)
    assert error["loc"] == ("periods", 1, "start")
    data = sample("forecast")
    data["periods"][1]["lower"] = "13"
    (error,) = errors_of(Forecast, data)
    assert error["loc"] == ("periods", 1, "lower")


def test_freight_total_must_match_charges() -> None:
    data = sample("freight_cost")
    assert FreightCost.model_validate(data).charges_total == Decimal("40.00")
    data["total"] = "43.30"
    (error,) = errors_of(FreightCost, data)
    assert error["loc"] == ("total",)


def test_price_validity_window_in_order() -> None:
    data = sample("price_list_entry")
    data["valid_to"] = "2025-12-31"
    (error,) = errors_of(MODELS["price_list_entry"], data)
    assert error["loc"] == ("valid_to",)
