"""Freight costs: what a carrier quotes or bills for a shipment, charge by charge."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from crossdock.model.base import CanonicalObject, ValueObject
from crossdock.model.types import (
    Amount,
    CurrencyCode,
    ExternalRef,
    NonNegativeAmount,
    ShortText,
    SystemName,
)
from crossdock.model.validation import raise_field_error

__all__ = ["FreightCharge", "FreightChargeKind", "FreightCost"]

FreightChargeKind = Literal[
    "base", "fuel", "accessorial", "surcharge", "insurance", "duty", "tax", "discount", "other"
]
"""Kind of a freight charge."""


class FreightCharge(ValueObject):
    """One charge of a freight cost; discounts are negative."""

    kind: FreightChargeKind = Field(description="Kind of charge.")
    code: ShortText | None = Field(default=None, description="The carrier's charge code.")
    description: ShortText | None = Field(default=None, description="Charge label.")
    amount: Amount = Field(description="Amount, in the freight cost's currency; signed.")


class FreightCost(CanonicalObject):
    """The cost of moving a shipment, quoted or billed by a carrier, in one currency.

    When `total` is given it must equal the sum of the charges.
    """

    SCHEMA_NAME: ClassVar[str] = "freight_cost"

    kind: Literal["quote", "estimate", "invoiced"] = Field(
        description="Quoted before booking, estimated at shipping, or billed by the carrier."
    )
    carrier: SystemName = Field(description="Carrier code.")
    service: ShortText | None = Field(default=None, description="Carrier service level.")
    shipment_ref: ExternalRef | None = Field(
        default=None, description="External reference of the shipment costed."
    )
    tracking_number: ShortText | None = Field(default=None, description="Tracking number.")
    carrier_invoice_ref: ExternalRef | None = Field(
        default=None, description="Carrier invoice the cost was billed on."
    )
    currency: CurrencyCode = Field(description="ISO 4217 currency of every amount.")
    charges: list[FreightCharge] = Field(min_length=1, description="Charges making up the cost.")
    total: Amount | None = Field(default=None, description="Total of the charges.")
    billed_weight_kg: NonNegativeAmount | None = Field(
        default=None, description="Weight the carrier billed (actual or dimensional), in kg."
    )
    cost_date: date | None = Field(default=None, description="Date of the quote or invoice.")

    @property
    def charges_total(self) -> Decimal:
        """Sum of the charges."""
        return sum((charge.amount for charge in self.charges), Decimal(0))

    @model_validator(mode="after")
    def _total_matches_charges(self) -> FreightCost:
        if self.total is not None and self.total != self.charges_total:
            raise_field_error(
                type(self).__name__,
                ("total",),
                "amount_mismatch",
                f"must equal {self.charges_total}, the sum of the charges",
                str(self.total),
            )
        return self
