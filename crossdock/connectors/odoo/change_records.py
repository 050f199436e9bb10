"""Values of the ERP port's sale-order change: the lines an order should have, and what changing
an order to them did."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

__all__ = ["SaleOrderChange", "WantedLine"]


@dataclass(frozen=True, slots=True)
class WantedLine:
    """A line a sale order should have: one per SKU."""

    sku: str
    quantity: Decimal
    unit_price: Decimal | None = None
    """For an added line; None: the ERP's price (its pricelist)."""
    name: str | None = None


@dataclass(frozen=True, slots=True)
class SaleOrderChange:
    """What changed, by SKU: quantities (old, new), lines added and lines removed (with the
    quantity they had). Empty when the order had the wanted lines already."""

    order_id: int
    changed: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    added: dict[str, Decimal] = field(default_factory=dict)
    removed: dict[str, Decimal] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.changed or self.added or self.removed)
