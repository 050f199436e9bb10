"""Stock: levels (a snapshot of what is on hand) and events (one signed movement each)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from crossdock.model.base import CanonicalObject
from crossdock.model.types import (
    ExternalRef,
    LotNumber,
    NonNegativeQuantity,
    Quantity,
    SerialNumbers,
    ShortText,
    Sku,
    UnitOfMeasure,
)

__all__ = ["StockEvent", "StockEventKind", "StockLevel"]

StockEventKind = Literal[
    "receipt",
    "pick",
    "shipment",
    "adjustment",
    "count",
    "transfer",
    "return",
    "scrap",
    "production",
    "consumption",
]
"""What caused a stock movement."""


class StockLevel(CanonicalObject):
    """Quantity of one SKU in one warehouse (optionally one location or lot) at a point in time."""

    SCHEMA_NAME: ClassVar[str] = "stock_level"

    warehouse: ShortText = Field(description="Warehouse code.")
    location: ShortText | None = Field(
        default=None, description="Location inside the warehouse; the whole warehouse when absent."
    )
    sku: Sku = Field(description="SKU counted.")
    lot: LotNumber | None = Field(default=None, description="Lot, when stock is kept per lot.")
    on_hand: NonNegativeQuantity = Field(description="Physical quantity on hand.")
    reserved: NonNegativeQuantity | None = Field(
        default=None, description="Part of `on_hand` reserved for orders."
    )
    available: Quantity | None = Field(
        default=None,
        description="Quantity free to promise as reported by the source; negative if oversold.",
    )
    incoming: NonNegativeQuantity | None = Field(
        default=None, description="Quantity expected in (open purchase orders, transfers)."
    )
    uom: UnitOfMeasure = Field(default="unit", description="Unit of all quantities.")
    as_of: AwareDatetime = Field(description="Time at which the quantities were true.")


class StockEvent(CanonicalObject):
    """One stock movement of one SKU at one warehouse location, with a signed quantity.

    `sequence` orders the events of one warehouse: a consumer applies them in that order and can
    detect gaps and duplicates.
    """

    SCHEMA_NAME: ClassVar[str] = "stock_event"

    warehouse: ShortText = Field(description="Warehouse code.")
    location: ShortText = Field(description="Location the quantity entered or left.")
    sku: Sku = Field(description="SKU moved.")
    kind: StockEventKind = Field(description="What caused the movement.")
    quantity: Quantity = Field(
        description="Signed change of the quantity at `location`: positive in, negative out."
    )
    uom: UnitOfMeasure = Field(default="unit", description="Unit of `quantity`.")
    occurred_at: AwareDatetime = Field(description="When the movement happened.")
    sequence: int = Field(ge=0, description="Per-warehouse sequence number, increasing.")
    lot: LotNumber | None = Field(default=None, description="Lot moved.")
    serials: SerialNumbers = Field(default_factory=list, description="Serial numbers moved.")
    expiry_date: date | None = Field(default=None, description="Expiry date of the lot.")
    counterpart_location: ShortText | None = Field(
        default=None, description="For transfers: the location on the other side."
    )
    reference: ExternalRef | None = Field(
        default=None,
        description="Document that caused the movement (order, receipt, shipment number).",
    )
    reason: ShortText | None = Field(default=None, description="Reason code for adjustments.")
