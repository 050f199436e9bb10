"""Sales orders: the order a channel sends (web shop, EDI 850, B2B portal, CRM) and its lines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, ConfigDict, Field, field_validator, model_validator

from crossdock.model.base import CanonicalObject, ValueObject, schema_fields_optional
from crossdock.model.party import Address, Customer, OrderCustomer
from crossdock.model.types import (
    CurrencyCode,
    ExternalRef,
    NonNegativeAmount,
    PositiveQuantity,
    ShortText,
    Sku,
    SystemName,
    Text,
    UnitOfMeasure,
)
from crossdock.model.validation import require_unique

__all__ = ["Order", "OrderLine", "OrderStatus"]

OrderStatus = Literal[
    "pending",
    "on_hold",
    "confirmed",
    "partially_shipped",
    "shipped",
    "cancelled",
    "closed",
]
"""Lifecycle of an order: ``pending`` until the ERP has confirmed it."""


class OrderLine(ValueObject):
    """One ordered SKU: a positive quantity at a unit price in the order's currency."""

    line_ref: ExternalRef | None = Field(
        default=None, description="Line identifier in the source system (EDI line number)."
    )
    sku: Sku = Field(description="SKU ordered; unique within the order.")
    name: ShortText | None = Field(default=None, description="Line description as ordered.")
    quantity: PositiveQuantity = Field(description="Quantity ordered, in `uom`.")
    uom: UnitOfMeasure = Field(default="unit", description="Unit of measure of `quantity`.")
    unit_price: NonNegativeAmount = Field(description="Price per unit, before discount and tax.")
    discount_amount: NonNegativeAmount | None = Field(
        default=None, description="Total discount on the line."
    )
    tax_amount: NonNegativeAmount | None = Field(
        default=None, description="Total tax on the line, when the channel computed it."
    )

    @property
    def net_amount(self) -> Decimal:
        """``quantity * unit_price - discount_amount``, before tax (not rounded)."""
        return self.quantity * self.unit_price - (self.discount_amount or Decimal(0))


class Order(CanonicalObject):
    """A sales order as received from a channel, in one currency.

    `source` may be omitted and defaults to `channel`; the customer's `source` defaults to the
    order's. Each SKU appears on one line only.
    """

    SCHEMA_NAME: ClassVar[str] = "order"
    model_config = ConfigDict(json_schema_extra=schema_fields_optional("source"))

    channel: SystemName = Field(
        description="Sales channel the order was placed in (e.g. `webshop`, `edi`, `portal`).",
    )
    currency: CurrencyCode = Field(description="ISO 4217 currency of every amount in the order.")
    customer: OrderCustomer = Field(description="The ordering customer.")
    lines: list[OrderLine] = Field(min_length=1, description="Ordered lines, one per SKU.")
    status: OrderStatus = Field(default="pending", description="Lifecycle status.")
    ordered_at: AwareDatetime | None = Field(
        default=None, description="When the customer placed the order (with time zone)."
    )
    requested_date: date | None = Field(
        default=None, description="Delivery date the customer asked for."
    )
    customer_reference: ExternalRef | None = Field(
        default=None, description="The customer's own reference (their purchase order number)."
    )
    shipping_address: Address | None = Field(
        default=None, description="Delivery address; the customer's address when absent."
    )
    billing_address: Address | None = Field(
        default=None, description="Invoicing address; the customer's address when absent."
    )
    shipping_method: ShortText | None = Field(
        default=None, description="Shipping method or carrier service chosen by the customer."
    )
    shipping_amount: NonNegativeAmount | None = Field(
        default=None, description="Shipping charged to the customer, before tax."
    )
    discount_amount: NonNegativeAmount | None = Field(
        default=None, description="Order-level discount, in addition to line discounts."
    )
    tax_amount: NonNegativeAmount | None = Field(
        default=None, description="Total tax as computed by the channel."
    )
    total_amount: NonNegativeAmount | None = Field(
        default=None, description="Grand total as computed by the channel, tax included."
    )
    note: Text | None = Field(default=None, description="Customer note or instructions.")

    @model_validator(mode="before")
    @classmethod
    def _inherit_source(cls, data: Any) -> Any:
        """Default ``source`` to ``channel`` and the customer's ``source`` to the order's."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if data.get("source") is None and data.get("channel") is not None:
            data["source"] = data["channel"]
        customer = data.get("customer")
        if isinstance(customer, Customer) and not isinstance(customer, OrderCustomer):
            customer = customer.model_dump()
            data["customer"] = customer
        source = data.get("source")
        if isinstance(customer, dict) and customer.get("source") is None and source is not None:
            data["customer"] = {**customer, "source": source}
        return data

    @field_validator("lines")
    @classmethod
    def _one_line_per_sku(cls, lines: list[OrderLine]) -> list[OrderLine]:
        require_unique(
            "OrderLine", lines, lambda line: line.sku, "sku", "SKU", error_type="duplicate_sku"
        )
        return lines

    @property
    def delivery_address(self) -> Address | None:
        """Where the order goes: ``shipping_address``, else the customer's address."""
        return self.shipping_address or self.customer.address

    @property
    def lines_net_amount(self) -> Decimal:
        """Sum of the lines' net amounts (before order discount, shipping and tax)."""
        return sum((line.net_amount for line in self.lines), Decimal(0))
