"""Shipments: what left a warehouse, with which carrier, and what happened to it on the way."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field, HttpUrl

from crossdock.model.base import CanonicalObject, ValueObject
from crossdock.model.party import Address
from crossdock.model.types import (
    CountryCode,
    ExternalRef,
    LotNumber,
    NonNegativeAmount,
    PositiveQuantity,
    SerialNumbers,
    ShortText,
    Sku,
    SystemName,
    Text,
    UnitOfMeasure,
)

__all__ = [
    "MilestoneCode",
    "Package",
    "ProofOfDelivery",
    "Shipment",
    "ShipmentLine",
    "ShipmentMilestone",
    "ShipmentStatus",
]

ShipmentStatus = Literal[
    "planned",
    "ready",
    "shipped",
    "in_transit",
    "delivered",
    "exception",
    "returned",
    "cancelled",
]
"""Lifecycle of a shipment, from planned in the WMS to delivered (or returned)."""

MilestoneCode = Literal[
    "label_created",
    "picked_up",
    "in_transit",
    "out_for_delivery",
    "delivery_attempted",
    "available_for_pickup",
    "delivered",
    "exception",
    "returned_to_sender",
]
"""Normalized carrier tracking events; connectors map carrier-specific codes onto these."""


class ShipmentLine(ValueObject):
    """A quantity of one SKU in the shipment, with the lot or serial numbers shipped."""

    sku: Sku = Field(description="SKU shipped.")
    quantity: PositiveQuantity = Field(description="Quantity shipped, in `uom`.")
    uom: UnitOfMeasure = Field(default="unit", description="Unit of `quantity`.")
    lot: LotNumber | None = Field(default=None, description="Lot shipped.")
    serials: SerialNumbers = Field(default_factory=list, description="Serial numbers shipped.")
    order_line_ref: ExternalRef | None = Field(
        default=None, description="Order line this shipment line fulfils."
    )


class Package(ValueObject):
    """One parcel or pallet of a shipment."""

    package_ref: ExternalRef | None = Field(
        default=None, description="Package identifier (SSCC or WMS id)."
    )
    tracking_number: ShortText | None = Field(default=None, description="Carrier tracking number.")
    weight_kg: NonNegativeAmount | None = Field(default=None, description="Gross weight in kg.")


class ShipmentMilestone(ValueObject):
    """A tracking event reported by the carrier."""

    code: MilestoneCode = Field(description="Normalized event code.")
    occurred_at: AwareDatetime = Field(description="When the event happened (with time zone).")
    location: ShortText | None = Field(
        default=None, description="Where it happened, as the carrier reports it."
    )
    country: CountryCode | None = Field(default=None, description="Country where it happened.")
    description: ShortText | None = Field(
        default=None, description="The carrier's own description of the event."
    )
    carrier_code: ShortText | None = Field(
        default=None, description="The carrier's own event code, for reference."
    )


class ProofOfDelivery(ValueObject):
    """Evidence that the shipment was delivered."""

    delivered_at: AwareDatetime = Field(description="When the shipment was delivered.")
    signed_by: ShortText | None = Field(default=None, description="Name of the person who signed.")
    document_url: HttpUrl | None = Field(
        default=None, description="Link to the signature, photo or POD document."
    )
    note: Text | None = Field(default=None, description="Delivery note (left with neighbour ...).")


class Shipment(CanonicalObject):
    """A shipment of goods to a customer (or a return to a supplier), with carrier tracking."""

    SCHEMA_NAME: ClassVar[str] = "shipment"

    order_ref: ExternalRef | None = Field(
        default=None, description="External reference of the order this shipment fulfils."
    )
    warehouse: ShortText = Field(description="Warehouse code the goods left from.")
    status: ShipmentStatus = Field(default="planned", description="Lifecycle status.")
    ship_to: Address | None = Field(default=None, description="Delivery address.")
    lines: list[ShipmentLine] = Field(min_length=1, description="What was shipped.")
    carrier: SystemName | None = Field(
        default=None, description="Carrier code (e.g. `ups`, `dhl`, `dpd`)."
    )
    service: ShortText | None = Field(default=None, description="Carrier service level.")
    tracking_number: ShortText | None = Field(
        default=None, description="Master tracking number."
    )
    tracking_url: HttpUrl | None = Field(default=None, description="Public tracking page.")
    ship_date: date | None = Field(default=None, description="Day the goods left the warehouse.")
    shipped_at: AwareDatetime | None = Field(
        default=None, description="When the carrier took over, when known precisely."
    )
    estimated_delivery_date: date | None = Field(
        default=None, description="Delivery date announced by the carrier."
    )
    packages: list[Package] = Field(default_factory=list, description="Parcels or pallets.")
    milestones: list[ShipmentMilestone] = Field(
        default_factory=list, description="Tracking events, in the order received."
    )
    proof_of_delivery: ProofOfDelivery | None = Field(
        default=None, description="Proof of delivery, once delivered."
    )

    @property
    def latest_milestone(self) -> ShipmentMilestone | None:
        """The milestone with the latest ``occurred_at``, if any."""
        return max(self.milestones, key=lambda milestone: milestone.occurred_at, default=None)
