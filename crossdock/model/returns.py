"""Customer returns (RMA): authorization, receipt, inspection, disposition and refund."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field, field_validator

from crossdock.model.base import CanonicalObject, ValueObject
from crossdock.model.types import (
    ExternalRef,
    LotNumber,
    Money,
    NonNegativeQuantity,
    PositiveQuantity,
    SerialNumbers,
    ShortText,
    Sku,
    SystemName,
    Text,
    UnitOfMeasure,
)
from crossdock.model.validation import raise_field_error

__all__ = [
    "Refund",
    "Return",
    "ReturnCondition",
    "ReturnDisposition",
    "ReturnInspection",
    "ReturnLine",
    "ReturnStatus",
]

ReturnStatus = Literal[
    "requested",
    "authorized",
    "rejected",
    "in_transit",
    "received",
    "inspected",
    "refunded",
    "closed",
    "cancelled",
]
"""Lifecycle of a return, from the customer's request to the refund."""

ReturnCondition = Literal["new", "opened", "used", "damaged", "defective", "missing_parts"]
"""Condition of returned goods found at inspection."""

ReturnDisposition = Literal["restock", "refurbish", "return_to_vendor", "scrap", "quarantine"]
"""What the warehouse does with returned goods."""


class ReturnInspection(ValueObject):
    """The warehouse's inspection of a returned line."""

    inspected_at: AwareDatetime = Field(description="When the goods were inspected.")
    condition: ReturnCondition = Field(description="Condition found.")
    disposition: ReturnDisposition = Field(description="What happens to the goods.")
    accepted_quantity: NonNegativeQuantity = Field(
        description="Quantity accepted for refund or replacement."
    )
    note: Text | None = Field(default=None, description="Inspector's remarks.")


class ReturnLine(ValueObject):
    """A quantity of one SKU the customer sends back, and what became of it."""

    sku: Sku = Field(description="SKU returned.")
    quantity: PositiveQuantity = Field(description="Quantity announced by the customer.")
    uom: UnitOfMeasure = Field(default="unit", description="Unit of all quantities of the line.")
    reason: ShortText | None = Field(
        default=None, description="Return reason code (`wrong_item`, `damaged`, ...)."
    )
    order_line_ref: ExternalRef | None = Field(
        default=None, description="Order line the goods were sold on."
    )
    lot: LotNumber | None = Field(default=None, description="Lot returned.")
    serials: SerialNumbers = Field(default_factory=list, description="Serial numbers returned.")
    received_quantity: NonNegativeQuantity | None = Field(
        default=None, description="Quantity actually received at the warehouse."
    )
    inspection: ReturnInspection | None = Field(default=None, description="Inspection result.")


class Refund(ValueObject):
    """Money given back to the customer for a return."""

    amount: Money = Field(description="Amount refunded and its currency.")
    method: ShortText | None = Field(
        default=None, description="How (`original_payment`, `store_credit`, `bank_transfer`)."
    )
    status: Literal["pending", "completed", "failed"] = Field(
        default="pending", description="Refund status."
    )
    refunded_at: AwareDatetime | None = Field(default=None, description="When it was paid out.")
    credit_note_ref: ExternalRef | None = Field(
        default=None, description="Credit note issued for the refund."
    )
    payment_ref: ExternalRef | None = Field(
        default=None, description="Payment or provider transaction of the refund."
    )

    @field_validator("amount")
    @classmethod
    def _positive(cls, amount: Money) -> Money:
        if amount.amount <= 0:
            raise_field_error(
                "Refund", ("amount",), "greater_than", "must be greater than 0", str(amount.amount)
            )
        return amount


class Return(CanonicalObject):
    """A customer return (RMA); `external_ref` is the return authorization number."""

    SCHEMA_NAME: ClassVar[str] = "return"

    status: ReturnStatus = Field(default="requested", description="Lifecycle status.")
    order_ref: ExternalRef | None = Field(
        default=None, description="External reference of the order the goods were bought on."
    )
    customer_ref: ExternalRef | None = Field(
        default=None, description="External reference of the returning customer."
    )
    requested_at: AwareDatetime = Field(description="When the customer asked for the return.")
    warehouse: ShortText | None = Field(
        default=None, description="Warehouse the goods are returned to."
    )
    carrier: SystemName | None = Field(default=None, description="Carrier of the return parcel.")
    tracking_number: ShortText | None = Field(
        default=None, description="Tracking number of the return parcel."
    )
    received_at: AwareDatetime | None = Field(
        default=None, description="When the goods arrived at the warehouse."
    )
    lines: list[ReturnLine] = Field(min_length=1, description="Goods returned.")
    refund: Refund | None = Field(default=None, description="Refund, once decided.")
    note: Text | None = Field(default=None, description="Customer or agent note.")
