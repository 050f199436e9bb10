"""Procure-to-stock: purchase orders (EDI 850 out), supplier acknowledgements (855), advance ship
notices (856) and warehouse receipts."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field, field_validator, model_validator

from crossdock.model.base import CanonicalObject, ValueObject
from crossdock.model.party import Address
from crossdock.model.types import (
    CurrencyCode,
    ExternalRef,
    LotNumber,
    NonNegativeAmount,
    NonNegativeQuantity,
    Percentage,
    PositiveQuantity,
    SerialNumbers,
    ShortText,
    Sku,
    SystemName,
    Text,
    UnitOfMeasure,
)
from crossdock.model.validation import raise_field_error, require_unique

__all__ = [
    "AcknowledgementLine",
    "AdvanceShipNotice",
    "AdvanceShipNoticeLine",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "PurchaseOrderStatus",
    "Receipt",
    "ReceiptLine",
    "SupplierAcknowledgement",
]

PurchaseOrderStatus = Literal[
    "draft",
    "sent",
    "acknowledged",
    "partially_received",
    "received",
    "cancelled",
    "closed",
]
"""Lifecycle of a purchase order."""

LineNumber = ExternalRef
"""A line number within a document, as the partner numbers it (EDI `PO101`, `LIN01`)."""


class PurchaseOrderLine(ValueObject):
    """One SKU ordered from the supplier."""

    line_number: LineNumber | None = Field(
        default=None, description="Line number, unique within the purchase order."
    )
    sku: Sku = Field(description="Our SKU.")
    supplier_sku: ShortText | None = Field(default=None, description="The supplier's item code.")
    description: ShortText | None = Field(default=None, description="Line description.")
    quantity: PositiveQuantity = Field(description="Quantity ordered, in `uom`.")
    uom: UnitOfMeasure = Field(default="unit", description="Unit of `quantity`.")
    unit_price: NonNegativeAmount | None = Field(
        default=None, description="Agreed price per unit, in the order's currency."
    )
    expected_date: date | None = Field(default=None, description="Expected delivery date.")


class PurchaseOrder(CanonicalObject):
    """An order to a supplier, in one currency, for delivery to one of our warehouses."""

    SCHEMA_NAME: ClassVar[str] = "purchase_order"

    supplier_ref: ExternalRef = Field(description="External reference of the supplier.")
    status: PurchaseOrderStatus = Field(default="draft", description="Lifecycle status.")
    currency: CurrencyCode = Field(description="ISO 4217 currency of every amount.")
    order_date: date = Field(description="Date the order was placed.")
    expected_date: date | None = Field(default=None, description="Expected delivery date.")
    warehouse: ShortText = Field(description="Warehouse the goods are to be delivered to.")
    ship_to: Address | None = Field(default=None, description="Delivery address.")
    incoterm: str | None = Field(
        default=None, pattern=r"^[A-Z]{3}$", description="Incoterms rule (`EXW`, `FCA`, `DAP`)."
    )
    lines: list[PurchaseOrderLine] = Field(min_length=1, description="Ordered lines.")
    total: NonNegativeAmount | None = Field(default=None, description="Total before tax.")
    note: Text | None = Field(default=None, description="Note to the supplier.")

    @field_validator("lines")
    @classmethod
    def _unique_line_numbers(cls, lines: list[PurchaseOrderLine]) -> list[PurchaseOrderLine]:
        require_unique(
            "PurchaseOrderLine", lines, lambda line: line.line_number, "line_number", "line number"
        )
        return lines


AcknowledgementStatus = Literal["accepted", "changed", "rejected", "backordered"]


class AcknowledgementLine(ValueObject):
    """The supplier's answer for one purchase order line."""

    line_number: LineNumber | None = Field(
        default=None, description="Purchase order line answered."
    )
    sku: Sku = Field(description="Our SKU.")
    status: AcknowledgementStatus = Field(description="Accepted as is, changed, or rejected.")
    quantity: NonNegativeQuantity | None = Field(
        default=None, description="Quantity the supplier will deliver, if changed."
    )
    uom: UnitOfMeasure = Field(default="unit", description="Unit of `quantity`.")
    unit_price: NonNegativeAmount | None = Field(
        default=None, description="Price the supplier will charge, if changed."
    )
    expected_date: date | None = Field(
        default=None, description="Delivery date the supplier commits to."
    )


class SupplierAcknowledgement(CanonicalObject):
    """A supplier's acknowledgement of a purchase order (EDI 855), whole or line by line."""

    SCHEMA_NAME: ClassVar[str] = "supplier_acknowledgement"

    purchase_order_ref: ExternalRef = Field(description="Purchase order acknowledged.")
    supplier_ref: ExternalRef = Field(description="External reference of the supplier.")
    status: AcknowledgementStatus = Field(description="Overall answer.")
    acknowledged_at: AwareDatetime = Field(description="When the supplier acknowledged.")
    lines: list[AcknowledgementLine] = Field(
        default_factory=list, description="Per-line answers; empty when the answer is global."
    )
    note: Text | None = Field(default=None, description="Supplier's remarks.")


class AdvanceShipNoticeLine(ValueObject):
    """A quantity of one SKU announced by the supplier, with lots, serials and tolerances."""

    sku: Sku = Field(description="Our SKU.")
    supplier_sku: ShortText | None = Field(default=None, description="The supplier's item code.")
    quantity: PositiveQuantity = Field(description="Quantity shipped, in `uom`.")
    uom: UnitOfMeasure = Field(default="unit", description="Unit of `quantity`.")
    purchase_order_ref: ExternalRef | None = Field(
        default=None, description="Purchase order the goods were ordered on."
    )
    purchase_order_line: LineNumber | None = Field(
        default=None, description="Line number on that purchase order."
    )
    lot: LotNumber | None = Field(default=None, description="Lot shipped.")
    expiry_date: date | None = Field(default=None, description="Expiry date of the lot.")
    serials: SerialNumbers = Field(default_factory=list, description="Serial numbers shipped.")
    package_ref: ExternalRef | None = Field(
        default=None, description="Package or pallet identifier (SSCC)."
    )
    over_tolerance_percent: Percentage | None = Field(
        default=None, description="How much more than `quantity` may be received, in percent."
    )
    under_tolerance_percent: Percentage | None = Field(
        default=None, description="How much less than `quantity` may be received, in percent."
    )


class AdvanceShipNotice(CanonicalObject):
    """A supplier's notice of goods shipped to us (EDI 856)."""

    SCHEMA_NAME: ClassVar[str] = "advance_ship_notice"

    supplier_ref: ExternalRef = Field(description="External reference of the supplier.")
    status: Literal["open", "in_transit", "received", "cancelled"] = Field(
        default="open", description="Lifecycle status."
    )
    warehouse: ShortText = Field(description="Warehouse the goods are shipped to.")
    ship_date: date = Field(description="Day the goods were shipped.")
    expected_arrival: date | None = Field(default=None, description="Expected arrival date.")
    carrier: SystemName | None = Field(default=None, description="Carrier code.")
    tracking_number: ShortText | None = Field(default=None, description="Tracking number.")
    lines: list[AdvanceShipNoticeLine] = Field(min_length=1, description="Goods shipped.")

    @model_validator(mode="after")
    def _arrival_after_shipping(self) -> AdvanceShipNotice:
        if self.expected_arrival is not None and self.expected_arrival < self.ship_date:
            raise_field_error(
                type(self).__name__,
                ("expected_arrival",),
                "date_order",
                "must not be before ship_date",
                self.expected_arrival,
            )
        return self


class ReceiptLine(ValueObject):
    """A quantity of one SKU counted in at the warehouse."""

    sku: Sku = Field(description="SKU received.")
    quantity: NonNegativeQuantity = Field(
        description="Quantity received, in `uom` (0 when an announced line did not arrive)."
    )
    uom: UnitOfMeasure = Field(default="unit", description="Unit of `quantity`.")
    purchase_order_ref: ExternalRef | None = Field(
        default=None, description="Purchase order the goods were ordered on."
    )
    purchase_order_line: LineNumber | None = Field(
        default=None, description="Line number on that purchase order."
    )
    lot: LotNumber | None = Field(default=None, description="Lot received.")
    expiry_date: date | None = Field(default=None, description="Expiry date of the lot.")
    serials: SerialNumbers = Field(default_factory=list, description="Serial numbers received.")
    location: ShortText | None = Field(default=None, description="Put-away location.")
    condition: Literal["good", "damaged", "quarantine"] = Field(
        default="good", description="Condition of the goods received."
    )


class Receipt(CanonicalObject):
    """Goods received at a warehouse, against an advance ship notice or purchase order or not."""

    SCHEMA_NAME: ClassVar[str] = "receipt"

    warehouse: ShortText = Field(description="Warehouse that received the goods.")
    supplier_ref: ExternalRef | None = Field(
        default=None, description="External reference of the supplier."
    )
    advance_ship_notice_ref: ExternalRef | None = Field(
        default=None, description="Advance ship notice received against."
    )
    purchase_order_ref: ExternalRef | None = Field(
        default=None, description="Purchase order received against."
    )
    received_at: AwareDatetime = Field(description="When the goods were received.")
    lines: list[ReceiptLine] = Field(min_length=1, description="Goods received.")
    note: Text | None = Field(default=None, description="Receiving remarks.")
