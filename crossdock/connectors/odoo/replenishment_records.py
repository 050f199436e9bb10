"""What the ERP says about replenishment: reorder rules, supplier terms and stock positions.

Values of the ERP port (:meth:`~crossdock.connectors.odoo.port.ErpPort.replenishment_inputs`),
independent of Odoo's API: Odoo's ``stock.warehouse.orderpoint`` becomes :class:`ReorderRule`,
``product.supplierinfo`` becomes :class:`SupplierTerm`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

__all__ = [
    "PurchaseLineChange",
    "ReorderRule",
    "ReplenishmentInputs",
    "StockPosition",
    "SupplierTerm",
]


@dataclass(frozen=True, slots=True)
class ReorderRule:
    """Min/max rule of one SKU in one warehouse; ``multiple`` rounds the quantity ordered."""

    sku: str
    warehouse: str
    min_qty: Decimal
    max_qty: Decimal
    multiple: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class SupplierTerm:
    """One supplier's terms for one SKU; the lowest ``sequence`` is the preferred supplier."""

    sku: str
    supplier_ref: str
    sequence: int
    min_qty: Decimal
    price: Decimal
    currency: str
    lead_days: int


@dataclass(frozen=True, slots=True)
class StockPosition:
    """On hand, reserved and incoming (open receipts) of one SKU in one warehouse."""

    sku: str
    warehouse: str
    on_hand: Decimal
    reserved: Decimal
    incoming: Decimal


@dataclass(slots=True)
class ReplenishmentInputs:
    rules: list[ReorderRule] = field(default_factory=list)
    terms: list[SupplierTerm] = field(default_factory=list)
    positions: list[StockPosition] = field(default_factory=list)
    unknown_skus: list[str] = field(default_factory=list)
    """SKUs asked for that the ERP does not know."""


@dataclass(frozen=True, slots=True)
class PurchaseLineChange:
    """A change to one line of a confirmed purchase order (what the supplier acknowledged);
    ``None`` leaves a value as it is, a quantity of 0 cancels what is still to come."""

    sku: str
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    expected_date: date | None = None
