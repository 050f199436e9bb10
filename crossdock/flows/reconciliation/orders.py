"""Orders: what channels sent through the hub (the order projection) against the ERP's sale orders
(``client_order_ref = "<channel>:<external_ref>"``, and ``…/<warehouse>`` for the parts of a
split order).

Findings:

* ``order_missing_in_erp`` — an accepted order older than ``missing_after_s`` without a live sale
  order, that is not cancelled, failed or waiting in the exceptions queue. Value: the order's
  total; age: since it was accepted. The owner's value (when a channel, not the ERP, owns orders)
  is the order itself: an order still ``accepted`` is handed to the flow again.
* ``order_duplicated_in_erp`` — more than one live sale order under one natural key. Value: the
  extra orders' untaxed amount. The owner's value: the extra quotations are cancelled (confirmed
  duplicates are left to a person).
* ``order_total_mismatch`` — the untaxed amount of the order's sale orders differs from the total
  the hub chose (the ``order.confirmed`` total, which holds the pricelist price for channels priced
  by the ERP; the channel's lines otherwise), or a sale order is in another currency than the
  order. Value, in the order's currency: the difference; with a sale order in another currency,
  what the ERP does not hold in the order's currency (the whole order when none of it is), as
  amounts in different currencies are never subtracted.
* ``order_unknown_in_hub`` — a live sale order with a channel's prefix that no accepted order
  explains. Value: its untaxed amount; age: since it was created in the ERP.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from crossdock.connectors.odoo.ops_reconcile import SaleOrderSummary
from crossdock.engine import events_table as events
from crossdock.flows.order_to_cash.settings import SOURCE as FLOW_SOURCE
from crossdock.flows.orders import find_orders, order_subject
from crossdock.flows.reconciliation.context import Context
from crossdock.flows.reconciliation.drift_types import (
    ORDER_DUPLICATED,
    ORDER_MISSING,
    ORDER_TOTAL,
    ORDER_UNKNOWN,
    TYPES,
    Finding,
)
from crossdock.flows.tables import exceptions, orders

__all__ = ["HubOrder", "reconcile_orders"]

_CHUNK = 400
ENDED = ("cancelled", "failed")


@dataclass
class HubOrder:
    id: str
    channel: str
    external_ref: str
    state: str
    currency: str
    accepted_at: float
    body: str
    erp: dict[str, Any]
    confirmed_total: Decimal | None = None
    waiting_on: tuple[str, ...] = ()
    """Open exceptions of the flow (not reconciliation's): the order is waiting for a person."""

    @property
    def key(self) -> str:
        return f"{self.channel}:{self.external_ref}"

    def line_total(self) -> Decimal:
        """Net total at the channel's prices (what the ERP gets with ``pricing: channel``)."""
        body = json.loads(self.body)
        total = Decimal(0)
        for line in body.get("lines") or []:
            total += Decimal(str(line["quantity"])) * Decimal(str(line["unit_price"]))
            total -= Decimal(str(line.get("discount_amount") or 0))
        return total


def load_orders(conn: Connection, since: float) -> list[HubOrder]:
    """Orders accepted since ``since`` with their confirmed totals and open flow exceptions."""
    rows = conn.execute(
        select(
            orders.c.id,
            orders.c.channel,
            orders.c.external_ref,
            orders.c.state,
            orders.c.currency,
            orders.c.accepted_at,
            orders.c.body,
            orders.c.erp,
        )
        .where(orders.c.accepted_at >= since)
        .order_by(orders.c.accepted_at)
    )
    return hub_orders(conn, rows)


def hub_orders(conn: Connection, rows: Iterable[Any]) -> list[HubOrder]:
    """Orders projection rows as :class:`HubOrder`, with their flow state attached."""
    found = [
        HubOrder(
            r.id,
            r.channel,
            r.external_ref,
            r.state,
            r.currency,
            r.accepted_at,
            r.body,
            json.loads(r.erp),
        )
        for r in rows
    ]
    attach_flow_state(conn, found)
    return found


def attach_flow_state(conn: Connection, found: Sequence[HubOrder]) -> None:
    """The ``order.confirmed`` totals (found by the flow's idempotency keys) and open flow
    exceptions of ``found``."""
    by_id = {o.id: o for o in found}
    ids = list(by_id)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        keys = [f"order.confirmed:{i}" for i in chunk]
        for key, data in conn.execute(
            select(events.c.idempotency_key, events.c.data).where(
                events.c.source == FLOW_SOURCE, events.c.idempotency_key.in_(keys)
            )
        ):
            total = json.loads(data).get("total")
            if total is not None:
                by_id[key.split(":", 1)[1]].confirmed_total = Decimal(str(total))
        subjects = [order_subject(i) for i in chunk]
        waiting: dict[str, list[str]] = {}
        for subject, type_ in conn.execute(
            select(exceptions.c.subject, exceptions.c.type).where(
                exceptions.c.subject.in_(subjects), exceptions.c.state == "open"
            )
        ):
            if type_ not in TYPES:
                waiting.setdefault(subject.split(":", 1)[1], []).append(type_)
        for order_id, types in waiting.items():
            by_id[order_id].waiting_on = tuple(sorted(types))


def _load_refs(conn: Connection, refs: list[tuple[str, str]]) -> list[HubOrder]:
    ids = find_orders(conn, refs)
    if not ids:
        return []
    rows = conn.execute(select(orders).where(orders.c.id.in_(list(ids.values()))))
    return hub_orders(conn, rows)


def _keys(order: HubOrder, warehouses: Sequence[str]) -> list[str]:
    return [order.key, *(f"{order.key}/{code}" for code in warehouses)]


def _live(sale_orders: Sequence[SaleOrderSummary]) -> list[SaleOrderSummary]:
    return [s for s in sale_orders if s.state != "cancel"]


def _so(s: SaleOrderSummary) -> dict[str, Any]:
    return {
        "id": s.id,
        "name": s.name,
        "client_order_ref": s.client_order_ref,
        "state": s.state,
        "amount_untaxed": str(s.amount_untaxed),
        "currency": s.currency,
    }


async def reconcile_orders(ctx: Context) -> tuple[int, list[Finding]]:
    settings = ctx.config.reconciliation.orders
    window = ctx.now - settings.lookback_days * 86400
    hub = await ctx.db.read(lambda conn: load_orders(conn, window))
    channels = {o.channel for o in hub} | {c for c in ctx.config.channels if c != "default"}
    erp_orders = await ctx.erp.list_sale_orders(
        ref_prefixes=[f"{c}:" for c in sorted(channels)],
        since=datetime.fromtimestamp(window, UTC),
    )
    by_ref: dict[str, list[SaleOrderSummary]] = {}
    for so in erp_orders:
        by_ref.setdefault(so.client_order_ref, []).append(so)
    explained = _explain(hub, ctx)
    strays = [ref for ref in by_ref if ref not in explained]
    if strays:  # orders accepted before the window whose sale orders were made inside it
        wanted = []
        for ref in strays:
            channel, _, rest = ref.partition(":")
            wanted.append((channel, rest))
            if "/" in rest:
                wanted.append((channel, rest.rsplit("/", 1)[0]))
        older = await ctx.db.read(lambda conn: _load_refs(conn, wanted))
        explained.update(_explain(older, ctx))
    findings: list[Finding] = []
    for order in hub:
        keys = _keys(order, ctx.config.channel(order.channel).warehouses)
        mine = [s for k in keys for s in by_ref.get(k, [])]
        findings += _order_findings(order, keys, mine, by_ref, ctx)
    for ref, sale_orders in by_ref.items():
        if ref in explained:
            continue
        for so in _live(sale_orders):
            findings.append(
                Finding(
                    ORDER_UNKNOWN,
                    f"sale_order:{so.id}",
                    so.created_at.timestamp(),
                    so.amount_untaxed,
                    so.currency or None,
                    f"sale order {so.name} ({ref}) was never accepted by the hub",
                    {"sale_order": _so(so)},
                    why_not="the hub has no order to compare it with",
                )
            )
    return len(hub) + len(erp_orders), findings


def _explain(hub: Sequence[HubOrder], ctx: Context) -> dict[str, str]:
    """Natural keys the hub's orders account for, to the order id."""
    return {
        key: order.id
        for order in hub
        for key in _keys(order, ctx.config.channel(order.channel).warehouses)
    }


def _order_findings(
    order: HubOrder,
    keys: Sequence[str],
    mine: Sequence[SaleOrderSummary],
    by_ref: dict[str, list[SaleOrderSummary]],
    ctx: Context,
) -> list[Finding]:
    settings = ctx.config.reconciliation.orders
    subject = order_subject(order.id)
    live = _live(mine)
    channel_owned = ctx.orders_owner != ctx.erp_system
    if order.state in ENDED:
        return []
    expected = order.confirmed_total
    if expected is None and ctx.config.channel(order.channel).pricing == "channel":
        expected = order.line_total()
    if not live:
        if ctx.now - order.accepted_at < settings.missing_after_s:
            return []  # still on its way
        if order.waiting_on or order.state == "credit_hold":
            return []  # waiting for a person: not in the ERP on purpose
        correction: dict[str, Any] | None = None
        why_not = None
        if not channel_owned:
            why_not = f"the ERP ({ctx.erp_system}) owns orders"
        elif order.state != "accepted":
            why_not = f"the hub recorded the order as {order.state}: a person must decide"
        else:
            correction = {"action": "redrive", "order_id": order.id}
        state = f"cancelled in the ERP ({', '.join(s.name for s in mine)})" if mine else "absent"
        return [
            Finding(
                ORDER_MISSING,
                subject,
                order.accepted_at,
                expected or Decimal(0),
                order.currency,
                f"order {order.key} ({order.state} in the hub) is {state} in the ERP",
                {
                    "order_id": order.id,
                    "order": order.key,
                    "hub_state": order.state,
                    "expected_untaxed": str(expected) if expected is not None else None,
                    "cancelled_sale_orders": [_so(s) for s in mine],
                },
                correction,
                why_not,
            )
        ]
    findings: list[Finding] = []
    recorded = {int(so["id"]) for so in order.erp.get("sale_orders") or []}
    kept: list[SaleOrderSummary] = []
    for key in keys:
        candidates = _live(by_ref.get(key, []))
        if not candidates:
            continue
        keep = next((s for s in candidates if s.id in recorded), candidates[0])
        kept.append(keep)
        extras = [s for s in candidates if s.id != keep.id]
        if not extras:
            continue
        quotations = all(s.state in ("draft", "sent") for s in extras)
        cancel: dict[str, Any] | None = None
        why_not = None
        if not channel_owned:
            why_not = f"the ERP ({ctx.erp_system}) owns orders"
        elif not quotations:
            why_not = "a duplicate is confirmed: it may be reserved or picked"
        else:
            cancel = {"action": "cancel_sale_orders", "sale_order_ids": [s.id for s in extras]}
        findings.append(
            Finding(
                ORDER_DUPLICATED,
                f"{subject}|{key}" if key != order.key else subject,
                order.accepted_at,
                sum((s.amount_untaxed for s in extras), Decimal(0)),
                extras[0].currency or order.currency,
                f"{len(candidates)} live sale orders for {key}: "
                + ", ".join(s.name for s in candidates),
                {
                    "order_id": order.id,
                    "client_order_ref": key,
                    "kept": _so(keep),
                    "duplicates": [_so(s) for s in extras],
                },
                cancel,
                why_not,
            )
        )
    if expected is not None:
        actual = sum((s.amount_untaxed for s in kept), Decimal(0))
        by_currency: dict[str, Decimal] = {}
        for so in kept:
            currency = so.currency or order.currency
            by_currency[currency] = by_currency.get(currency, Decimal(0)) + so.amount_untaxed
        currencies = sorted({s.currency for s in kept if s.currency})
        other_currency = bool(currencies) and currencies != [order.currency]
        value = abs(by_currency.get(order.currency, Decimal(0)) - expected)
        if value > settings.amount_tolerance or other_currency:
            held = " + ".join(f"{a:.2f} {c}" for c, a in sorted(by_currency.items()))
            findings.append(
                Finding(
                    ORDER_TOTAL,
                    subject,
                    order.accepted_at,
                    value,
                    order.currency,
                    f"order {order.key}: the ERP has {held or 'nothing'} untaxed, "
                    f"the hub chose {expected} {order.currency}",
                    {
                        "order_id": order.id,
                        "order": order.key,
                        "currency": order.currency,
                        "expected_untaxed": str(expected),
                        "erp_untaxed": str(actual),
                        "erp_untaxed_by_currency": {c: f"{a:.2f}" for c, a in by_currency.items()},
                        "erp_currencies": currencies,
                        "basis": "order.confirmed"
                        if order.confirmed_total is not None
                        else "channel lines",
                        "sale_orders": [_so(s) for s in kept],
                    },
                    why_not=(
                        f"a sale order in another currency is made again in {order.currency} "
                        "by a person"
                        if other_currency
                        else "prices of an order in the ERP are changed by a person"
                    ),
                )
            )
    return findings
