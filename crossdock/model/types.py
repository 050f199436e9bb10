"""Scalar types of the canonical model: decimals, money, quantities, codes and identifiers.

Everything numeric that a business depends on is a :class:`~decimal.Decimal`. Producers send
decimals as JSON strings (``"120.00"``) or integers; floats are rejected because they are lossy,
and so are booleans, empty or non-numeric strings, NaN and infinities. A decimal has at most
:data:`MAX_INTEGER_DIGITS` digits before and :data:`MAX_DECIMAL_PLACES` after the decimal point,
as written (``"1.5000000"`` has seven places and is rejected). Decimals serialize to JSON as
strings in plain notation, so a value survives a JSON round trip exactly, trailing zeros included.

Codes are normalized (stripped, upper-cased) and checked against static ISO tables
(:mod:`crossdock.model.codes`).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Final

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from crossdock.model.codes import COUNTRY_CODES, CURRENCY_CODES
from crossdock.model.validation import require_unique

__all__ = [
    "MAX_DECIMAL_PLACES",
    "MAX_INTEGER_DIGITS",
    "Amount",
    "CountryCode",
    "CurrencyCode",
    "Email",
    "ExternalRef",
    "LotNumber",
    "Money",
    "NonNegativeAmount",
    "NonNegativeQuantity",
    "Percentage",
    "Phone",
    "PositiveAmount",
    "PositiveQuantity",
    "Quantity",
    "SerialNumber",
    "SerialNumbers",
    "ShortText",
    "Sku",
    "SystemName",
    "Text",
    "UnitOfMeasure",
    "parse_decimal",
]

MAX_INTEGER_DIGITS: Final = 15
"""Digits allowed before the decimal point (up to 999 trillion)."""

MAX_DECIMAL_PLACES: Final = 6
"""Digits allowed after the decimal point (enough for unit prices and kilogram quantities)."""

_PLAIN_DECIMAL = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_NON_FINITE_WORDS: Final = frozenset({"nan", "snan", "inf", "infinity"})
_INTEGER_LIMIT: Final = 10**MAX_INTEGER_DIGITS - 1
_FRACTION = rf"(\.[0-9]{{1,{MAX_DECIMAL_PLACES}}})?"
_WHOLE = rf"[0-9]{{1,{MAX_INTEGER_DIGITS}}}"
_DECIMAL_HELP = (
    "Decimal number as a JSON string in plain notation (e.g. \"120.00\") or a JSON integer; "
    f"floats are not accepted. At most {MAX_INTEGER_DIGITS} digits before and "
    f"{MAX_DECIMAL_PLACES} after the decimal point."
)


def parse_decimal(value: Any) -> Decimal:
    """Turn a producer's value into a finite Decimal, or raise a validation error saying why.

    Accepts ``Decimal``, ``int`` and numeric strings in plain notation (``"120.00"``, ``"-3"``).
    Rejects booleans, floats, empty/whitespace strings, other strings, NaN and infinities, and
    values beyond the precision limits. A ``Decimal`` with a positive exponent (``1E+2``) is
    rescaled to plain notation (``100``) so that it serializes without an exponent, and a
    negative zero becomes zero.
    """
    if isinstance(value, bool):
        raise PydanticCustomError(
            "decimal_type",
            "must be a decimal number given as a string (e.g. '120.00') or an integer, "
            "not a boolean",
        )
    if isinstance(value, float):
        raise PydanticCustomError(
            "decimal_float",
            "floats are not accepted for decimal values because they are lossy; send a string "
            "such as '120.00' or an integer",
        )
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise PydanticCustomError(
                "decimal_empty", "must be a decimal number such as '120.00', not an empty string"
            )
        if text.lstrip("+-").lower() in _NON_FINITE_WORDS:
            raise PydanticCustomError(
                "finite_number", "must be a finite number, not NaN or infinity"
            )
        if not _PLAIN_DECIMAL.fullmatch(text):
            raise PydanticCustomError(
                "decimal_parsing",
                "must be a decimal number such as '120.00' (digits, an optional sign and an "
                "optional decimal point), got '{text}'",
                {"text": text[:40]},
            )
        number = Decimal(text)
    else:
        raise PydanticCustomError(
            "decimal_type",
            "must be a decimal number given as a string (e.g. '120.00') or an integer",
        )
    if not number.is_finite():
        raise PydanticCustomError("finite_number", "must be a finite number, not NaN or infinity")
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # finite decimals have an integer exponent
    whole_digits = max(0, number.adjusted() + 1)
    if whole_digits > MAX_INTEGER_DIGITS:
        raise PydanticCustomError(
            "decimal_whole_digits",
            "must have at most {max_whole_digits} digits before the decimal point",
            {"max_whole_digits": MAX_INTEGER_DIGITS},
        )
    if -exponent > MAX_DECIMAL_PLACES:
        raise PydanticCustomError(
            "decimal_max_places",
            "must have at most {max_places} decimal places",
            {"max_places": MAX_DECIMAL_PLACES},
        )
    if exponent > 0:
        number = number.quantize(Decimal(1))
    if number.is_zero() and number.is_signed():
        number = number.copy_abs()
    return number


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise PydanticCustomError("greater_than", "must be greater than 0", {"gt": 0})
    return value


def _non_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise PydanticCustomError(
            "greater_than_equal", "must be greater than or equal to 0", {"ge": 0}
        )
    return value


def _at_most_hundred(value: Decimal) -> Decimal:
    if value > 100:
        raise PydanticCustomError(
            "less_than_equal", "must be less than or equal to 100", {"le": 100}
        )
    return value


def _decimal_schema(pattern: str, minimum: int, description: str) -> WithJsonSchema:
    return WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "decimal", "pattern": pattern},
                {"type": "integer", "minimum": minimum, "maximum": _INTEGER_LIMIT},
            ],
            "description": f"{description} {_DECIMAL_HELP}",
        }
    )


_SIGNED = _decimal_schema(rf"^[+-]?{_WHOLE}{_FRACTION}$", -_INTEGER_LIMIT, "Signed decimal.")
_NON_NEGATIVE = _decimal_schema(rf"^\+?{_WHOLE}{_FRACTION}$", 0, "Decimal >= 0.")
_POSITIVE = _decimal_schema(
    rf"^\+?(?=[0-9.]*[1-9]){_WHOLE}{_FRACTION}$", 1, "Decimal > 0."
)

_StrictDecimal = Annotated[Decimal, BeforeValidator(parse_decimal)]

Amount = Annotated[_StrictDecimal, _SIGNED]
"""A signed money amount; its currency is the enclosing document's ``currency``."""

NonNegativeAmount = Annotated[_StrictDecimal, AfterValidator(_non_negative), _NON_NEGATIVE]
"""A money amount >= 0 (prices, totals)."""

PositiveAmount = Annotated[_StrictDecimal, AfterValidator(_positive), _POSITIVE]
"""A money amount > 0 (payments, refunds)."""

Quantity = Annotated[_StrictDecimal, _SIGNED]
"""A signed quantity (stock deltas); its unit is the sibling ``uom`` field."""

NonNegativeQuantity = Annotated[_StrictDecimal, AfterValidator(_non_negative), _NON_NEGATIVE]
"""A quantity >= 0 (on-hand stock, received quantities, forecasts)."""

PositiveQuantity = Annotated[_StrictDecimal, AfterValidator(_positive), _POSITIVE]
"""A quantity > 0 (order, shipment and purchase lines)."""

Percentage = Annotated[
    _StrictDecimal,
    AfterValidator(_non_negative),
    AfterValidator(_at_most_hundred),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "string",
                    "format": "decimal",
                    "pattern": rf"^\+?[0-9]{{1,3}}{_FRACTION}$",
                },
                {"type": "integer", "minimum": 0, "maximum": 100},
            ],
            "description": f"Percentage between 0 and 100. {_DECIMAL_HELP}",
        }
    ),
]
"""A percentage between 0 and 100 (tolerances, discounts)."""


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def _check_currency(value: str) -> str:
    if value not in CURRENCY_CODES:
        raise PydanticCustomError(
            "currency_code",
            "must be an active ISO 4217 currency code such as 'USD' or 'EUR', got '{code}'",
            {"code": value[:10]},
        )
    return value


def _check_country(value: str) -> str:
    if value not in COUNTRY_CODES:
        raise PydanticCustomError(
            "country_code",
            "must be an ISO 3166-1 alpha-2 country code such as 'US' or 'DE', got '{code}'",
            {"code": value[:10]},
        )
    return value


CurrencyCode = Annotated[
    str,
    BeforeValidator(_upper),
    AfterValidator(_check_currency),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[A-Z]{3}$",
            "description": "Active ISO 4217 alphabetic currency code (e.g. \"USD\").",
        }
    ),
]
"""ISO 4217 currency code, upper-cased (``"usd"`` is accepted as ``"USD"``)."""

CountryCode = Annotated[
    str,
    BeforeValidator(_upper),
    AfterValidator(_check_country),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[A-Z]{2}$",
            "description": "ISO 3166-1 alpha-2 country code (e.g. \"US\").",
        }
    ),
]
"""ISO 3166-1 alpha-2 country code, upper-cased."""

_NO_CONTROL_CHARS = r"^[^\x00-\x1f\x7f]+$"

ExternalRef = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=255, pattern=_NO_CONTROL_CHARS
    ),
]
"""An identifier in some system (order number, record id, ...): 1-255 printable characters."""

SystemName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$",
    ),
]
"""The name of a system or channel (``webshop``, ``odoo``, ``wms-east``): no spaces."""

Sku = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=128, pattern=_NO_CONTROL_CHARS
    ),
]
"""A stock-keeping unit code (the product's internal reference)."""

UnitOfMeasure = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=16,
        pattern=r"^[A-Za-z][A-Za-z0-9_.\-/]*$",
    ),
]
"""A short unit-of-measure code (``unit``, ``kg``, ``box12``)."""

LotNumber = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=128, pattern=_NO_CONTROL_CHARS
    ),
]
"""A lot or batch number."""

SerialNumber = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=128, pattern=_NO_CONTROL_CHARS
    ),
]
"""A serial number of one unit."""


def _unique_serials(serials: list[str]) -> list[str]:
    require_unique("SerialNumbers", serials, lambda serial: serial, None, "serial number")
    return serials


SerialNumbers = Annotated[list[SerialNumber], AfterValidator(_unique_serials)]
"""Serial numbers of the units of a line or movement, each at most once."""

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
"""A non-empty single-line label (names, descriptions of lines, codes)."""

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
"""A non-empty free text (notes)."""

Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
]
"""An e-mail address (syntax checked loosely: ``local@domain.tld``)."""

Phone = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=40, pattern=r"^[0-9+()./\- x]+$"
    ),
]
"""A phone number as written (digits, spaces and ``+()-./x``)."""


class Money(BaseModel):
    """An amount in a currency, for values that stand alone (not inside a one-currency document)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: Amount = Field(description="The amount, signed.")
    currency: CurrencyCode = Field(description="ISO 4217 currency code of the amount.")
