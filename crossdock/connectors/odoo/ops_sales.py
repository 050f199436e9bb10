"""Sales: idempotent sale orders, confirmation, and invoices from delivered quantities.

Creating a batch of orders costs, whatever its size: one ``search_read`` for the natural keys
(``client_order_ref = "<channel>:<external_ref>"``, in every company), one for the customers,
one for the SKUs and two for the pricelists of the orders' currencies (all cached, so none once
they are known), one ``create`` per chunk of
``batch_size`` orders with their lines, and one ``read`` of the names Odoo gave them. An order is
created with all its lines in one ``create``, so it exists complete or not at all, and a crash
after Odoo committed it is harmless: the retry finds it by its key and creates nothing. Every
order is created with a pricelist in its own currency (:mod:`.ops_pricelists`), so its
``currency_id`` is the order's; an order whose currency has none is refused, never created in
another currency.

Confirming costs one ``action_confirm`` per chunk of ids on Odoo 17+, which refuses to confirm an
order that is not a quotation: only when Odoo refuses a chunk (an order already confirmed or
cancelled, or a bad one) are the states read, the confirmed ones set aside and the rest bisected.
Odoo 16 would confirm a confirmed order again (and move its date), so there the states are read
first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crossdock.connectors.odoo.batching import BatchOutcome, bisect_batch, chunks
from crossdock.connectors.odoo.errors import (
    CurrencyUnsupportedError,
    OdooBusinessError,
    OdooError,
    OdooMissingError,
)
from crossdock.connectors.odoo.mapping import (
    customer_key,
    invoice_from_odoo,
    m2o_id,
    order_key,
    sale_order_vals,
)
from crossdock.connectors.odoo.ops_base import OperationsBase
from crossdock.connectors.odoo.ops_customers import CustomerOperations
from crossdock.connectors.odoo.ops_pricelists import PricelistOperations
from crossdock.connectors.odoo.records import SaleOrderRef
from crossdock.model import Invoice, Order

__all__ = ["SalesOperations"]

_ORDER_FIELDS = ["name", "client_order_ref", "state", "company_id", "partner_id", "currency_id"]


def _ref(row: dict[str, Any]) -> SaleOrderRef:
    return SaleOrderRef(
        id=int(row["id"]),
        name=str(row["name"]),
        client_order_ref=str(row["client_order_ref"]),
        state=str(row["state"]),
        company_id=int(m2o_id(row["company_id"]) or 0),
        partner_id=int(m2o_id(row["partner_id"]) or 0),
        currency=str(row["currency_id"][1]) if row.get("currency_id") else "",
    )


class SalesOperations(CustomerOperations, PricelistOperations, OperationsBase):
    async def find_sale_orders(self, keys: Sequence[str]) -> dict[str, SaleOrderRef]:
        """Existing sale orders by ``client_order_ref`` (every company of the user)."""
        if not keys:
            return {}
        rows = await self.client.search_read(
            "sale.order",
            [["client_order_ref", "in", sorted(set(keys))]],
            _ORDER_FIELDS,
            order="id",
            context=await self.all_companies_context(),
        )
        found: dict[str, SaleOrderRef] = {}
        for row in rows:
            found.setdefault(str(row["client_order_ref"]), _ref(row))
        return found

    async def create_sale_orders(
        self,
        orders: Sequence[Order],
        *,
        company_id: int | None = None,
        warehouses: Mapping[str, str] | None = None,
        pricelists: Mapping[str, int] | None = None,
    ) -> BatchOutcome[str, SaleOrderRef]:
        """Create the orders that do not exist yet; keyed by ``client_order_ref``.

        ``company_id`` puts every order in that company (default: routed per order by channel and
        country); ``warehouses`` gives the warehouse code of an order by ``client_order_ref``
        (default: the company's first warehouse); ``pricelists`` the pricelist of an order by
        ``client_order_ref`` (default: Odoo's pricelist of the order's currency). Bad orders
        (unknown or archived SKU, customer of another company, unknown customer when Odoo does not
        own customers, unknown warehouse, a currency without pricelist or a pricelist in another
        currency, anything Odoo refuses) are in ``failed`` with a typed error naming the order;
        the others are created.
        """
        outcome: BatchOutcome[str, SaleOrderRef] = BatchOutcome()
        unique = {order_key(o): o for o in orders}
        existing = await self.find_sale_orders(list(unique))
        for key, ref in existing.items():
            outcome.done[key] = ref
            outcome.existing.add(key)
        pending = [o for k, o in unique.items() if k not in existing]
        by_company: dict[int, list[Order]] = {}
        for order in pending:
            address = order.delivery_address
            company = (
                company_id
                if company_id is not None
                else await self.company_for(order.channel, address.country if address else None)
            )
            by_company.setdefault(company, []).append(order)
        for company, group in by_company.items():
            ready = await self._prepare(group, company, outcome, warehouses or {}, pricelists or {})
            context = await self.company_context(company)

            async def send(
                batch: Sequence[tuple[Order, dict[str, Any]]], context: dict[str, Any] = context
            ) -> list[int]:
                return await self.client.create(
                    "sale.order", [vals for _, vals in batch], context=context
                )

            for chunk in chunks(ready, self.settings.batch_size):
                created, failed = await bisect_batch(
                    chunk, send, name=lambda item: f"sale.order {order_key(item[0])}"
                )
                for (order, vals), order_id in created:
                    outcome.done[order_key(order)] = SaleOrderRef(
                        id=order_id,
                        name="",
                        client_order_ref=order_key(order),
                        state="draft",
                        company_id=company,
                        partner_id=int(vals["partner_id"]),
                    )
                for (order, _), error in failed:
                    outcome.failed[order_key(order)] = error
                if failed:  # look their customers and products up afresh on the next attempt
                    refused = [order for (order, _), _ in failed]
                    self.invalidate_customers(customer_key(order.customer) for order in refused)
                    self.invalidate_products(ln.sku for order in refused for ln in order.lines)
        created_ids = [r.id for k, r in outcome.done.items() if k not in outcome.existing]
        if created_ids:  # names are given by Odoo's sequence: read them back in one call
            rows = await self.client.read(
                "sale.order",
                created_ids,
                _ORDER_FIELDS,
                context=await self.all_companies_context(),
            )
            for row in rows:
                outcome.done[str(row["client_order_ref"])] = _ref(row)
        return outcome

    async def _prepare(
        self,
        orders: Sequence[Order],
        company: int,
        outcome: BatchOutcome[str, SaleOrderRef],
        warehouses: Mapping[str, str],
        pricelists: Mapping[str, int],
    ) -> list[tuple[Order, dict[str, Any]]]:
        """Resolve customers, products and pricelists; orders that cannot be made go to
        ``failed``."""
        partners: dict[str, int] = {}
        lookup = []
        for order in orders:
            known = order.customer.refs.get(self.system)
            if known and known.isdigit():
                partners[customer_key(order.customer)] = int(known)
            else:
                lookup.append(order.customer)
        customers = await self.find_or_create_customers(lookup, company_id=company)
        partners.update(customers.done)
        products = await self.resolve_products(
            [line.sku for order in orders for line in order.lines], company_id=company
        )
        found = await self.currency_pricelists(
            [o.currency for o in orders if order_key(o) not in pricelists], company_id=company
        )
        given = await self._pricelist_currencies(
            [pricelists[k] for k in map(order_key, orders) if k in pricelists]
        )
        ready = []
        for order in orders:
            key = order_key(order)
            record = f"sale.order {key}"
            error: OdooError | None = customers.failed.get(customer_key(order.customer))
            if error is None:
                bad = [products.errors[ln.sku] for ln in order.lines if ln.sku in products.errors]
                error = bad[0] if bad else None
            pricelist = pricelists.get(key, found.done.get(order.currency))
            if error is None and pricelist is None:
                error = found.failed[order.currency]
            elif (
                error is None and key in pricelists and given.get(pricelists[key]) != order.currency
            ):
                error = CurrencyUnsupportedError(
                    f"the pricelist given for {order.currency} (product.pricelist id="
                    f"{pricelists[key]}) is {given.get(pricelists[key]) or 'archived or missing'}",
                    currency=order.currency,
                    model="product.pricelist",
                )
            warehouse_id: int | None = None
            if error is None and key in warehouses:
                try:
                    warehouse_id = (await self.warehouse(warehouses[key], company)).id
                except OdooBusinessError as exc:
                    error = exc
            if error is not None:
                outcome.failed[key] = error.for_record(record)
                continue
            vals = sale_order_vals(
                order,
                partner_id=partners[customer_key(order.customer)],
                product_ids={sku: info.id for sku, info in products.found.items()},
                company_id=company,
                pricelist_id=pricelist,
            )
            if warehouse_id is not None:
                vals["warehouse_id"] = warehouse_id
            ready.append((order, vals))
        return ready

    async def confirm_sale_orders(self, order_ids: Sequence[int]) -> BatchOutcome[int, str]:
        """Confirm draft/sent orders (``action_confirm`` on the id list); state by order id.

        Already confirmed orders are left as they are (in ``existing``), so confirming twice is
        harmless; an order that does not exist is in ``failed`` with an ``OdooMissingError``.
        """
        outcome: BatchOutcome[int, str] = BatchOutcome()
        context = await self.all_companies_context()

        async def send(batch: Sequence[int]) -> list[str]:
            await self.client.call("sale.order", "action_confirm", list(batch), context=context)
            return ["sale"] * len(batch)

        unique = list(dict.fromkeys(int(i) for i in order_ids))
        for chunk in chunks(unique, self.settings.batch_size):
            if self.dialect.major <= 16:
                todo = await self._confirmable(chunk, context, outcome)
                confirmed, failed = await bisect_batch(
                    todo, send, name=lambda i: f"sale.order id={i}"
                )
                outcome.done.update(dict(confirmed))
                outcome.failed.update(dict(failed))
                continue
            try:
                await send(chunk)
            except (OdooBusinessError, OdooMissingError):
                # Odoo refused the chunk and rolled it back: set the confirmed ones aside, bisect
                todo = await self._confirmable(chunk, context, outcome)
                confirmed, failed = await bisect_batch(
                    todo, send, name=lambda i: f"sale.order id={i}"
                )
                outcome.done.update(dict(confirmed))
                outcome.failed.update(dict(failed))
            else:
                outcome.done.update(dict.fromkeys(chunk, "sale"))
        return outcome

    async def _confirmable(
        self, ids: Sequence[int], context: dict[str, Any], outcome: BatchOutcome[int, str]
    ) -> list[int]:
        """The draft/sent orders of ``ids``; the others go to ``existing`` or ``failed``."""
        rows = await self.client.search_read(
            "sale.order", [["id", "in", list(ids)]], ["state"], context=context
        )
        states = {int(row["id"]): str(row["state"]) for row in rows}
        todo = []
        for order_id in ids:
            state = states.get(order_id)
            if state is None:
                outcome.failed[order_id] = OdooMissingError(
                    f"sale order {order_id} does not exist",
                    model="sale.order",
                    record=f"sale.order id={order_id}",
                )
            elif state in ("draft", "sent"):
                todo.append(order_id)
            else:
                outcome.done[order_id] = state
                outcome.existing.add(order_id)
        return todo

    async def cancel_sale_orders(self, order_ids: Sequence[int]) -> BatchOutcome[int, str]:
        """Cancel orders (``action_cancel``, with their open deliveries); state by order id.

        Already cancelled orders are left as they are, so cancelling twice is harmless. The
        cancel wizard Odoo 17+ shows for confirmed orders is skipped
        (``disable_cancel_warning``).
        """
        outcome: BatchOutcome[int, str] = BatchOutcome()
        context = {**await self.all_companies_context(), "disable_cancel_warning": True}
        rows = await self.client.read("sale.order", list(order_ids), ["state"], context=context)
        todo = []
        for row in rows:
            if row["state"] == "cancel":
                outcome.done[int(row["id"])] = "cancel"
                outcome.existing.add(int(row["id"]))
            else:
                todo.append(int(row["id"]))

        async def send(batch: Sequence[int]) -> list[str]:
            await self.client.call("sale.order", "action_cancel", list(batch), context=context)
            return ["cancel"] * len(batch)

        for chunk in chunks(todo, self.settings.batch_size):
            cancelled, failed = await bisect_batch(chunk, send, name=lambda i: f"sale.order id={i}")
            outcome.done.update(dict(cancelled))
            outcome.failed.update(dict(failed))
        return outcome

    async def invoice_delivered(
        self, order_ids: Sequence[int], *, post: bool = True
    ) -> list[Invoice]:
        """Invoice what was delivered (``sale.advance.payment.inv``, method ``delivered``), post it.

        Orders with nothing to invoice are skipped; a draft invoice already made for them (a
        crash before posting) is posted instead of making another one.
        """
        context = await self.all_companies_context()
        orders = await self.client.read(
            "sale.order", list(order_ids), ["invoice_status", "invoice_ids"], context=context
        )
        to_invoice = [int(o["id"]) for o in orders if o["invoice_status"] == "to invoice"]
        if to_invoice:
            wizard_context = {
                **context,
                "active_model": "sale.order",
                "active_ids": to_invoice,
                "active_id": to_invoice[0],
            }
            [wizard] = await self.client.create(
                "sale.advance.payment.inv",
                [{"advance_payment_method": "delivered", "sale_order_ids": [(6, 0, to_invoice)]}],
                context=wizard_context,
            )
            await self.client.call(
                "sale.advance.payment.inv", "create_invoices", [wizard], context=wizard_context
            )
            orders = await self.client.read(
                "sale.order", list(order_ids), ["invoice_status", "invoice_ids"], context=context
            )
        invoice_ids = sorted({i for o in orders for i in o["invoice_ids"]})
        if not invoice_ids:
            return []
        moves = await self.client.read(
            "account.move", invoice_ids, ["state", "move_type"], context=context
        )
        drafts = [
            int(m["id"]) for m in moves if m["state"] == "draft" and m["move_type"] == "out_invoice"
        ]
        if post and drafts:
            await self.client.call("account.move", "action_post", drafts, context=context)
        return await self.read_invoices(invoice_ids)

    async def read_invoices(self, invoice_ids: Sequence[int]) -> list[Invoice]:
        """Canonical invoices (customer or vendor) from ``account.move`` ids."""
        context = await self.all_companies_context()
        moves = await self.client.read(
            "account.move",
            list(invoice_ids),
            [
                "name",
                "state",
                "move_type",
                "partner_id",
                "invoice_date",
                "date",
                "currency_id",
                "amount_untaxed",
                "amount_tax",
                "amount_total",
                "amount_residual",
                "payment_state",
                "invoice_origin",
                "invoice_line_ids",
            ],
            context=context,
        )
        line_ids = [i for m in moves for i in m["invoice_line_ids"]]
        lines = await self.client.read(
            "account.move.line",
            line_ids,
            [
                "move_id",
                "product_id",
                "name",
                "quantity",
                "price_unit",
                "price_subtotal",
                "display_type",
            ],
            context=context,
        )
        partner_ids = {int(m2o_id(m["partner_id"]) or 0) for m in moves}
        partners = await self.client.read(
            "res.partner", sorted(partner_ids - {0}), ["ref"], context=context
        )
        partner_refs = {int(p["id"]): str(p["ref"] or f"odoo:{p['id']}") for p in partners}
        skus = await self.skus_of(
            pid for line in lines if (pid := m2o_id(line["product_id"])) is not None
        )
        invoices = []
        for move in moves:
            own = [
                line
                for line in lines
                if m2o_id(line["move_id"]) == move["id"]
                and line.get("display_type") in (None, False, "product")
            ]
            if not own:
                raise OdooBusinessError(
                    "invoice has no product lines",
                    model="account.move",
                    record=f"account.move id={move['id']}",
                )
            currency = move.get("currency_id")
            invoices.append(
                invoice_from_odoo(
                    {**move, "currency_code": currency[1] if currency else None},
                    own,
                    source=self.system,
                    skus=skus,
                    partner_ref=partner_refs.get(int(m2o_id(move["partner_id"]) or 0), "unknown"),
                    order_refs=[o for o in str(move.get("invoice_origin") or "").split(", ") if o],
                )
            )
        return invoices
