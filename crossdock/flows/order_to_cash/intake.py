"""Steps 1-6 of order-to-cash for a batch of orders: customer, products, pricelist, price,
credit, fulfilment, sale orders created and confirmed in the ERP, deliveries released.

The order's currency decides its pricelist (its channel's ``pricelists`` entry, else the ERP's
pricelist of that currency), and so the sale order's currency; an order whose currency has no
pricelist is parked as ``currency_unsupported``, never made in another currency.

Each step is one ERP call for the whole batch (per company where the ERP needs one): customers in
one find-or-create, SKUs in one resolution, credit in one read, stock in one read per warehouse,
sale orders in one create, one confirmation, one read of the pickings. An order that a step cannot
take further is parked in the exceptions queue and leaves the batch; the others go on.

Idempotent: sale orders are looked up by their natural keys (``client_order_ref``, also of the
parts of a split order) before anything is decided, so an order whose sale orders were made
before a crash is confirmed and released with those, never made twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from decimal import Decimal
from typing import Any

import structlog

from crossdock.connectors.odoo.port import ErpPort
from crossdock.connectors.odoo.records import (
    PickingInfo,
    ProductResolution,
    SaleOrderRef,
    customer_key,
    order_key,
)
from crossdock.flows.exceptions import listing
from crossdock.flows.order_to_cash import events as ev
from crossdock.flows.order_to_cash import exception_kinds as kinds
from crossdock.flows.order_to_cash.settings import FlowSettings
from crossdock.flows.order_to_cash.work import Recorder, Work, money
from crossdock.model import Order
from crossdock.policy import (
    CreditRequest,
    FulfilmentPlan,
    FulfilmentRequest,
    credit_decisions,
    plan_orders,
    unit_prices,
)
from crossdock.policy.routing import CompanyRef

log = structlog.get_logger(__name__)

Prices = dict[str, Decimal]
# `Engine.guard`: keys held exclusively across every node around a look-up and its create
Guard = Callable[..., AbstractAsyncContextManager[None]]


def customer_guard(key: str) -> str:
    return f"customer:{key}"


def sale_order_guard(key: str) -> str:
    return f"sale_order:{key}"


def sale_order_entry(ref: SaleOrderRef, warehouse: str | None) -> dict[str, Any]:
    """How a sale order is kept in the projection's ERP references and in events."""
    return {
        "id": ref.id,
        "name": ref.name,
        "client_order_ref": ref.client_order_ref,
        "state": ref.state,
        "company_id": ref.company_id,
        "warehouse": warehouse or None,
        "currency": ref.currency or None,
    }


def picking_entry(picking: PickingInfo) -> dict[str, Any]:
    return {
        "id": picking.id,
        "name": picking.name,
        "state": picking.state,
        "sale_order_id": picking.order_id,
        "backorder_of": picking.backorder_of,
        "lines": [{"sku": m.sku, "quantity": str(m.demand)} for m in picking.moves],
    }


def part_ref(external_ref: str, warehouse: str) -> str:
    """The external reference of the part of a split order shipped from ``warehouse`` (the first
    part keeps the order's own reference)."""
    return f"{external_ref}/{warehouse}"


def candidate_keys(order: Order, settings: FlowSettings) -> dict[str, str | None]:
    """Natural keys the order's sale orders may have, with the warehouse each implies: the
    order's own, and one per warehouse of its channel for the parts of a split."""
    keys: dict[str, str | None] = {order_key(order): None}
    for code in settings.channel(order.channel).warehouses:
        keys[f"{order.channel}:{part_ref(order.external_ref, code)}"] = code
    return keys


class OrderPlacement:
    """Carries accepted orders into the ERP, as far as they can go."""

    def __init__(self, erp: ErpPort, settings: FlowSettings, guard: Guard) -> None:
        self.erp = erp
        self.settings = settings
        self.guard = guard
        self._company_ids: dict[CompanyRef | None, int] = {}

    # ------------------------------------------------------------------ the pipeline

    async def advance(self, works: Sequence[Work], rec: Recorder) -> None:
        fresh = [w for w in works if w.state in ("accepted", "credit_hold")]
        confirmed = [w for w in works if w.state == "confirmed"]
        companies = await self._companies(fresh)
        # Sale orders are looked up and made under their keys' guard: a node that took over
        # this order from one still at work finds what the other made, never makes it again.
        keys = [sale_order_guard(k) for w in fresh for k in candidate_keys(w.order, self.settings)]
        async with self.guard(*keys):
            to_confirm = await self._place(fresh, companies, rec)
        confirmed.extend(await self._confirm(to_confirm, rec))
        await self._release(confirmed, rec)

    async def _place(
        self, fresh: Sequence[Work], companies: dict[str, int], rec: Recorder
    ) -> list[Work]:
        """The fresh orders' sale orders, found or made: the orders to confirm."""
        existing = await self._existing(fresh)
        to_confirm: list[Work] = []
        by_company: dict[int, list[Work]] = {}
        for work in fresh:
            found = existing.get(work.order_id)
            if not found:
                by_company.setdefault(companies[work.order_id], []).append(work)
                continue
            # made before a crash: its decisions were taken then, confirm what exists
            if any(ref.state == "cancel" for ref, _ in found):
                rec.park(
                    work,
                    kinds.ERP_REJECTED,
                    "a sale order of this order was cancelled in the ERP",
                    step="sale_order",
                    erp={"sale_orders": [sale_order_entry(r, wh) for r, wh in found]},
                )
                continue
            work.erp.update(
                company_id=found[0][0].company_id,
                partner_id=found[0][0].partner_id,
                sale_orders=[sale_order_entry(r, wh) for r, wh in found],
            )
            to_confirm.append(work)
        for company, group in by_company.items():
            to_confirm.extend(await self._create(company, group, rec))
        return to_confirm

    # ------------------------------------------------------------------ routing, recovery

    async def _companies(self, works: Sequence[Work]) -> dict[str, int]:
        out: dict[str, int] = {}
        for work in works:
            address = work.order.delivery_address
            ref = self.settings.company_of(work.order.channel, address.country if address else None)
            if ref not in self._company_ids:
                self._company_ids[ref] = await self.erp.resolve_company(ref)
            out[work.order_id] = self._company_ids[ref]
        return out

    async def _existing(
        self, works: Sequence[Work]
    ) -> dict[str, list[tuple[SaleOrderRef, str | None]]]:
        candidates = {w.order_id: candidate_keys(w.order, self.settings) for w in works}
        keys = [k for keys in candidates.values() for k in keys]
        if not keys:
            return {}
        found = await self.erp.find_sale_orders(keys)
        return {
            order_id: [(found[k], code) for k, code in keys_of.items() if k in found]
            for order_id, keys_of in candidates.items()
        }

    # ------------------------------------------------------------------ customer .. create

    async def _create(self, company: int, works: Sequence[Work], rec: Recorder) -> list[Work]:
        partners = await self._customers_of(company, works, rec)
        works = [w for w in works if w.order_id in partners]
        if not works:
            return []
        skus = list(dict.fromkeys(line.sku for w in works for line in w.order.lines))
        products = await self.erp.resolve_products(skus, company_id=company)
        usable = []
        for work in works:
            bad = [line.sku for line in work.order.lines if line.sku in products.errors]
            if bad:
                reason = listing([str(products.errors[sku]) for sku in bad], sep="; ")
                rec.park(work, kinds.UNKNOWN_PRODUCT, reason, step="products", detail={"skus": bad})
            else:
                usable.append(work)
        pricelists = await self._pricelists(company, usable, rec)
        usable = [w for w in usable if w.order_id in pricelists]
        prices = await self._prices(company, usable, pricelists)
        allowed = self._credit(
            usable, partners, prices, await self._accounts(company, partners, usable), rec
        )
        plans = await self._plans(company, allowed, products, rec)
        planned = [w for w in allowed if w.order_id in plans]
        if not planned:
            return []
        parts: list[Order] = []
        warehouses: dict[str, str] = {}
        pricelist_of: dict[str, int] = {}
        keys_of: dict[str, list[tuple[str, str]]] = {}
        for work in planned:
            for part, code in self._parts(
                work, plans[work.order_id], prices[work.order_id], partners[work.order_id]
            ):
                key = order_key(part)
                parts.append(part)
                pricelist_of[key] = pricelists[work.order_id]
                if code:
                    warehouses[key] = code
                keys_of.setdefault(work.order_id, []).append((key, code))
        outcome = await self.erp.create_sale_orders(
            parts, company_id=company, warehouses=warehouses, pricelists=pricelist_of
        )
        created: list[Work] = []
        for work in planned:
            made = [
                sale_order_entry(outcome.done[key], code)
                for key, code in keys_of[work.order_id]
                if key in outcome.done
            ]
            errors = [
                outcome.failed[key] for key, _ in keys_of[work.order_id] if key in outcome.failed
            ]
            erp = {
                "company_id": company,
                "partner_id": partners[work.order_id],
                "sale_orders": made,
            }
            if errors:
                rec.park(
                    work, kinds.kind_for(errors[0]), str(errors[0]), step="sale_order", erp=erp
                )
                continue
            plan = plans[work.order_id]
            work.erp.update(erp)
            work.extra.update(
                fulfilment=plan.step,
                backordered={sku: str(q) for sku, q in plan.backordered.items()},
                total=money(_total(work.order, prices[work.order_id])),
            )
            created.append(work)
        return created

    async def _customers_of(
        self, company: int, works: Sequence[Work], rec: Recorder
    ) -> dict[str, int]:
        # Customers are found or made under their keys' guard (taken after the sale orders'
        # guard, never before: one order of guards on every node, so none waits in a cycle).
        guarded = sorted({customer_guard(customer_key(w.order.customer)) for w in works})
        async with self.guard(*guarded):
            outcome = await self.erp.find_or_create_customers(
                [w.order.customer for w in works], company_id=company
            )
        partners: dict[str, int] = {}
        for work in works:
            key = customer_key(work.order.customer)
            if key in outcome.done:
                partners[work.order_id] = outcome.done[key]
                continue
            error = outcome.failed.get(key)
            reason = str(error) if error else f"customer {key} could not be found or created"
            kind = kinds.kind_for(error) if error else kinds.ERP_REJECTED
            rec.park(work, kind, reason, step="customer", detail={"customer": key})
        return partners

    async def _pricelists(
        self, company: int, works: Sequence[Work], rec: Recorder
    ) -> dict[str, int]:
        """The ERP pricelist of each order, in its currency; the others are parked."""
        by_channel: dict[str, list[Work]] = {}
        for work in works:
            by_channel.setdefault(work.order.channel, []).append(work)
        out: dict[str, int] = {}
        for channel, group in by_channel.items():
            policy = self.settings.channel(channel)
            outcome = await self.erp.currency_pricelists(
                [w.order.currency for w in group],
                company_id=company,
                configured=policy.pricelists,
                preferred=[policy.pricelist_id] if policy.pricelist_id else [],
            )
            for work in group:
                currency = work.order.currency
                if currency in outcome.done:
                    out[work.order_id] = outcome.done[currency]
                    continue
                rec.park(
                    work,
                    kinds.CURRENCY_UNSUPPORTED,
                    f"no ERP pricelist in {currency} for channel {channel}: "
                    f"{outcome.failed[currency].message}",
                    step="pricelist",
                    detail={"currency": currency, "channel": channel},
                )
        return out

    async def _prices(
        self, company: int, works: Sequence[Work], pricelists: dict[str, int]
    ) -> dict[str, Prices]:
        """The unit prices of each order: the channel's, or its pricelist's (``pricing:
        pricelist``)."""
        erp_prices: dict[int, Prices] = {}
        wanted: dict[int, set[str]] = {}
        for work in works:
            policy = self.settings.channel(work.order.channel)
            if policy.pricing == "pricelist":
                wanted.setdefault(pricelists[work.order_id], set()).update(
                    line.sku for line in work.order.lines
                )
        for pricelist, skus in wanted.items():
            erp_prices[pricelist] = await self.erp.prices(
                sorted(skus), pricelist_id=pricelist, company_id=company
            )
        out: dict[str, Prices] = {}
        for work in works:
            policy = self.settings.channel(work.order.channel)
            channel_prices = {line.sku: line.unit_price for line in work.order.lines}
            out[work.order_id] = unit_prices(
                policy.pricing, channel_prices, erp_prices.get(pricelists[work.order_id], {})
            )
        return out

    async def _accounts(
        self, company: int, partners: dict[str, int], works: Sequence[Work]
    ) -> dict[int, tuple[Decimal, Decimal]]:
        ids = sorted({partners[w.order_id] for w in works if not w.credit_approved})
        return await self.erp.customer_credits(ids, company_id=company) if ids else {}

    def _credit(
        self,
        works: Sequence[Work],
        partners: dict[str, int],
        prices: dict[str, Prices],
        accounts: dict[int, tuple[Decimal, Decimal]],
        rec: Recorder,
    ) -> list[Work]:
        requests = [
            CreditRequest(
                w.order_id,
                partners[w.order_id],
                _total(w.order, prices[w.order_id]),
                approved=w.credit_approved,
            )
            for w in works
        ]
        decisions = credit_decisions(requests, accounts)
        allowed = []
        for work in works:
            decision = decisions[work.order_id]
            detail = {
                "exposure": money(decision.exposure),
                "credit_limit": money(decision.limit) if decision.limit is not None else None,
                "decision": decision.reason,
            }
            if decision.allowed:
                allowed.append(work)
                continue
            rec.batch.emit(
                ev.order_event(
                    ev.CREDIT_HOLD,
                    work.record,
                    {
                        **detail,
                        "partner_id": partners[work.order_id],
                        "currency": work.order.currency,
                    },
                    work.trigger,
                )
            )
            rec.park(
                work,
                kinds.CREDIT_HOLD,
                f"order total with open receivables is {detail['exposure']} "
                f"{work.order.currency}, over the credit limit of {detail['credit_limit']}",
                step="credit_hold",
                state="credit_hold",
                detail=detail,
                erp={"partner_id": partners[work.order_id]},
            )
        return allowed

    async def _plans(
        self, company: int, works: Sequence[Work], products: ProductResolution, rec: Recorder
    ) -> dict[str, FulfilmentPlan]:
        storable = sorted(
            {
                line.sku
                for w in works
                for line in w.order.lines
                if line.sku in products.found and products.found[line.sku].storable
            }
        )
        stock: dict[str, dict[str, Decimal]] = {}
        broken: dict[str, str] = {}
        default = ""
        if storable and any(not self.settings.channel(w.order.channel).warehouses for w in works):
            levels = await self.erp.stock_levels(storable, company_id=company)
            default = levels[0].warehouse if levels else ""
            stock[default] = {lv.sku: lv.available or Decimal(0) for lv in levels}
        codes = dict.fromkeys(
            c for w in works for c in self.settings.channel(w.order.channel).warehouses
        )
        for code in codes:
            if code in stock or not storable:
                continue
            try:
                levels = await self.erp.stock_levels(storable, warehouse=code, company_id=company)
            except Exception as exc:
                if not kinds.is_record_error(exc):
                    raise
                broken[code] = str(exc)
                continue
            stock[code] = {lv.sku: lv.available or Decimal(0) for lv in levels}
        requests = []
        for work in works:
            policy = self.settings.channel(work.order.channel)
            warehouses = list(policy.warehouses) or [default]
            bad = [broken[c] for c in warehouses if c in broken]
            if bad:
                rec.park(work, kinds.ERP_REJECTED, bad[0], step="fulfilment")
                continue
            steps = list(policy.fulfilment)
            if work.allow_backorder:
                steps = [s for s in steps if s not in ("reject", "backorder")] + ["backorder"]
            requests.append(
                FulfilmentRequest(
                    work.order_id,
                    {line.sku: line.quantity for line in work.order.lines},
                    warehouses,
                    steps,
                    frozenset(line.sku for line in work.order.lines if line.sku not in storable),
                )
            )
        plans, _ = plan_orders(requests, stock)
        out: dict[str, FulfilmentPlan] = {}
        for work in works:
            plan = plans.get(work.order_id)
            if plan is None:
                continue
            if plan.rejected:
                short = listing([f"{sku} short by {q}" for sku, q in plan.shortage.items()])
                rec.park(
                    work,
                    kinds.OUT_OF_STOCK,
                    f"not enough free stock per the channel's fulfilment policy: {short}",
                    step="fulfilment",
                    detail={"shortage": {s: str(q) for s, q in plan.shortage.items()}},
                )
                continue
            out[work.order_id] = plan
        return out

    def _parts(
        self, work: Work, plan: FulfilmentPlan, prices: Prices, partner_id: int
    ) -> list[tuple[Order, str]]:
        """The sale orders of a plan: one per warehouse, lines priced, the customer known."""
        order = work.order
        refs = {**order.customer.refs, self.settings.erp_system: str(partner_id)}
        customer = order.customer.model_copy(update={"refs": refs})
        parts = []
        for index, allocation in enumerate(plan.allocations):
            lines = []
            for line in order.lines:
                quantity = allocation.quantities.get(line.sku)
                if not quantity:
                    continue
                update: dict[str, Any] = {"quantity": quantity, "unit_price": prices[line.sku]}
                if line.discount_amount:
                    update["discount_amount"] = line.discount_amount * quantity / line.quantity
                lines.append(line.model_copy(update=update))
            ref = (
                order.external_ref
                if index == 0
                else part_ref(order.external_ref, allocation.warehouse)
            )
            parts.append(
                (
                    order.model_copy(
                        update={"external_ref": ref, "lines": lines, "customer": customer}
                    ),
                    allocation.warehouse,
                )
            )
        return parts

    # ------------------------------------------------------------------ confirm, release

    async def _confirm(self, works: Sequence[Work], rec: Recorder) -> list[Work]:
        ids = [so["id"] for w in works for so in w.sale_orders]
        if not ids:
            return []
        outcome = await self.erp.confirm_sale_orders(ids)
        done = []
        for work in works:
            errors = [
                outcome.failed[so["id"]] for so in work.sale_orders if so["id"] in outcome.failed
            ]
            if errors:
                rec.park(
                    work,
                    kinds.kind_for(errors[0]),
                    str(errors[0]),
                    step="confirm",
                    erp={k: work.erp[k] for k in ("company_id", "partner_id", "sale_orders")},
                )
                continue
            orders = [
                {**so, "state": outcome.done.get(so["id"], so["state"])} for so in work.sale_orders
            ]
            erp = {
                "system": self.settings.erp_system,
                "company_id": work.erp.get("company_id"),
                "partner_id": work.erp.get("partner_id"),
                "sale_orders": orders,
            }
            data = {
                "channel": work.order.channel,
                "external_ref": work.order.external_ref,
                **erp,
                "fulfilment": work.extra.get("fulfilment"),
                "backordered": work.extra.get("backordered", {}),
                "total": work.extra.get("total"),
                "currency": work.order.currency,
            }
            rec.move(
                work,
                "confirmed",
                erp=erp,
                detail={"sale_orders": [so["name"] for so in orders]},
                events=[ev.order_event(ev.CONFIRMED, work.record, data)],
            )
            done.append(work)
        return done

    async def _release(self, works: Sequence[Work], rec: Recorder) -> None:
        ids = [so["id"] for w in works for so in w.sale_orders]
        if not ids:
            return
        pickings = await self.erp.delivery_pickings(ids)
        by_order: dict[int, list[PickingInfo]] = {}
        for picking in pickings:
            by_order.setdefault(picking.order_id or 0, []).append(picking)
        for work in works:
            own = [picking_entry(p) for so in work.sale_orders for p in by_order.get(so["id"], [])]
            data = {"sale_orders": work.sale_orders, "pickings": own}
            rec.move(
                work,
                "released",
                erp={"pickings": own},
                detail={"pickings": [p["name"] for p in own]},
                events=[ev.order_event(ev.RELEASED, work.record, data)],
            )


def _total(order: Order, prices: Prices) -> Decimal:
    """Net total of the order at the chosen prices (before tax, which the ERP computes)."""
    return sum(
        (
            line.quantity * prices[line.sku] - (line.discount_amount or Decimal(0))
            for line in order.lines
        ),
        Decimal(0),
    )
