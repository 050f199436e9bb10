"""Scalar types of the canonical model: decimals, money, codes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from crossdock.model import Money, NonNegativeQuantity, PositiveQuantity, Quantity
from crossdock.model.codes import COUNTRY_CODES, CURRENCY_CODES
from crossdock.model.party import Address
from crossdock.model.types import MAX_DECIMAL_PLACES, MAX_INTEGER_DIGITS


def _money_error(amount: Any) -> dict[str, Any]:
    with pytest.raises(ValidationError) as caught:
        Money(amount=amount, currency="EUR")
    errors = caught.value.errors()
    assert len(errors) == 1
    assert errors[0]["loc"] == ("amount",)
    return dict(errors[0])


@pytest.mark.parametrize(
    ("value", "error_type"),
    [
        ("", "decimal_empty"),
        (" ", "decimal_empty"),
        ("abc", "decimal_parsing"),
        ("12,50", "decimal_parsing"),
        ("1_000", "decimal_parsing"),
        ("1e3", "decimal_parsing"),
        ("١٢", "decimal_parsing"),  # non-ASCII digits
        ("NaN", "finite_number"),
        ("-Infinity", "finite_number"),
        ("Infinity", "finite_number"),
        (Decimal("NaN"), "finite_number"),
        (Decimal("Infinity"), "finite_number"),
        (True, "decimal_type"),
        (False, "decimal_type"),
        (None, "decimal_type"),
        ([1], "decimal_type"),
        (1.5, "decimal_float"),
        (2.0, "decimal_float"),
        ("1.1234567", "decimal_max_places"),
        ("1234567890123456", "decimal_whole_digits"),
    ],
)
def test_money_rejects_non_decimal_input(value: Any, error_type: str) -> None:
    assert _money_error(value)["type"] == error_type


def test_float_rejection_explains_why() -> None:
    message = _money_error(1.5)["msg"]
    assert "lossy" in message
    assert "string" in message


def test_float_in_json_is_rejected_but_integer_accepted() -> None:
    with pytest.raises(ValidationError, match="lossy"):
        Money.model_validate_json('{"amount": 12.5, "currency": "EUR"}')
    assert Money.model_validate_json('{"amount": 12, "currency": "EUR"}').amount == Decimal(12)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120.00", "120.00"),
        (" 7.5 ", "7.5"),
        ("-3", "-3"),
        ("+4.25", "4.25"),
        (3, "3"),
        (Decimal("19.990"), "19.990"),
        (Decimal("1E+2"), "100"),
        ("-0.00", "0.00"),
        ("999999999999999.999999", "999999999999999.999999"),
    ],
)
def test_money_accepts_decimal_input(value: Any, expected: str) -> None:
    amount = Money(amount=value, currency="EUR").amount
    assert isinstance(amount, Decimal)
    assert str(amount) == expected


def test_money_keeps_trailing_zeros_through_json() -> None:
    money = Money(amount="120.00", currency="USD")
    assert money.model_dump_json() == '{"amount":"120.00","currency":"USD"}'


@pytest.mark.parametrize("code", ["USD", "EUR", "JPY", "CHF", "XCG", "ZWG"])
def test_active_currency_codes_accepted(code: str) -> None:
    assert Money(amount=1, currency=code).currency == code


def test_currency_code_is_normalized_to_upper_case() -> None:
    assert Money(amount=1, currency=" usd ").currency == "USD"


@pytest.mark.parametrize("code", ["", "US", "USDD", "XYZ", "XXX", "HRK", "123", "€"])
def test_unknown_currency_codes_rejected(code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Money(amount=1, currency=code)
    (error,) = caught.value.errors()
    assert error["loc"] == ("currency",)
    assert error["type"] == "currency_code"
    assert "ISO 4217" in error["msg"]


def test_code_tables_are_plausible() -> None:
    assert len(CURRENCY_CODES) > 150
    assert all(len(code) == 3 and code.isupper() for code in CURRENCY_CODES)
    assert len(COUNTRY_CODES) >= 249
    assert all(len(code) == 2 and code.isupper() for code in COUNTRY_CODES)
    assert {"US", "DE", "GB", "CN", "BR"} <= COUNTRY_CODES


def _address(**changes: Any) -> dict[str, Any]:
    address = {"street": "1 Main St", "city": "Springfield", "postal_code": "12345"}
    address["country"] = "US"
    address.update(changes)
    return address


@pytest.mark.parametrize("country", ["US", "de", " fr "])
def test_country_codes_accepted(country: str) -> None:
    assert Address.model_validate(_address(country=country)).country == country.strip().upper()


@pytest.mark.parametrize("country", ["USA", "U", "UK", "ZZ", ""])
def test_unknown_country_codes_rejected(country: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Address.model_validate(_address(country=country))
    (error,) = caught.value.errors()
    assert error["loc"] == ("country",)
    assert error["type"] == "country_code"


class _Quantities(BaseModel):
    delta: Quantity
    on_hand: NonNegativeQuantity
    ordered: PositiveQuantity


@pytest.mark.parametrize(
    ("field", "value", "error_type"),
    [
        ("on_hand", "-1", "greater_than_equal"),
        ("ordered", "0", "greater_than"),
        ("ordered", "-0.5", "greater_than"),
        ("ordered", 0, "greater_than"),
    ],
)
def test_quantity_signs(field: str, value: Any, error_type: str) -> None:
    data: dict[str, Any] = {"delta": "-5", "on_hand": "0", "ordered": "0.001"}
    assert _Quantities.model_validate(data).delta == Decimal(-5)
    data[field] = value
    with pytest.raises(ValidationError) as caught:
        _Quantities.model_validate(data)
    (error,) = caught.value.errors()
    assert error["loc"] == (field,)
    assert error["type"] == error_type


_LIMIT = Decimal(10**MAX_INTEGER_DIGITS - 1)


@st.composite
def _amounts(draw: st.DrawFn) -> Decimal:
    places = draw(st.integers(min_value=0, max_value=MAX_DECIMAL_PLACES))
    value: Decimal = draw(
        st.decimals(
            min_value=-_LIMIT,
            max_value=_LIMIT,
            places=places,
            allow_nan=False,
            allow_infinity=False,
        )
    )
    return value


@given(amount=_amounts(), currency=st.sampled_from(sorted(CURRENCY_CODES)))
def test_any_amount_within_precision_round_trips_exactly_through_json(
    amount: Decimal, currency: str
) -> None:
    money = Money(amount=amount, currency=currency)
    assert money.amount == amount
    again = Money.model_validate_json(money.model_dump_json())
    assert again == money
    assert again.amount.as_tuple() == money.amount.as_tuple()  # same digits and exponent
    from_string = Money(amount=str(amount), currency=currency)
    assert from_string.amount.as_tuple() == money.amount.as_tuple()
