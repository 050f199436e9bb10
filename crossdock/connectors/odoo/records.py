"""The values the ERP port speaks in: small, immutable views of ERP records (ids and what flows
need), the answers of its reads, and the few choices a caller passes. No client, no transport: the
port (:mod:`.port`) and any implementation of it (:mod:`crossdock.connectors.memory`) import these
and nothing else of the connector but :mod:`.batching` and :mod:`.errors`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from crossdock.connectors.odoo.errors import OdooBusinessError
from crossdock.model import Customer, Order, PurchaseOrder

__all__ = [
    "BackorderPolicy",
    "CompanyRef",
    "InvoiceSummary",
    "MoveInfo",
    "PickingInfo",
    "ProductInfo",
    "ProductResolution",
    "PurchaseRef",
    "QuantSummary",
    "SaleLineSummary",
    "SaleOrderRef",
    "SaleOrderSummary",
    "StockSetting",
    "TransferResult",
    "WarehouseInfo",
    "customer_key",
    "order_key",
    "purchase_key",
]

# the natural keys every create is idempotent by (written into the ERP, looked up first)


def customer_key(customer: Customer) -> str:
    return f"{customer.source}:{customer.external_ref}"


def order_key(order: Order) -> str:
    return f"{order.channel}:{order.external_ref}"


def purchase_key(order: PurchaseOrder) -> str:
    return f"{order.source}:{order.external_ref}"


BackorderPolicy = Literal["create", "cancel"]
CompanyRef = int | str
"""A company by id or by name (names are resolved once, at connection)."""


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


@dataclass
class ProductResolution:
    """Products found by SKU, and why the others could not be used."""

    found: dict[str, ProductInfo] = field(default_factory=dict)
    errors: dict[str, OdooBusinessError] = field(default_factory=dict)


@dataclass(frozen=True)
class SaleOrderSummary:
    id: int
    name: str
    client_order_ref: str
    state: str
    company_id: int
    currency: str
    amount_untaxed: Decimal
    amount_total: Decimal
    created_at: datetime


@dataclass(frozen=True)
class SaleLineSummary:
    id: int
    order_id: int
    sku: str
    quantity: Decimal
    delivered: Decimal
    invoiced: Decimal
    price_unit: Decimal
    discount: Decimal
    """Percent."""
    scheduled_date: date | None = None
    """The delivery date Odoo promises the line: its order's delivery (commitment) date, else the
    order's date plus the line's lead time; None when not read."""

    @property
    def net_unit_price(self) -> Decimal:
        return self.price_unit * (1 - self.discount / 100)


@dataclass(frozen=True)
class InvoiceSummary:
    id: int
    name: str
    state: str
    move_type: str
    currency: str
    amount_untaxed: Decimal
    amount_total: Decimal
    order_ids: tuple[int, ...]
    """The sale orders (of those asked about) the invoice bills."""

    @property
    def sign(self) -> int:
        return -1 if self.move_type == "out_refund" else 1


@dataclass(frozen=True)
class QuantSummary:
    id: int
    warehouse: str
    location_id: int
    location: str
    main_location: bool
    """The warehouse's stock location (where counts without a location are written)."""
    sku: str
    lot: str | None
    quantity: Decimal
    standard_price: Decimal
    list_price: Decimal
