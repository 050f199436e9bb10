"""An ERP in memory: the ERP port implemented with dicts, for flow tests that run in milliseconds.

:class:`MemoryErp` keeps companies, customers, products, stock, sale orders, pickings, invoices and
purchase orders in plain Python structures and follows the rules the flows rely on, as the Odoo
connector does: every create is idempotent by its natural key (``customer_key``, ``order_key``,
``purchase_key``), batch operations answer per record, and a record the ERP refuses comes back as
the same typed error (:class:`~crossdock.connectors.odoo.errors.UnknownSkuError`, …). It models no
taxes, no pricelist rules (a product's price is its list price in every currency it supports), one
warehouse per company unless more are added, and reserves stock when a sale order is confirmed.

The Odoo contract suite proves the real connector; the flow tests built on this class prove the
flows' decisions without a server. Seed it with :meth:`MemoryErp.add_product` and
:meth:`MemoryErp.set_stock`; read back what the flows did from its attributes.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from crossdock.connectors.memory_landed_costs import MemoryLandedCosts
from crossdock.connectors.odoo.batching import BatchOutcome
from crossdock.connectors.odoo.change_records import SaleOrderChange, WantedLine
from crossdock.connectors.odoo.demand_records import DemandKind, DemandMove
from crossdock.connectors.odoo.errors import (
    ArchivedProductError,
    CurrencyUnsupportedError,
    OdooBusinessError,
    OdooMissingError,
    UnknownCustomerError,
    UnknownSkuError,
)
from crossdock.connectors.odoo.landed_cost_records import LandedCostRef, LandedCostRequest
from crossdock.connectors.odoo.payment_records import (
    OpenInvoice,
    PaymentRegistration,
    RegisteredPayment,
)
from crossdock.connectors.odoo.port import ErpPort
from crossdock.connectors.odoo.records import (
    BackorderPolicy,
    CompanyRef,
    InvoiceSummary,
    MoveInfo,
    PickingInfo,
    ProductInfo,
    ProductResolution,
    PurchaseRef,
    QuantSummary,
    SaleLineSummary,
    SaleOrderRef,
    SaleOrderSummary,
    StockSetting,
    TransferResult,
    customer_key,
    order_key,
    purchase_key,
)
from crossdock.connectors.odoo.replenishment_records import (
    PurchaseLineChange,
    ReorderRule,
    ReplenishmentInputs,
    StockPosition,
    SupplierTerm,
)
from crossdock.connectors.odoo.returns_records import (
    CreditNoteRef,
    ReturnDisposal,
    ReturnPickingRef,
)
from crossdock.model import (
    Customer,
    Invoice,
    InvoiceLine,
    Order,
    PurchaseOrder,
    Receipt,
    StockLevel,
)

__all__ = ["MemoryErp", "MemorySaleOrder"]

DEFAULT_COMPANY = 1
DEFAULT_WAREHOUSE = "WH"


@dataclass
class MemorySaleOrder:
    """A sale order as the in-memory ERP keeps it (quantities per SKU, in order)."""

    id: int
    name: str
    key: str
    company_id: int
    partner_id: int
    currency: str
    warehouse: str
    prices: dict[str, Decimal]
    quantities: dict[str, Decimal]
    state: str = "draft"
    delivered: dict[str, Decimal] = field(default_factory=dict)
    invoiced: dict[str, Decimal] = field(default_factory=dict)
    invoice_ids: list[int] = field(default_factory=list)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    commitment_date: date | None = None

    def ref(self) -> SaleOrderRef:
        return SaleOrderRef(
            self.id,
            self.name,
            self.key,
            self.state,
            self.company_id,
            self.partner_id,
            self.currency,
        )


@dataclass
class _Picking:
    id: int
    name: str
    order_id: int | None
    company_id: int
    warehouse: str
    demand: dict[str, Decimal]
    state: str = "confirmed"
    backorder_of: int | None = None
    done: dict[str, Decimal] = field(default_factory=dict)

    def info(self, ids: dict[str, int]) -> PickingInfo:
        moves = tuple(
            MoveInfo(
                self.id * 1000 + n,
                ids[sku],
                sku,
                qty,
                self.done.get(sku, qty if self.state == "assigned" else Decimal(0)),
                self.state,
            )
            for n, (sku, qty) in enumerate(self.demand.items())
        )
        return PickingInfo(
            self.id,
            self.name,
            self.state,
            "outgoing",
            self.order_id,
            self.backorder_of,
            self.company_id,
            moves,
        )


@dataclass
class MemoryReturnPicking:
    id: int
    name: str
    key: str
    delivery_id: int
    warehouse: str
    demand: dict[str, Decimal]
    state: str = "assigned"
    done: dict[str, Decimal] = field(default_factory=dict)

    def ref(self) -> ReturnPickingRef:
        return ReturnPickingRef(self.id, self.name, self.state, self.key, self.delivery_id)


@dataclass
class MemoryReturns:
    """What the in-memory ERP keeps of returns: return pickings and disposals and credit notes by
    RMA key, quantities quarantined (by location and SKU) and scrapped (by SKU)."""

    pickings: dict[str, MemoryReturnPicking] = field(default_factory=dict)
    disposals: dict[str, list[str]] = field(default_factory=dict)
    quarantined: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    scrapped: dict[str, Decimal] = field(default_factory=dict)
    credit_notes: dict[str, CreditNoteRef] = field(default_factory=dict)
    credited: dict[tuple[int, str], Decimal] = field(default_factory=dict)
    """Quantity credited by (invoice id, SKU)."""


@dataclass
class _Product:
    info: ProductInfo
    active: bool = True


class MemoryErp:
    """The ERP port in memory (see the module's docstring).

    ``customers_owned``: whether the ERP may create customers it does not know (false: another
    system owns them and unknown customers are refused, as the Odoo connector does).
    ``currencies``: the currencies that have a pricelist in every company."""

    def __init__(
        self,
        *,
        system: str = "odoo",
        customers_owned: bool = True,
        currencies: Iterable[str] = ("USD", "EUR"),
    ) -> None:
        self.system = system
        self.customers_owned = customers_owned
        self.companies: dict[str, int] = {"My Company": DEFAULT_COMPANY}
        self.warehouses: dict[int, list[str]] = {DEFAULT_COMPANY: [DEFAULT_WAREHOUSE]}
        self.pricelists: dict[str, int] = {c: n for n, c in enumerate(currencies, start=1)}
        self.customers: dict[tuple[int, str], int] = {}
        self.credits: dict[int, tuple[Decimal, Decimal]] = {}
        """``(credit, credit_limit)`` by partner id (a limit of 0: none)."""
        self.products: dict[str, _Product] = {}
        self.on_hand: dict[tuple[str, str], Decimal] = {}
        """Quantity on hand by (warehouse, SKU)."""
        self.reserved: dict[tuple[str, str], Decimal] = {}
        self.sale_orders: dict[int, MemorySaleOrder] = {}
        self.pickings: dict[int, _Picking] = {}
        self.invoices: dict[int, Invoice] = {}
        self.purchase_orders: dict[str, PurchaseRef] = {}
        self.returns = MemoryReturns()
        self.calls: dict[str, int] = {}
        """Calls by operation name (what a test asserts to prove a cache or a batch)."""
        self._ids = itertools.count(1)
        self.reorder_rules: dict[tuple[str, str], ReorderRule] = {}
        self.supplier_terms: list[SupplierTerm] = []
        self.incoming: dict[tuple[str, str], Decimal] = {}
        """Quantity expected in (open receipts) by (warehouse, SKU)."""
        self.purchase_line_changes: dict[int, list[PurchaseLineChange]] = {}
        """Changes written to purchase order lines, by order id."""
        self.payments: dict[str, RegisteredPayment] = {}
        self.categories: dict[str, str] = {}
        """Product categories by SKU (full names), for the return rules."""
        self.partner_names: dict[str, str] = {}
        self.payment_references: dict[int, str] = {}
        self.reverses: dict[int, str] = {}
        """Credit notes (by number) and the invoice (by name) each reverses."""
        """ERP payments by natural key (see the payments block)."""
        self.moves: list[tuple[datetime, DemandMove]] = []
        """Done moves (sales, returns, receipts) with when they were done (demand history)."""
        self.landed_costs = MemoryLandedCosts()
        """Landed-cost products, received orders and landed costs (see its module)."""

    # ------------------------------------------------------------------ seeding, for tests

    def add_product(
        self,
        sku: str,
        *,
        price: Decimal | str = "10",
        storable: bool = True,
        tracking: str = "none",
        active: bool = True,
    ) -> ProductInfo:
        """A product of ``sku`` (visible in every company)."""
        number = next(self._ids)
        info = ProductInfo(
            number, number, sku, f"Product {sku}", storable, tracking, Decimal(price), None
        )
        self.products[sku] = _Product(info, active)
        return info

    def sale_orders_of(self, order: Order) -> list[MemorySaleOrder]:
        """The sale orders made for ``order`` (its parts too, for a split order)."""
        key = order_key(order)
        return [so for so in self.sale_orders.values() if so.key.split("/")[0] == key]

    def _count(self, operation: str) -> None:
        self.calls[operation] = self.calls.get(operation, 0) + 1

    def _warehouse(self, company_id: int | None, code: str | None) -> str:
        codes = self.warehouses.get(company_id or DEFAULT_COMPANY, [])
        if code is None:
            if not codes:
                raise OdooBusinessError(f"company {company_id} has no warehouse")
            return codes[0]
        if code not in codes:
            raise OdooBusinessError(
                f"no warehouse {code!r} in company {company_id or DEFAULT_COMPANY}",
                model="stock.warehouse",
                record=f"code={code}",
            )
        return code

    def _available(self, warehouse: str, sku: str) -> Decimal:
        key = (warehouse, sku)
        return self.on_hand.get(key, Decimal(0)) - self.reserved.get(key, Decimal(0))

    # ------------------------------------------------------------------ customers, catalog

    async def resolve_company(self, company: CompanyRef | None) -> int:
        self._count("resolve_company")
        if company is None:
            return DEFAULT_COMPANY
        if isinstance(company, int):
            return company
        if company not in self.companies:
            raise OdooBusinessError(f"no company named {company!r}", model="res.company")
        return self.companies[company]

    async def find_or_create_customers(
        self, customers: Sequence[Customer], *, company_id: int | None = None
    ) -> BatchOutcome[str, int]:
        self._count("find_or_create_customers")
        company = company_id or DEFAULT_COMPANY
        outcome: BatchOutcome[str, int] = BatchOutcome()
        for customer in customers:
            key = customer_key(customer)
            if key in outcome.done or key in outcome.failed:
                continue
            if (company, key) in self.customers:
                outcome.done[key] = self.customers[(company, key)]
                outcome.existing.add(key)
            elif not self.customers_owned:
                outcome.failed[key] = UnknownCustomerError(
                    f"unknown customer {key}: another system owns customers",
                    model="res.partner",
                    record=key,
                )
            else:
                partner_id = next(self._ids)
                self.customers[(company, key)] = partner_id
                outcome.done[key] = partner_id
        return outcome

    async def resolve_products(
        self, skus: Sequence[str], *, company_id: int | None = None
    ) -> ProductResolution:
        self._count("resolve_products")
        result = ProductResolution()
        for sku in skus:
            product = self.products.get(sku)
            if product is None:
                result.errors[sku] = UnknownSkuError(
                    f"unknown SKU {sku!r} in company {company_id or DEFAULT_COMPANY}",
                    model="product.product",
                    record=f"sku={sku}",
                )
            elif not product.active:
                result.errors[sku] = ArchivedProductError(
                    f"product {sku!r} is archived", model="product.product", record=f"sku={sku}"
                )
            else:
                result.found[sku] = product.info
        return result

    async def customer_credits(
        self, partner_ids: Sequence[int], *, company_id: int | None = None
    ) -> dict[int, tuple[Decimal, Decimal]]:
        return {p: self.credits.get(p, (Decimal(0), Decimal(0))) for p in set(partner_ids)}

    def invalidate_products(self, skus: Iterable[str] | None = None) -> None:
        """Nothing is cached here."""

    def unavailable_for(self) -> float | None:
        return None

    async def prices(
        self,
        skus: Sequence[str],
        *,
        pricelist_id: int | None = None,
        quantity: Decimal = Decimal(1),
        company_id: int | None = None,
    ) -> dict[str, Decimal]:
        return {s: self.products[s].info.list_price for s in skus if s in self.products}

    async def currency_pricelists(
        self,
        currencies: Iterable[str],
        *,
        company_id: int,
        configured: Mapping[str, int] | None = None,
        preferred: Sequence[int] = (),
    ) -> BatchOutcome[str, int]:
        outcome: BatchOutcome[str, int] = BatchOutcome()
        for currency in dict.fromkeys(currencies):
            chosen = (configured or {}).get(currency) or self.pricelists.get(currency)
            if chosen is None:
                outcome.failed[currency] = CurrencyUnsupportedError(
                    f"no active pricelist in {currency}", currency=currency
                )
            else:
                outcome.done[currency] = chosen
        return outcome

    # ------------------------------------------------------------------ stock

    async def stock_levels(
        self, skus: Sequence[str], *, warehouse: str | None = None, company_id: int | None = None
    ) -> list[StockLevel]:
        self._count("stock_levels")
        code = self._warehouse(company_id, warehouse)
        levels = []
        for sku in skus:
            on_hand = self.on_hand.get((code, sku), Decimal(0))
            reserved = self.reserved.get((code, sku), Decimal(0))
            levels.append(
                StockLevel(
                    external_ref=f"{code}:{sku}",
                    source=self.system,
                    warehouse=code,
                    sku=sku,
                    on_hand=on_hand,
                    reserved=reserved,
                    available=on_hand - reserved,
                    as_of=datetime.now(UTC),
                )
            )
        return levels

    async def set_stock(
        self, settings: Sequence[StockSetting], *, company_id: int | None = None
    ) -> list[int]:
        ids = []
        for setting in settings:
            code = self._warehouse(company_id, setting.warehouse)
            self.on_hand[(code, setting.sku)] = setting.quantity
            ids.append(next(self._ids))
        return ids

    async def warehouse_quants(
        self, warehouse: str | None = None, *, company_id: int | None = None
    ) -> list[QuantSummary]:
        code = self._warehouse(company_id, warehouse)
        return [
            QuantSummary(
                n,
                code,
                0,
                f"{code}/Stock",
                True,
                sku,
                None,
                qty,
                Decimal(0),
                self.products[sku].info.list_price if sku in self.products else Decimal(0),
            )
            for n, ((wh, sku), qty) in enumerate(sorted(self.on_hand.items()), start=1)
            if wh == code
        ]

    # ------------------------------------------------------------------ sale orders

    async def find_sale_orders(self, keys: Sequence[str]) -> dict[str, SaleOrderRef]:
        self._count("find_sale_orders")
        wanted = set(keys)
        return {so.key: so.ref() for so in self.sale_orders.values() if so.key in wanted}

    async def create_sale_orders(
        self,
        orders: Sequence[Order],
        *,
        company_id: int | None = None,
        warehouses: Mapping[str, str] | None = None,
        pricelists: Mapping[str, int] | None = None,
    ) -> BatchOutcome[str, SaleOrderRef]:
        self._count("create_sale_orders")
        company = company_id or DEFAULT_COMPANY
        outcome: BatchOutcome[str, SaleOrderRef] = BatchOutcome()
        existing = await self.find_sale_orders([order_key(o) for o in orders])
        for order in orders:
            key = order_key(order)
            if key in existing:
                outcome.done[key] = existing[key]
                outcome.existing.add(key)
                continue
            partner = order.customer.refs.get(self.system)
            unknown = [line.sku for line in order.lines if line.sku not in self.products]
            if unknown:
                outcome.failed[key] = UnknownSkuError(
                    f"unknown SKU {unknown[0]!r} in company {company}", record=f"sale.order {key}"
                )
                continue
            if partner is None:
                found = await self.find_or_create_customers([order.customer], company_id=company)
                if not found.ok:
                    outcome.failed[key] = found.failed[customer_key(order.customer)]
                    continue
                partner_id = found.done[customer_key(order.customer)]
            else:
                partner_id = int(partner)
            try:
                warehouse = self._warehouse(company, (warehouses or {}).get(key))
            except OdooBusinessError as error:
                outcome.failed[key] = error
                continue
            number = next(self._ids)
            quantities: dict[str, Decimal] = {}
            prices: dict[str, Decimal] = {}
            for line in order.lines:
                quantities[line.sku] = quantities.get(line.sku, Decimal(0)) + line.quantity
                prices[line.sku] = line.unit_price
            so = MemorySaleOrder(
                number,
                f"S{number:05d}",
                key,
                company,
                partner_id,
                order.currency,
                warehouse,
                prices,
                quantities,
                commitment_date=order.requested_date,
            )
            self.sale_orders[number] = so
            outcome.done[key] = so.ref()
        return outcome

    async def confirm_sale_orders(self, order_ids: Sequence[int]) -> BatchOutcome[int, str]:
        """Confirm and make each order's delivery, reserving what is available."""
        self._count("confirm_sale_orders")
        outcome: BatchOutcome[int, str] = BatchOutcome()
        for order_id in order_ids:
            so = self.sale_orders.get(order_id)
            if so is None or so.state == "cancel":
                outcome.failed[order_id] = OdooBusinessError(
                    f"sale order {order_id} cannot be confirmed", model="sale.order"
                )
                continue
            if so.state == "draft":
                so.state = "sale"
                self._picking(so.id, so.company_id, so.warehouse, dict(so.quantities))
            else:
                outcome.existing.add(order_id)
            outcome.done[order_id] = so.state
        return outcome

    def _picking(
        self,
        order_id: int,
        company_id: int,
        warehouse: str,
        demand: dict[str, Decimal],
        backorder_of: int | None = None,
    ) -> _Picking:
        number = next(self._ids)
        picking = _Picking(
            number, f"{warehouse}/OUT/{number:05d}", order_id, company_id, warehouse, demand
        )
        picking.backorder_of = backorder_of
        storable = {s: q for s, q in demand.items() if self.products[s].info.storable}
        if all(self._available(warehouse, s) >= q for s, q in storable.items()):
            for sku, qty in storable.items():
                key = (warehouse, sku)
                self.reserved[key] = self.reserved.get(key, Decimal(0)) + qty
            picking.state = "assigned"
        self.pickings[number] = picking
        return picking

    async def cancel_sale_orders(self, order_ids: Sequence[int]) -> BatchOutcome[int, str]:
        outcome: BatchOutcome[int, str] = BatchOutcome()
        for order_id in order_ids:
            so = self.sale_orders.get(order_id)
            own = [p for p in self.pickings.values() if p.order_id == order_id]
            if so is None or any(p.state == "done" for p in own):
                outcome.failed[order_id] = OdooBusinessError(
                    f"sale order {order_id} has a done delivery", model="sale.order"
                )
                continue
            for picking in own:
                self._unreserve(picking)
                picking.state = "cancel"
            so.state = "cancel"
            outcome.done[order_id] = "cancel"
        return outcome

    def _unreserve(self, picking: _Picking) -> None:
        if picking.state != "assigned":
            return
        for sku, qty in picking.demand.items():
            key = (picking.warehouse, sku)
            if key in self.reserved:
                self.reserved[key] -= qty

    async def delivery_pickings(self, order_ids: Sequence[int]) -> list[PickingInfo]:
        self._count("delivery_pickings")
        wanted = set(order_ids)
        ids = {sku: p.info.id for sku, p in self.products.items()}
        return [p.info(ids) for p in self.pickings.values() if p.order_id in wanted]

    async def change_sale_order_lines(
        self, order_id: int, lines: Sequence[WantedLine]
    ) -> SaleOrderChange:
        """As Odoo: a cancelled order is refused, a removed line of a confirmed order stays at
        quantity 0, and the open delivery's demand follows (reserved again)."""
        self._count("change_sale_order_lines")
        so = self.sale_orders.get(order_id)
        if so is None:
            raise OdooMissingError(f"sale order {order_id} does not exist", model="sale.order")
        if so.state in ("cancel", "done"):
            why = "cancelled" if so.state == "cancel" else so.state
            raise OdooBusinessError(
                f"sale order {so.name} is {why}: its lines cannot change", model="sale.order"
            )
        wanted: dict[str, WantedLine] = {}
        for line in lines:
            known = wanted.get(line.sku)
            quantity = line.quantity + (known.quantity if known else Decimal(0))
            wanted[line.sku] = WantedLine(line.sku, quantity, line.unit_price, line.name)
        change = SaleOrderChange(order_id)
        for sku in [*so.quantities, *(s for s in wanted if s not in so.quantities)]:
            have = so.quantities.get(sku, Decimal(0))
            want = wanted[sku].quantity if sku in wanted else Decimal(0)
            if want == have:
                continue
            if want < so.delivered.get(sku, Decimal(0)):
                raise OdooBusinessError(
                    f"sale order {so.name}: {sku} cannot go below what was delivered",
                    model="sale.order.line",
                )
            if sku not in self.products or not self.products[sku].active:
                raise UnknownSkuError(f"unknown SKU {sku!r}", record=f"sale.order id={order_id}")
            if want == 0:
                change.removed[sku] = have
            elif have == 0:
                change.added[sku] = want
            else:
                change.changed[sku] = (have, want)
        for sku in change.removed:
            if so.state == "sale":
                so.quantities[sku] = Decimal(0)
            else:
                del so.quantities[sku]
        for sku, (_, want) in change.changed.items():
            so.quantities[sku] = want
        for sku, want in change.added.items():
            so.quantities[sku] = want
            price = wanted[sku].unit_price
            so.prices[sku] = price if price is not None else self.products[sku].info.list_price
        if so.state == "sale" and not change.empty:
            self._follow(so)
        return change

    def _follow(self, so: MemorySaleOrder) -> None:
        """The order's open delivery asks for what is ordered and not delivered."""
        own = [p for p in self.pickings.values() if p.order_id == so.id]
        open_ = [p for p in own if p.state not in ("done", "cancel")]
        for picking in open_[1:]:
            self._unreserve(picking)
            picking.state = "cancel"
        demand = {
            sku: qty - so.delivered.get(sku, Decimal(0))
            for sku, qty in so.quantities.items()
            if qty > so.delivered.get(sku, Decimal(0))
        }
        if open_:
            self._unreserve(open_[0])
            del self.pickings[open_[0].id]
        if demand:
            backorder_of = open_[0].backorder_of if open_ else None
            picking = self._picking(so.id, so.company_id, so.warehouse, demand, backorder_of)
            if open_:  # the same delivery, its demand changed
                del self.pickings[picking.id]
                picking.id, picking.name = open_[0].id, open_[0].name
                self.pickings[picking.id] = picking

    async def process_picking(
        self,
        picking_id: int,
        quantities: Mapping[str, Decimal],
        *,
        lots: Mapping[str, Sequence[tuple[str, Decimal]]] | None = None,
        backorder: BackorderPolicy | None = None,
    ) -> TransferResult:
        """Deliver ``quantities`` (absent SKUs: 0); the rest becomes a backorder or is cancelled."""
        self._count("process_picking")
        picking = self.pickings.get(picking_id)
        if picking is None:
            raise OdooBusinessError(f"no picking {picking_id}", model="stock.picking")
        backorders = tuple(p.id for p in self.pickings.values() if p.backorder_of == picking.id)
        if picking.state == "done":
            return TransferResult(picking.id, "done", backorders)
        if picking.state == "cancel":
            raise OdooBusinessError(f"picking {picking.name} is cancel", record=picking.name)
        unknown = set(quantities) - set(picking.demand)
        if unknown:
            raise OdooBusinessError(
                f"SKUs not in picking {picking.name}: {', '.join(sorted(unknown))}",
                record=picking.name,
            )
        self._unreserve(picking)
        so = self.sale_orders[picking.order_id] if picking.order_id else None
        rest: dict[str, Decimal] = {}
        for sku, demand in picking.demand.items():
            done = quantities.get(sku, Decimal(0))
            picking.done[sku] = done
            key = (picking.warehouse, sku)
            if self.products[sku].info.storable:
                self.on_hand[key] = self.on_hand.get(key, Decimal(0)) - done
            if so is not None:
                so.delivered[sku] = so.delivered.get(sku, Decimal(0)) + done
            if done > 0:
                self.add_move(picking.warehouse, sku, "sale", done)
            if done < demand:
                rest[sku] = demand - done
        picking.state = "done"
        made: tuple[int, ...] = ()
        if rest and (backorder or "create") == "create" and picking.order_id is not None:
            made = (
                self._picking(
                    picking.order_id, picking.company_id, picking.warehouse, rest, picking.id
                ).id,
            )
        return TransferResult(picking.id, "done", made)

    # ------------------------------------------------------------------ invoices

    async def invoice_delivered(
        self, order_ids: Sequence[int], *, post: bool = True
    ) -> list[Invoice]:
        """Invoice what was delivered and not yet invoiced; answer every invoice of the orders."""
        self._count("invoice_delivered")
        ids: list[int] = []
        for order_id in order_ids:
            so = self.sale_orders[order_id]
            due = {
                sku: q - so.invoiced.get(sku, Decimal(0))
                for sku, q in so.delivered.items()
                if q > so.invoiced.get(sku, Decimal(0))
            }
            if due:
                so.invoice_ids.append(self._invoice(so, due, post))
            ids.extend(so.invoice_ids)
        return [self.invoices[i] for i in dict.fromkeys(ids)]

    def _invoice(self, so: MemorySaleOrder, due: dict[str, Decimal], post: bool) -> int:
        number = next(self._ids)
        lines = [
            InvoiceLine(
                sku=sku,
                description=f"Product {sku}",
                quantity=qty,
                unit_price=so.prices[sku],
                subtotal=qty * so.prices[sku],
            )
            for sku, qty in due.items()
        ]
        subtotal = sum((line.subtotal or Decimal(0) for line in lines), Decimal(0))
        partner = next((k for (_, k), v in self.customers.items() if v == so.partner_id), "")
        self.invoices[number] = Invoice(
            external_ref=f"INV/{number:05d}" if post else f"draft-{number}",
            source=self.system,
            refs={self.system: str(number)},
            status="posted" if post else "draft",
            partner_ref=partner or f"{self.system}:{so.partner_id}",
            order_refs=[so.name],
            currency=so.currency,
            invoice_date=date.today(),
            lines=lines,
            subtotal=subtotal,
            tax_total=Decimal(0),
            total=subtotal,
            amount_due=subtotal,
        )
        for sku, qty in due.items():
            so.invoiced[sku] = so.invoiced.get(sku, Decimal(0)) + qty
        return number

    # ------------------------------------------------------------------ reconciliation reads

    async def list_sale_orders(
        self,
        *,
        ref_prefixes: Sequence[str] = (),
        refs: Sequence[str] = (),
        since: datetime | None = None,
    ) -> list[SaleOrderSummary]:
        found = []
        for so in self.sale_orders.values():
            if refs and so.key not in refs:
                continue
            if ref_prefixes and not any(so.key.startswith(p) for p in ref_prefixes):
                continue
            if since is not None and so.created_at < since:
                continue
            total = sum((so.prices[s] * q for s, q in so.quantities.items()), Decimal(0))
            found.append(
                SaleOrderSummary(
                    so.id,
                    so.name,
                    so.key,
                    so.state,
                    so.company_id,
                    so.currency,
                    total,
                    total,
                    so.created_at,
                )
            )
        return found

    async def sale_order_lines(
        self, order_ids: Sequence[int], *, scheduled: bool = False
    ) -> list[SaleLineSummary]:
        # Odoo's rule with every lead time 0: the delivery date, else the order's date.
        return [
            SaleLineSummary(
                so.id * 1000 + n,
                so.id,
                sku,
                qty,
                so.delivered.get(sku, Decimal(0)),
                so.invoiced.get(sku, Decimal(0)),
                so.prices[sku],
                Decimal(0),
                (so.commitment_date or so.created_at.date()) if scheduled else None,
            )
            for so in (self.sale_orders[i] for i in order_ids if i in self.sale_orders)
            for n, (sku, qty) in enumerate(so.quantities.items())
        ]

    async def sale_order_invoices(self, order_ids: Sequence[int]) -> list[InvoiceSummary]:
        out = []
        for order_id in order_ids:
            so = self.sale_orders.get(order_id)
            for invoice_id in so.invoice_ids if so else []:
                invoice = self.invoices[invoice_id]
                out.append(
                    InvoiceSummary(
                        invoice_id,
                        invoice.external_ref,
                        "posted" if invoice.status != "draft" else "draft",
                        "out_invoice",
                        invoice.currency,
                        invoice.subtotal or Decimal(0),
                        invoice.total or Decimal(0),
                        (order_id,),
                    )
                )
        return out

    # ------------------------------------------------------------------ purchasing

    async def create_purchase_orders(
        self, orders: Sequence[PurchaseOrder]
    ) -> BatchOutcome[str, PurchaseRef]:
        outcome: BatchOutcome[str, PurchaseRef] = BatchOutcome()
        for order in orders:
            key = purchase_key(order)
            if key in self.purchase_orders:
                outcome.existing.add(key)
            else:
                number = next(self._ids)
                self.purchase_orders[key] = PurchaseRef(
                    number, f"P{number:05d}", key, "draft", DEFAULT_COMPANY
                )
            outcome.done[key] = self.purchase_orders[key]
        return outcome

    async def confirm_purchase_orders(self, order_ids: Sequence[int]) -> None:
        for key, ref in list(self.purchase_orders.items()):
            if ref.id in order_ids and ref.state == "draft":
                self.purchase_orders[key] = PurchaseRef(
                    ref.id, ref.name, ref.origin, "purchase", ref.company_id
                )

    async def receive(
        self, order_id: int, receipt: Receipt, *, backorder: BackorderPolicy | None = None
    ) -> TransferResult:
        """Add the received quantities to the stock of the receipt's warehouse."""
        self.landed_costs.received.add(order_id)
        for line in receipt.lines:
            key = (receipt.warehouse, line.sku)
            self.on_hand[key] = self.on_hand.get(key, Decimal(0)) + line.quantity
        return TransferResult(next(self._ids), "done")

    async def receive_many(
        self,
        receipts: Sequence[tuple[int, Receipt]],
        *,
        backorder: BackorderPolicy | None = None,
        policies: Sequence[BackorderPolicy] | None = None,
    ) -> BatchOutcome[int, TransferResult]:
        """Each receipt as :meth:`receive`, in order; a failure is reported for its order."""
        outcome: BatchOutcome[int, TransferResult] = BatchOutcome()
        for index, (order_id, receipt) in enumerate(receipts):
            policy = policies[index] if policies is not None else backorder
            try:
                outcome.done[order_id] = await self.receive(order_id, receipt, backorder=policy)
            except OdooBusinessError as error:
                outcome.failed[order_id] = error
        return outcome

    async def create_vendor_bills(
        self, order_ids: Sequence[int], *, post: bool = False
    ) -> list[Invoice]:
        """Vendor bills are not modelled in memory: none is made."""
        return []

    # ------------------------------------------------------------------ returns

    async def product_categories(self, skus: Sequence[str]) -> dict[str, str]:
        self._count("product_categories")
        return {sku: self.categories[sku] for sku in skus if sku in self.categories}

    async def create_return_picking(
        self, key: str, delivery_id: int, quantities: Mapping[str, Decimal]
    ) -> ReturnPickingRef:
        self._count("create_return_picking")
        book = self.returns
        if key in book.pickings:
            return book.pickings[key].ref()
        delivery = self.pickings.get(delivery_id)
        if delivery is None or delivery.state != "done":
            raise OdooBusinessError(
                f"no done delivery {delivery_id} to return from", model="stock.picking"
            )
        for sku, qty in quantities.items():
            returned = sum(
                (
                    p.demand.get(sku, Decimal(0))
                    for p in book.pickings.values()
                    if p.delivery_id == delivery_id
                ),
                Decimal(0),
            )
            if qty + returned > delivery.done.get(sku, Decimal(0)):
                raise OdooBusinessError(
                    f"cannot return {qty} of {sku}: {delivery.done.get(sku, 0)} delivered by "
                    f"{delivery.name}, {returned} returned already",
                    record=delivery.name,
                )
        number = next(self._ids)
        picking = MemoryReturnPicking(
            number,
            f"{delivery.warehouse}/IN/{number:05d}",
            key,
            delivery_id,
            delivery.warehouse,
            dict(quantities),
        )
        book.pickings[key] = picking
        return picking.ref()

    def _return_picking(self, picking_id: int) -> MemoryReturnPicking:
        for picking in self.returns.pickings.values():
            if picking.id == picking_id:
                return picking
        raise OdooBusinessError(f"no return picking {picking_id}", model="stock.picking")

    async def receive_return(
        self, picking_id: int, quantities: Mapping[str, Decimal]
    ) -> TransferResult:
        self._count("receive_return")
        picking = self._return_picking(picking_id)
        if picking.state == "done":
            return TransferResult(picking.id, "done")
        unknown = set(quantities) - set(picking.demand)
        if unknown:
            raise OdooBusinessError(
                f"SKUs not in picking {picking.name}: {', '.join(sorted(unknown))}",
                record=picking.name,
            )
        delivery = self.pickings[picking.delivery_id]
        so = self.sale_orders.get(delivery.order_id) if delivery.order_id else None
        for sku, qty in quantities.items():
            picking.done[sku] = qty
            key = (picking.warehouse, sku)
            if self.products[sku].info.storable:
                self.on_hand[key] = self.on_hand.get(key, Decimal(0)) + qty
            if so is not None:  # a return to refund lowers the delivered quantity, as in Odoo
                so.delivered[sku] = so.delivered.get(sku, Decimal(0)) - qty
        picking.state = "done"
        return TransferResult(picking.id, "done")

    async def dispose_returned(
        self,
        key: str,
        picking_id: int,
        disposals: Sequence[ReturnDisposal],
        *,
        quarantine_location: str | None = None,
    ) -> list[str]:
        self._count("dispose_returned")
        book = self.returns
        if key in book.disposals:
            return book.disposals[key]
        picking = self._return_picking(picking_id)
        if picking.state != "done":
            raise OdooBusinessError(f"return {picking.name} is not received", record=picking.name)
        names: list[str] = []
        for n, disposal in enumerate(disposals, start=1):
            if disposal.disposition == "restock":
                continue
            if disposal.disposition == "quarantine" and not quarantine_location:
                raise OdooBusinessError("no quarantine location is configured")
            stock = (picking.warehouse, disposal.sku)
            self.on_hand[stock] = self.on_hand.get(stock, Decimal(0)) - disposal.quantity
            if disposal.disposition == "scrap":
                book.scrapped[disposal.sku] = (
                    book.scrapped.get(disposal.sku, Decimal(0)) + disposal.quantity
                )
                names.append(f"SP/{picking.id:05d}/{n}")
            else:
                where = (str(quarantine_location), disposal.sku)
                held = book.quarantined.get(where, Decimal(0))
                book.quarantined[where] = held + disposal.quantity
                names.append(f"{picking.warehouse}/INT/{picking.id:05d}/{n}")
        book.disposals[key] = names
        return names

    async def invoice_lines(self, invoice_ids: Sequence[int]) -> dict[int, dict[str, Decimal]]:
        out: dict[int, dict[str, Decimal]] = {}
        for invoice_id in invoice_ids:
            invoice = self.invoices.get(invoice_id)
            for line in invoice.lines if invoice else []:
                if line.sku:
                    per = out.setdefault(invoice_id, {})
                    per[line.sku] = per.get(line.sku, Decimal(0)) + line.quantity
        return out

    async def create_credit_note(
        self, key: str, invoice_id: int, quantities: Mapping[str, Decimal], *, post: bool = True
    ) -> CreditNoteRef:
        self._count("create_credit_note")
        book = self.returns
        if key in book.credit_notes:
            return book.credit_notes[key]
        invoice = self.invoices.get(invoice_id)
        if invoice is None or invoice.status == "draft":
            raise OdooBusinessError(f"no posted invoice {invoice_id}", model="account.move")
        lines = {line.sku: line for line in invoice.lines if line.sku}
        subtotal = Decimal(0)
        for sku, qty in quantities.items():
            line = lines.get(sku)
            credited = book.credited.get((invoice_id, sku), Decimal(0))
            if line is None or qty + credited > line.quantity:
                raise OdooBusinessError(
                    f"cannot credit {qty} of {sku} on {invoice.external_ref}",
                    record=invoice.external_ref,
                )
            subtotal += qty * line.unit_price
        for sku, qty in quantities.items():
            done = book.credited.get((invoice_id, sku), Decimal(0))
            book.credited[(invoice_id, sku)] = done + qty
        number = next(self._ids)
        note = CreditNoteRef(
            number,
            f"RINV/{number:05d}" if post else f"draft-{number}",
            "posted" if post else "draft",
            key,
            invoice_id,
            invoice.currency,
            subtotal,
            subtotal,
        )
        book.credit_notes[key] = note
        return note

    # ------------------------------------------------------------------ replenishment

    def add_reorder_rule(self, rule: ReorderRule) -> None:
        """A min/max rule (replacing the SKU's rule in that warehouse)."""
        self.reorder_rules[(rule.warehouse, rule.sku)] = rule

    def add_supplier_term(self, term: SupplierTerm) -> None:
        self.supplier_terms.append(term)

    async def replenishment_inputs(
        self,
        warehouses: Sequence[str | None],
        *,
        skus: Sequence[str] = (),
        company_id: int | None = None,
    ) -> ReplenishmentInputs:
        self._count("replenishment_inputs")
        codes = [self._warehouse(company_id, w) for w in (list(warehouses) or [None])]
        out = ReplenishmentInputs()
        out.rules = [r for (w, _), r in sorted(self.reorder_rules.items()) if w in codes]
        wanted = {r.sku for r in out.rules} | set(skus)
        out.unknown_skus = sorted(s for s in wanted if s not in self.products)
        known = sorted(wanted - set(out.unknown_skus))
        out.terms = [t for t in self.supplier_terms if t.sku in wanted]
        out.positions = [
            StockPosition(
                sku,
                code,
                self.on_hand.get((code, sku), Decimal(0)),
                self.reserved.get((code, sku), Decimal(0)),
                self.incoming.get((code, sku), Decimal(0)),
            )
            for code in codes
            for sku in known
        ]
        return out

    async def update_purchase_lines(
        self, order_id: int, changes: Sequence[PurchaseLineChange]
    ) -> None:
        self._count("update_purchase_lines")
        if not any(ref.id == order_id for ref in self.purchase_orders.values()):
            raise OdooBusinessError(f"no purchase order {order_id}", model="purchase.order")
        self.purchase_line_changes.setdefault(order_id, []).extend(changes)

    # ------------------------------------------------------------------ demand history

    def add_move(
        self,
        warehouse: str,
        sku: str,
        kind: DemandKind,
        quantity: Decimal,
        at: datetime | None = None,
    ) -> None:
        """A done move of ``quantity`` (now, unless ``at``)."""
        at = at or datetime.now(UTC)
        self.moves.append((at, DemandMove(warehouse, sku, at.date(), kind, quantity)))

    async def demand_history(
        self,
        warehouses: Sequence[str | None],
        *,
        since: datetime,
        until: datetime,
        company_id: int | None = None,
    ) -> list[DemandMove]:
        self._count("demand_history")
        codes = {self._warehouse(company_id, w) for w in (list(warehouses) or [None])}
        totals: dict[tuple[str, str, date, DemandKind], Decimal] = {}
        for at, move in self.moves:
            if since < at <= until and move.warehouse in codes:
                key = (move.warehouse, move.sku, move.day, move.kind)
                totals[key] = totals.get(key, Decimal(0)) + move.quantity
        return [DemandMove(w, s, d, k, q) for (w, s, d, k), q in sorted(totals.items())]

    # ------------------------------------------------------------------ payments

    def add_invoice(
        self,
        partner_ref: str,
        total: Decimal,
        *,
        currency: str = "EUR",
        kind: str = "invoice",
        due: date | None = None,
        partner_name: str | None = None,
        payment_reference: str | None = None,
    ) -> Invoice:
        """A posted invoice (or credit note) of ``total``, for payment tests."""
        number = next(self._ids)
        prefix = "RINV" if kind == "credit_note" else "INV"
        invoice = Invoice(
            external_ref=f"{prefix}/{number:05d}",
            source=self.system,
            refs={self.system: str(number)},
            kind="credit_note" if kind == "credit_note" else "invoice",
            partner_ref=partner_ref,
            currency=currency,
            invoice_date=date.today(),
            due_date=due,
            lines=[InvoiceLine(description="Goods", quantity=Decimal(1), unit_price=total)],
            total=total,
            amount_due=total,
        )
        self.invoices[number] = invoice
        self.partner_names[partner_ref] = partner_name or partner_ref
        if payment_reference:
            self.payment_references[number] = payment_reference
        return invoice

    def _open(self, number: int, invoice: Invoice) -> OpenInvoice:
        total = invoice.total or Decimal(0)
        due = invoice.amount_due if invoice.amount_due is not None else total
        state = "paid" if due <= 0 else "partial" if due < total else "not_paid"
        return OpenInvoice(
            id=number,
            name=invoice.external_ref,
            payment_reference=self.payment_references.get(number),
            move_type="out_refund" if invoice.kind == "credit_note" else "out_invoice",
            partner_id=hash(invoice.partner_ref) & 0xFFFF,
            partner_ref=invoice.partner_ref,
            partner_name=self.partner_names.get(invoice.partner_ref, invoice.partner_ref),
            currency=invoice.currency,
            amount_total=total,
            amount_residual=max(due, Decimal(0)),
            payment_state=state,
            due_date=invoice.due_date,
            reverses=self.reverses.get(number),
        )

    def _posted(self) -> list[OpenInvoice]:
        return [
            self._open(n, inv)
            for n, inv in self.invoices.items()
            if inv.status != "draft" and inv.direction == "customer"
        ]

    async def find_invoices(self, references: Sequence[str]) -> list[OpenInvoice]:
        self._count("find_invoices")
        wanted = set(references)
        return [
            i for i in self._posted() if i.name in wanted or (i.payment_reference or "") in wanted
        ]

    async def credit_notes_for(self, invoice_names: Sequence[str]) -> list[OpenInvoice]:
        self._count("credit_notes_for")
        wanted = set(invoice_names)
        return [
            i
            for i in self._posted()
            if i.move_type == "out_refund" and self.reverses.get(i.id) in wanted
        ]

    async def open_invoices(
        self,
        *,
        partners: Sequence[str] = (),
        currencies: Sequence[str] = (),
        due_before: date | None = None,
    ) -> list[OpenInvoice]:
        self._count("open_invoices")
        who, money = set(partners), set(currencies)
        return [
            i
            for i in self._posted()
            if not i.paid
            and i.move_type == "out_invoice"
            and (not who or i.partner_ref in who or i.partner_name in who)
            and (not money or i.currency in money)
            and (due_before is None or (i.due_date is not None and i.due_date < due_before))
        ]

    async def register_payments(
        self, registrations: Sequence[PaymentRegistration], *, journal: str | None = None
    ) -> BatchOutcome[str, RegisteredPayment]:
        self._count("register_payments")
        outcome: BatchOutcome[str, RegisteredPayment] = BatchOutcome()
        for reg in registrations:
            invoice = self.invoices.get(reg.invoice_id)
            if reg.key in self.payments:
                outcome.existing.add(reg.key)
                outcome.done[reg.key] = self.payments[reg.key]
                continue
            if invoice is None or invoice.status == "draft":
                outcome.failed[reg.key] = OdooBusinessError(
                    f"invoice {reg.invoice_id} is not posted", model="account.move"
                )
                continue
            if invoice.currency != reg.currency:
                outcome.failed[reg.key] = OdooBusinessError(
                    f"invoice {invoice.external_ref} is in {invoice.currency}, not {reg.currency}",
                    model="account.move",
                )
                continue
            due = invoice.amount_due if invoice.amount_due is not None else invoice.total
            if reg.full and reg.resumed and (due or Decimal(0)) <= 0:
                done = RegisteredPayment(reg.key, reg.invoice_id, None, reg.amount)
                outcome.existing.add(reg.key)
            else:
                done = RegisteredPayment(reg.key, reg.invoice_id, next(self._ids), reg.amount)
                left = (due or Decimal(0)) - reg.amount
                status = "paid" if left <= 0 else "partially_paid"
                self.invoices[reg.invoice_id] = invoice.model_copy(
                    update={"amount_due": left, "status": status}
                )
            self.payments[reg.key] = done
            outcome.done[reg.key] = done
        return outcome

    async def hold_credit(self, partner_refs: Sequence[str], limit: Decimal) -> list[str]:
        self._count("hold_credit")
        found = []
        for (_, key), partner_id in self.customers.items():
            if key in partner_refs:
                credit, _ = self.credits.get(partner_id, (Decimal(0), Decimal(0)))
                self.credits[partner_id] = (credit, limit)
                found.append(key)
        return found

    async def create_landed_costs(
        self, requests: Sequence[LandedCostRequest]
    ) -> BatchOutcome[str, LandedCostRef]:
        self._count("create_landed_costs")
        return self.landed_costs.create(requests)


if TYPE_CHECKING:
    _implements: ErpPort = MemoryErp()  # mypy proves the class is an ERP port
