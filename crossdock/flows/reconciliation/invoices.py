"""Invoices: what was shipped against what was invoiced, per order the hub dispatched.

Delivered quantities are the ERP's (``qty_delivered``: pickings done); the hub's own record
(``shipment.dispatched``, kept in the projection's shipments) is checked against them. Invoiced
quantities and amounts are the ERP's posted customer invoices and refunds.

Findings:

* ``invoice_missing`` — a quantity delivered more than ``invoice_after_s`` ago is not invoiced.
  Value: the uninvoiced quantity at the line's net price; age: since the last dispatch. The
  owner's value (when the ERP owns invoices): the flow invoices the delivered quantities again
  (an ``invoice_failed`` exception is opened and resolved with ``retry`` by reconciliation).
* ``invoice_mismatch`` — more invoiced than delivered, posted amounts that differ from the
  invoiced quantities at the order's prices (an invoice in another currency than the order's
  bills nothing in the order's), an invoice the hub recorded that is no longer posted, or shipped
  quantities the hub and the ERP disagree on. Value, in the order's currency: the largest money
  difference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select

from crossdock.connectors.odoo.ops_reconcile import InvoiceSummary, SaleLineSummary
from crossdock.flows.orders import order_subject
from crossdock.flows.reconciliation.context import Context
from crossdock.flows.reconciliation.drift_types import INVOICE_MISMATCH, INVOICE_MISSING, Finding
from crossdock.flows.reconciliation.orders import HubOrder, hub_orders
from crossdock.flows.returns.store import received_by_order
from crossdock.flows.tables import order_steps, orders

__all__ = ["reconcile_invoices"]

_CHUNK = 400
CENT = Decimal("0.01")


@dataclass
class Dispatched:
    order: HubOrder
    last_dispatch: float
    returned: dict[str, Decimal] = field(default_factory=dict)
    """Taken back by returns (crossdock.flows.returns): no longer delivered in the ERP."""


def load_dispatched(conn: Connection, since: float) -> list[Dispatched]:
    rows = conn.execute(
        select(orders)
        .where(orders.c.accepted_at >= since, orders.c.state.in_(("shipped", "invoiced")))
        .order_by(orders.c.accepted_at)
    )
    found = hub_orders(conn, rows)
    ids = [o.id for o in found]
    last: dict[str, float] = {}
    for start in range(0, len(ids), _CHUNK):
        for order_id, at in conn.execute(
            select(order_steps.c.order_id, func.max(order_steps.c.at))
            .where(
                order_steps.c.order_id.in_(ids[start : start + _CHUNK]),
                order_steps.c.step == "shipped",
            )
            .group_by(order_steps.c.order_id)
        ):
            last[order_id] = float(at)
    returned = received_by_order(conn, ids)
    return [Dispatched(o, last.get(o.id, o.accepted_at), returned.get(o.id, {})) for o in found]


def _sum(pairs: Sequence[tuple[str, Decimal]]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for sku, quantity in pairs:
        out[sku] = out.get(sku, Decimal(0)) + quantity
    return out


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT)


async def reconcile_invoices(ctx: Context) -> tuple[int, list[Finding]]:
    settings = ctx.config.reconciliation.invoices
    window = ctx.now - settings.lookback_days * 86400
    dispatched = await ctx.db.read(lambda conn: load_dispatched(conn, window))
    dispatched = [d for d in dispatched if d.order.erp.get("sale_orders")]
    ids = sorted({int(so["id"]) for d in dispatched for so in d.order.erp["sale_orders"]})
    lines = await ctx.erp.sale_order_lines(ids)
    invoices = await ctx.erp.sale_order_invoices(ids)
    lines_of: dict[int, list[SaleLineSummary]] = {}
    for line in lines:
        lines_of.setdefault(line.order_id, []).append(line)
    invoices_of: dict[int, list[InvoiceSummary]] = {}
    for invoice in invoices:
        for order_id in invoice.order_ids:
            invoices_of.setdefault(order_id, []).append(invoice)
    findings: list[Finding] = []
    for item in dispatched:
        so_ids = [int(so["id"]) for so in item.order.erp["sale_orders"]]
        own_lines = [line for i in so_ids for line in lines_of.get(i, [])]
        own_invoices = list(
            {inv.id: inv for i in so_ids for inv in invoices_of.get(i, [])}.values()
        )
        findings += _findings(item, own_lines, own_invoices, ctx)
    return len(dispatched), findings


def _findings(
    item: Dispatched,
    lines: Sequence[SaleLineSummary],
    invoices: Sequence[InvoiceSummary],
    ctx: Context,
) -> list[Finding]:
    settings = ctx.config.reconciliation.invoices
    order = item.order
    subject = order_subject(order.id)
    if order.waiting_on:
        return []  # the flow is waiting for a person (an invoice or a shipment problem)
    delivered = _sum([(line.sku, line.delivered) for line in lines])
    invoiced = _sum([(line.sku, line.invoiced) for line in lines])
    price = {line.sku: line.net_unit_price for line in lines}
    uninvoiced = {
        sku: q - invoiced.get(sku, Decimal(0))
        for sku, q in delivered.items()
        if q > invoiced.get(sku, Decimal(0))
    }
    findings: list[Finding] = []
    if uninvoiced and ctx.now - item.last_dispatch >= settings.invoice_after_s:
        value = _money(sum((q * price[sku] for sku, q in uninvoiced.items()), Decimal(0)))
        correction: dict[str, Any] | None = None
        why_not = None
        if ctx.invoices_owner != ctx.erp_system:
            why_not = f"{ctx.invoices_owner}, not the ERP, owns invoices"
        elif order.state != "shipped":
            why_not = f"the hub recorded the order as {order.state}"
        else:
            correction = {"action": "invoice", "order_id": order.id}
        findings.append(
            Finding(
                INVOICE_MISSING,
                subject,
                item.last_dispatch,
                value,
                order.currency,
                f"order {order.key}: delivered but not invoiced: "
                + ", ".join(f"{q} x {sku}" for sku, q in sorted(uninvoiced.items())),
                {
                    "order_id": order.id,
                    "order": order.key,
                    "uninvoiced": {sku: str(q) for sku, q in uninvoiced.items()},
                    "delivered": {sku: str(q) for sku, q in delivered.items()},
                    "invoiced": {sku: str(q) for sku, q in invoiced.items()},
                },
                correction,
                why_not,
            )
        )
    problems, value = _mismatches(
        order, delivered, invoiced, price, invoices, settings.amount_tolerance, item.returned
    )
    if problems:
        findings.append(
            Finding(
                INVOICE_MISMATCH,
                subject,
                item.last_dispatch,
                value,
                order.currency,
                f"order {order.key}: " + "; ".join(problems),
                {
                    "order_id": order.id,
                    "order": order.key,
                    "problems": problems,
                    "delivered": {sku: str(q) for sku, q in delivered.items()},
                    "invoiced": {sku: str(q) for sku, q in invoiced.items()},
                    "invoices": [
                        {
                            "id": i.id,
                            "name": i.name,
                            "state": i.state,
                            "move_type": i.move_type,
                            "amount_untaxed": str(i.amount_untaxed),
                        }
                        for i in invoices
                    ],
                },
                why_not="invoices are corrected by finance (credit notes), never automatically",
            )
        )
    return findings


def _mismatches(
    order: HubOrder,
    delivered: dict[str, Decimal],
    invoiced: dict[str, Decimal],
    price: dict[str, Decimal],
    invoices: Sequence[InvoiceSummary],
    tolerance: Decimal,
    returned: dict[str, Decimal] | None = None,
) -> tuple[list[str], Decimal]:
    problems: list[str] = []
    value = Decimal(0)
    over = {
        sku: q - delivered.get(sku, Decimal(0))
        for sku, q in invoiced.items()
        if q > delivered.get(sku, Decimal(0))
    }
    if over:
        problems.append(
            "invoiced more than delivered: "
            + ", ".join(f"{q} x {sku}" for sku, q in sorted(over.items()))
        )
        value = max(
            value,
            _money(sum((q * price.get(sku, Decimal(0)) for sku, q in over.items()), Decimal(0))),
        )
    posted = [i for i in invoices if i.state == "posted"]
    # amounts in different currencies are never subtracted: what is billed in another currency
    # than the order's is not billed in the order's
    foreign = [i for i in posted if i.currency and i.currency != order.currency]
    if foreign:
        problems.append(
            f"posted invoices not in the order's currency ({order.currency}): "
            + ", ".join(f"{i.name} {i.sign * i.amount_untaxed} {i.currency}" for i in foreign)
        )
    billed = sum((i.sign * i.amount_untaxed for i in posted if i not in foreign), Decimal(0))
    at_prices = _money(
        sum((q * price.get(sku, Decimal(0)) for sku, q in invoiced.items()), Decimal(0))
    )
    if posted and abs(billed - at_prices) > tolerance:
        if len(foreign) < len(posted):
            problems.append(
                f"posted invoices total {billed} {order.currency}, the invoiced quantities "
                f"at the order's prices {at_prices} {order.currency}"
            )
        value = max(value, abs(billed - at_prices))
    posted_ids = {i.id for i in posted}
    recorded: list[dict[str, Any]] = [
        e for e in order.erp.get("invoices") or [] if e.get("status") == "posted"
    ]
    gone = [e for e in recorded if int(e.get("id") or 0) not in posted_ids]
    if gone:
        problems.append(
            "invoices the hub recorded as posted are not posted in the ERP: "
            + ", ".join(str(e.get("number")) for e in gone)
        )
        value = max(value, sum((Decimal(str(e.get("subtotal") or 0)) for e in gone), Decimal(0)))
    shipped = _sum(
        [
            (sku, Decimal(str(q)))
            for s in order.erp.get("shipments") or []
            for sku, q in (s.get("shipped") or {}).items()
        ]
        + [(sku, -q) for sku, q in (returned or {}).items()]
    )
    differ = {
        sku: (shipped.get(sku, Decimal(0)), delivered.get(sku, Decimal(0)))
        for sku in set(shipped) | set(delivered)
        if shipped.get(sku, Decimal(0)) != delivered.get(sku, Decimal(0))
    }
    if differ:
        problems.append(
            "the hub's shipments and the ERP's deliveries differ: "
            + ", ".join(
                f"{sku} shipped {a}, delivered {b}" for sku, (a, b) in sorted(differ.items())
            )
        )
        value = max(
            value,
            _money(
                sum(
                    (abs(a - b) * price.get(sku, Decimal(0)) for sku, (a, b) in differ.items()),
                    Decimal(0),
                )
            ),
        )
    return problems, value
