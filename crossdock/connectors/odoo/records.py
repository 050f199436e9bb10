"""Small, immutable views of Odoo records that the operations return (ids and what flows need)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "MoveInfo",
    "PickingInfo",
    "ProductInfo",
    "PurchaseRef",
    "SaleOrderRef",
    "StockSetting",
    "TransferResult",
    "WarehouseInfo",
]


@dataclass(frozen=True)
class ProductInfo:
    id: int
    template_id: int
    sku: str
    name: str
    storable: bool
    tracking: str
    list_price: Decimal
    company_id: int | None


@dataclass(frozen=True)
class WarehouseInfo:
    id: int
    code: str
    company_id: int
    stock_location_id: int
    view_location_id: int


@dataclass(frozen=True)
class SaleOrderRef:
    id: int
    name: str
    client_order_ref: str
    state: str
    company_id: int
    partner_id: int
    currency: str = ""
    """ISO code of the sale order's ``currency_id`` (empty until read back from Odoo)."""


@dataclass(frozen=True)
class PurchaseRef:
    id: int
    name: str
    origin: str
    state: str
    company_id: int


@dataclass(frozen=True)
class MoveInfo:
    id: int
    product_id: int
    sku: str
    demand: Decimal
    quantity: Decimal
    state: str


@dataclass(frozen=True)
class PickingInfo:
    id: int
    name: str
    state: str
    picking_type_code: str
    order_id: int | None
    backorder_of: int | None
    company_id: int
    moves: tuple[MoveInfo, ...] = ()


@dataclass(frozen=True)
class TransferResult:
    """What validating a picking did: its final state and the backorders it left."""

    picking_id: int
    state: str
    backorder_ids: tuple[int, ...] = ()
    wizards: tuple[str, ...] = ()
    """Wizards answered on the way (``stock.backorder.confirmation``, ...)."""


@dataclass(frozen=True)
class StockSetting:
    """Set the counted quantity of a SKU at a location (a warehouse's stock when not given)."""

    sku: str
    quantity: Decimal
    warehouse: str | None = None
    location_id: int | None = None
    lot: str | None = None
