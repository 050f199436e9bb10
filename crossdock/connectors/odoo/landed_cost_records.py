"""Values of landed costs at the ERP port (:mod:`.ops_landed_costs`, ``MemoryErp``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from crossdock.connectors.odoo.errors import OdooBusinessError

__all__ = [
    "LandedCharge",
    "LandedCostRef",
    "LandedCostRequest",
    "LandedCostsNotInstalled",
]


class LandedCostsNotInstalled(OdooBusinessError):
    """The ERP has no landed costs (Odoo's module ``stock_landed_costs`` is not installed)."""


@dataclass(frozen=True, slots=True)
class LandedCharge:
    """One cost line: the landed-cost product (by SKU), its label, amount and split method
    (``None``: the product's default split method, else ``equal``)."""

    product_sku: str
    label: str
    amount: Decimal
    split_method: str | None = None


@dataclass(frozen=True, slots=True)
class LandedCostRequest:
    """A landed cost on the validated receipts of purchase order ``order_id``.

    ``key`` is its natural key (kept as the landed cost's description): a request whose key
    exists already is answered with the existing landed cost, never made twice.
    """

    key: str
    order_id: int
    charges: tuple[LandedCharge, ...]
    date: date | None = None
    validate: bool = True
    on_vendor_bill: bool = False
    """Also bill the charges on the order's draft vendor bill (landed-cost lines, as Odoo's
    "Create Landed Costs" from a bill expects) and link the landed cost to it."""


@dataclass(frozen=True, slots=True)
class LandedCostRef:
    id: int
    name: str
    state: str
    """``draft``, ``done`` (posted) or ``cancel``."""
    amount_total: Decimal
    pickings: tuple[str, ...]
    """Names of the receipts it applies to."""
    vendor_bill_id: int | None = None
    """The vendor bill it is linked to (``vendor_bill_id``), if any."""
