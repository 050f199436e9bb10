"""Catalog: products and price-list entries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from crossdock.model.base import CanonicalObject
from crossdock.model.types import (
    CountryCode,
    CurrencyCode,
    Money,
    NonNegativeAmount,
    NonNegativeQuantity,
    ShortText,
    Sku,
    Text,
    UnitOfMeasure,
)
from crossdock.model.validation import raise_field_error

__all__ = ["PriceListEntry", "Product", "ProductTracking"]

ProductTracking = Literal["none", "lot", "serial"]
"""How units of a product are traced: not at all, by lot/batch, or one serial number per unit."""


class Product(CanonicalObject):
    """A sellable or purchasable product, identified across systems by its SKU."""

    SCHEMA_NAME: ClassVar[str] = "product"

    sku: Sku = Field(description="Stock-keeping unit code, unique per company.")
    name: ShortText = Field(description="Product name.")
    description: Text | None = Field(default=None, description="Long description.")
    uom: UnitOfMeasure = Field(default="unit", description="Unit in which the product is stocked.")
    barcode: str | None = Field(
        default=None,
        pattern=r"^[0-9A-Za-z\-]{1,48}$",
        description="Barcode (GTIN/EAN/UPC or other).",
    )
    category: ShortText | None = Field(default=None, description="Product category.")
    tracking: ProductTracking = Field(default="none", description="Lot/serial tracking.")
    active: bool = Field(default=True, description="False when the product is discontinued.")
    list_price: Money | None = Field(default=None, description="Public sales price per unit.")
    cost_price: Money | None = Field(default=None, description="Standard cost per unit.")
    weight_kg: NonNegativeAmount | None = Field(
        default=None, description="Gross weight of one unit in kilograms."
    )
    hs_code: str | None = Field(
        default=None,
        pattern=r"^[0-9]{6,10}$",
        description="Harmonized System customs tariff code (6-10 digits).",
    )
    country_of_origin: CountryCode | None = Field(
        default=None, description="ISO 3166-1 alpha-2 country of origin."
    )


class PriceListEntry(CanonicalObject):
    """The price of one SKU in one price list from a minimum quantity, optionally time-bound."""

    SCHEMA_NAME: ClassVar[str] = "price_list_entry"

    price_list: ShortText = Field(description="Name or code of the price list.")
    sku: Sku = Field(description="SKU the price applies to.")
    currency: CurrencyCode = Field(description="ISO 4217 currency of the price.")
    unit_price: NonNegativeAmount = Field(description="Price per unit of `uom`.")
    uom: UnitOfMeasure = Field(default="unit", description="Unit the price is quoted in.")
    min_quantity: NonNegativeQuantity = Field(
        default=Decimal(0), description="Smallest ordered quantity the price applies to."
    )
    valid_from: date | None = Field(default=None, description="First day the price applies.")
    valid_to: date | None = Field(default=None, description="Last day the price applies.")

    @model_validator(mode="after")
    def _validity_in_order(self) -> PriceListEntry:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise_field_error(
                type(self).__name__,
                ("valid_to",),
                "date_order",
                "must not be before valid_from",
                self.valid_to,
            )
        return self
