"""The values the Shopify port and its flow speak in: event names, subjects, and the small
records of fulfilments and inventory."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

__all__ = [
    "ORDER_RECEIVED",
    "REFUND_RECEIVED",
    "TOPICS",
    "FulfilmentLine",
    "InventoryChange",
    "InventoryOutcome",
    "RefundLine",
    "RefundMade",
    "ShopOptions",
    "order_subject_of",
]

ORDER_RECEIVED = "shopify.order_received"
"""A version of a Shopify order, received by webhook or by the pull, stored before it is worked."""

REFUND_RECEIVED = "shopify.refund_received"
"""A refund made in Shopify (``refunds/create``), stored before it is worked; its subject is its
order's, so it is worked after the order's earlier versions."""

TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "orders/edited",
    "refunds/create",
)
"""The webhook topics the channel takes (others are acknowledged and ignored)."""


def order_subject_of(system: str, shopify_id: str) -> str:
    return f"shopify:{system}:order:{shopify_id}"


@dataclass(frozen=True)
class ShopOptions:
    """What the flows need to know of a shop's configuration."""

    stock_channels: dict[str, str]
    """Location gid by inventory channel name."""
    pull_cron: str
    pull_overlap_s: float
    locations: dict[str, str] = field(default_factory=dict)
    """Warehouse code by mapped location gid."""


@dataclass(frozen=True, slots=True)
class FulfilmentLine:
    sku: str
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class RefundLine:
    """Units of a SKU refunded; ``restock`` of them went back to stock (restocked at the location
    that fulfilled them), the rest were not (scrapped, quarantined, or credited only)."""

    sku: str
    quantity: int
    restock: int = 0


@dataclass(frozen=True, slots=True)
class RefundMade:
    id: str
    """The refund's gid."""
    created: bool
    """False: an earlier attempt made it (found by its key)."""
    amount: Decimal


@dataclass(frozen=True, slots=True)
class InventoryChange:
    """The quantity to publish for one SKU at one mapped location."""

    sku: str
    location: str
    """The location gid."""
    quantity: int


@dataclass(frozen=True)
class InventoryOutcome:
    set: int
    """Quantities written."""
    reread: int
    """Compare-and-set conflicts: the quantity changed in Shopify; re-read and set again."""
    unknown: list[str]
    """SKUs with no inventory item in Shopify."""
    conflicts: dict[tuple[str, str], int] = field(default_factory=dict)
    """(SKU, location) changed in Shopify since last read: not written; the shop's quantity now
    (the caller decides again with it)."""
