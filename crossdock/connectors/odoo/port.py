"""The ERP port: what flows ask of the ERP, independent of Odoo's API.

Flows depend on :class:`ErpPort`; :class:`~crossdock.connectors.odoo.operations.OdooOperations`
implements it (and the sandbox serves the same API for tests and the demo);
:class:`~crossdock.connectors.memory.MemoryErp` implements it in memory for fast flow tests. The
port speaks in the values of :mod:`.records` and :mod:`.batching` only, never in the client's or
the operations' terms, so that a second implementation needs nothing of Odoo's API. Every create is
idempotent by a natural key and every batch operation answers per record
(:class:`~crossdock.connectors.odoo.batching.BatchOutcome`), so a flow can retry a whole batch
and park the bad records in its exceptions queue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from crossdock.connectors.odoo.batching import BatchOutcome
from crossdock.connectors.odoo.change_records import SaleOrderChange, WantedLine
from crossdock.connectors.odoo.demand_records import DemandMove
from crossdock.connectors.odoo.landed_cost_records import LandedCostRef, LandedCostRequest
from crossdock.connectors.odoo.payment_records import (
    OpenInvoice,
    PaymentRegistration,
    RegisteredPayment,
)
from crossdock.connectors.odoo.records import (
    BackorderPolicy,
    CompanyRef,
    InvoiceSummary,
    PickingInfo,
    ProductResolution,
    PurchaseRef,
    QuantSummary,
    SaleLineSummary,
    SaleOrderRef,
    SaleOrderSummary,
    StockSetting,
    TransferResult,
)
from crossdock.connectors.odoo.replenishment_records import (
    PurchaseLineChange,
    ReplenishmentInputs,
)
from crossdock.connectors.odoo.returns_records import (
    CreditNoteRef,
    ReturnDisposal,
    ReturnPickingRef,
)
from crossdock.model import Customer, Invoice, Order, PurchaseOrder, Receipt, StockLevel

__all__ = ["ErpPort"]


class ErpPort(Protocol):
    async def resolve_company(self, company: CompanyRef | None) -> int: ...

    async def find_or_create_customers(
        self, customers: Sequence[Customer], *, company_id: int | None = None
    ) -> BatchOutcome[str, int]: ...

    async def resolve_products(
        self, skus: Sequence[str], *, company_id: int | None = None
    ) -> ProductResolution: ...

    async def customer_credits(
        self, partner_ids: Sequence[int], *, company_id: int | None = None
    ) -> dict[int, tuple[Decimal, Decimal]]: ...

    def invalidate_products(self, skus: Iterable[str] | None = None) -> None: ...

    def unavailable_for(self) -> float | None:
        """Seconds until the ERP's circuit lets a call through again; None while it is closed."""
        ...

    async def prices(
        self,
        skus: Sequence[str],
        *,
        pricelist_id: int | None = None,
        quantity: Decimal = Decimal(1),
        company_id: int | None = None,
    ) -> dict[str, Decimal]: ...

    async def stock_levels(
        self, skus: Sequence[str], *, warehouse: str | None = None, company_id: int | None = None
    ) -> list[StockLevel]: ...

    async def set_stock(
        self, settings: Sequence[StockSetting], *, company_id: int | None = None
    ) -> list[int]: ...

    async def find_sale_orders(self, keys: Sequence[str]) -> dict[str, SaleOrderRef]: ...

    async def create_sale_orders(
        self,
        orders: Sequence[Order],
        *,
        company_id: int | None = None,
        warehouses: Mapping[str, str] | None = None,
        pricelists: Mapping[str, int] | None = None,
    ) -> BatchOutcome[str, SaleOrderRef]: ...

    async def currency_pricelists(
        self,
        currencies: Iterable[str],
        *,
        company_id: int,
        configured: Mapping[str, int] | None = None,
        preferred: Sequence[int] = (),
    ) -> BatchOutcome[str, int]:
        """The ERP pricelist of each currency; those without one are in ``failed``."""
        ...

    async def confirm_sale_orders(self, order_ids: Sequence[int]) -> BatchOutcome[int, str]: ...

    async def cancel_sale_orders(self, order_ids: Sequence[int]) -> BatchOutcome[int, str]: ...

    async def delivery_pickings(self, order_ids: Sequence[int]) -> list[PickingInfo]: ...

    async def change_sale_order_lines(
        self, order_id: int, lines: Sequence[WantedLine]
    ) -> SaleOrderChange:
        """Give a sale order these lines (quantities changed, lines added, lines removed), in
        one write; its open delivery follows. Only the differences are written (asked twice, it
        changes once). A cancelled or locked order, or a quantity below what was delivered, is
        refused with an ``OdooBusinessError`` naming the order."""
        ...

    async def process_picking(
        self,
        picking_id: int,
        quantities: Mapping[str, Decimal],
        *,
        lots: Mapping[str, Sequence[tuple[str, Decimal]]] | None = None,
        backorder: BackorderPolicy | None = None,
    ) -> TransferResult: ...

    async def invoice_delivered(
        self, order_ids: Sequence[int], *, post: bool = True
    ) -> list[Invoice]: ...

    # reads for reconciliation (crossdock.connectors.odoo.ops_reconcile)

    async def list_sale_orders(
        self,
        *,
        ref_prefixes: Sequence[str] = (),
        refs: Sequence[str] = (),
        since: datetime | None = None,
    ) -> list[SaleOrderSummary]: ...

    async def sale_order_lines(
        self, order_ids: Sequence[int], *, scheduled: bool = False
    ) -> list[SaleLineSummary]:
        """The product lines of sale orders; with `scheduled`, each with the delivery date Odoo
        promises it."""
        ...

    async def sale_order_invoices(self, order_ids: Sequence[int]) -> list[InvoiceSummary]: ...

    async def warehouse_quants(
        self, warehouse: str | None = None, *, company_id: int | None = None
    ) -> list[QuantSummary]: ...

    async def create_purchase_orders(
        self, orders: Sequence[PurchaseOrder]
    ) -> BatchOutcome[str, PurchaseRef]: ...

    async def confirm_purchase_orders(self, order_ids: Sequence[int]) -> None: ...

    async def receive(
        self, order_id: int, receipt: Receipt, *, backorder: BackorderPolicy | None = None
    ) -> TransferResult: ...

    async def receive_many(
        self,
        receipts: Sequence[tuple[int, Receipt]],
        *,
        backorder: BackorderPolicy | None = None,
        policies: Sequence[BackorderPolicy] | None = None,
    ) -> BatchOutcome[int, TransferResult]:
        """Receipts against many purchase orders (by id), validated together; ``policies``: the
        backorder policy of each receipt, in order (else ``backorder``). Failures per order."""
        ...

    async def create_vendor_bills(
        self, order_ids: Sequence[int], *, post: bool = False
    ) -> list[Invoice]: ...

    # returns (crossdock.connectors.odoo.ops_returns): each create is keyed by the RMA number

    async def product_categories(self, skus: Sequence[str]) -> dict[str, str]:
        """The full name of each known SKU's product category (``All / Saleable``); a product
        without one (Odoo 19 sets none by default) is not in the answer."""
        ...

    async def create_return_picking(
        self, key: str, delivery_id: int, quantities: Mapping[str, Decimal]
    ) -> ReturnPickingRef:
        """The return picking of ``quantities`` (by SKU) from the done delivery ``delivery_id``,
        made once per ``key``: asked again, the same picking is answered."""
        ...

    async def receive_return(
        self, picking_id: int, quantities: Mapping[str, Decimal]
    ) -> TransferResult:
        """Validate the return picking with the quantities received (absent SKUs: none came);
        nothing is left open. A picking already done answers as it is."""
        ...

    async def dispose_returned(
        self,
        key: str,
        picking_id: int,
        disposals: Sequence[ReturnDisposal],
        *,
        quarantine_location: str | None = None,
    ) -> list[str]:
        """Move returned goods out of stock per line: quarantine to ``quarantine_location``
        (its full name), scrap through a scrap order; restock leaves them where the return put
        them. Once per ``key``; answers the names of the documents made."""
        ...

    async def invoice_lines(self, invoice_ids: Sequence[int]) -> dict[int, dict[str, Decimal]]:
        """The quantity each customer invoice bills, by invoice and SKU."""
        ...

    async def create_credit_note(
        self, key: str, invoice_id: int, quantities: Mapping[str, Decimal], *, post: bool = True
    ) -> CreditNoteRef:
        """A credit note reversing ``invoice_id`` for ``quantities`` (by SKU) only, made once per
        ``key`` and posted."""
        ...

    # procurement (crossdock.connectors.odoo.ops_replenishment)

    async def replenishment_inputs(
        self,
        warehouses: Sequence[str | None],
        *,
        skus: Sequence[str] = (),
        company_id: int | None = None,
    ) -> ReplenishmentInputs:
        """Reorder rules of ``warehouses`` (none: the company's first); suppliers and stock of
        their SKUs and of ``skus``, read in pages (never one call per SKU)."""
        ...

    async def update_purchase_lines(
        self, order_id: int, changes: Sequence[PurchaseLineChange]
    ) -> None:
        """Change quantities, prices, dates of a purchase order's lines (by SKU)."""
        ...

    # demand history (crossdock.connectors.odoo.ops_demand)

    async def demand_history(
        self,
        warehouses: Sequence[str | None],
        *,
        since: datetime,
        until: datetime,
        company_id: int | None = None,
    ) -> list[DemandMove]:
        """Done moves of ``warehouses`` (none: the company's first) after ``since`` up to
        ``until`` (sales, customer returns, supplier receipts), summed per warehouse, SKU, day and
        kind, read in pages (never one call per SKU)."""
        ...

    # payments (crossdock.connectors.odoo.ops_payments)

    async def find_invoices(self, references: Sequence[str]) -> list[OpenInvoice]:
        """Posted customer invoices and credit notes whose number or payment reference is one of
        ``references`` (paid ones too: a payment for a paid invoice is an overpayment)."""
        ...

    async def credit_notes_for(self, invoice_names: Sequence[str]) -> list[OpenInvoice]:
        """Posted credit notes reversing the invoices named (``reversed_entry_id``)."""
        ...

    async def open_invoices(
        self,
        *,
        partners: Sequence[str] = (),
        currencies: Sequence[str] = (),
        due_before: date | None = None,
    ) -> list[OpenInvoice]:
        """Posted customer invoices not fully paid, of the customers whose reference or name is
        in ``partners`` (every customer when empty), in ``currencies``, due before a date."""
        ...

    async def register_payments(
        self, registrations: Sequence[PaymentRegistration], *, journal: str | None = None
    ) -> BatchOutcome[str, RegisteredPayment]:
        """Register each payment against its invoice (``account.payment.register``), idempotent
        by its key; full payments of many invoices in one wizard."""
        ...

    async def hold_credit(self, partner_refs: Sequence[str], limit: Decimal) -> list[str]:
        """Set the credit limit of the customers (by reference); answers those found."""
        ...

    async def create_landed_costs(
        self, requests: Sequence[LandedCostRequest]
    ) -> BatchOutcome[str, LandedCostRef]:
        """A landed cost per request on its purchase order's validated receipts, computed and
        validated on request; idempotent by the request's key (see ``ops_landed_costs``)."""
        ...
