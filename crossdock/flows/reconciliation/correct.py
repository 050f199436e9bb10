"""Applying the owner's value to a drift item.

Two ways, by what the difference is:

* **in the ERP, at once** — ``set_stock`` (count the warehouse's stock location so its total is
  the WMS's) and ``cancel_sale_orders`` (cancel duplicate quotations). Idempotent: setting the
  same count or cancelling a cancelled order again changes nothing. The item is closed as
  ``corrected``; a later run opens a new item if the difference comes back.
* **through the order-to-cash flow** — ``redrive`` appends ``order.accepted`` for an order still
  ``accepted`` in the hub (the flow looks its sale orders up by natural key before creating
  anything; the idempotency key makes it once per drift item), and ``invoice`` opens the flow's
  own ``invoice_failed`` exception and resolves it with ``retry`` in one transaction (the flow then
  invoices what was delivered, records the invoice and emits ``invoice.posted``). The item becomes
  ``correcting`` until a run finds it gone.

Every applied correction gets an audit entry (written by the caller with the run).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from crossdock.connectors.odoo.errors import OdooError
from crossdock.connectors.odoo.records import StockSetting
from crossdock.engine import NewEvent, insert_events, new_event_id
from crossdock.flows.exceptions import open_exception, resolve_exception
from crossdock.flows.order_to_cash.exception_kinds import INVOICE_FAILED, is_record_error
from crossdock.flows.orders import get_order, order_refs, order_subject
from crossdock.flows.reconciliation.context import Context

__all__ = ["ACTOR", "SOURCE", "Applied", "apply_correction"]

SOURCE = "crossdock.reconciliation"
"""The ``source`` of the events reconciliation appends."""
ACTOR = "crossdock.reconciliation"

WriteFn = Callable[[Connection, int], None]
"""Run in the run's transaction, with the engine's partition count."""


@dataclass
class Applied:
    ok: bool
    state: str = "closed"
    """``closed`` (done in the ERP) or ``correcting`` (handed to the flow)."""
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    write: WriteFn | None = None


async def apply_correction(
    ctx: Context, correction: dict[str, Any], *, item_id: str, run_id: str
) -> Applied:
    """Apply one correction (see the module docstring); an ERP refusal is a failed correction,
    an unavailable ERP raises (the run fails and is retried)."""
    action = correction["action"]
    try:
        if action == "set_stock":
            quant_ids = await ctx.erp.set_stock(
                [
                    StockSetting(
                        sku=str(correction["sku"]),
                        quantity=Decimal(str(correction["quantity"])),
                        warehouse=str(correction["warehouse"]),
                    )
                ]
            )
            return Applied(True, "closed", {"quant_ids": quant_ids})
        if action == "cancel_sale_orders":
            ids = [int(i) for i in correction["sale_order_ids"]]
            outcome = await ctx.erp.cancel_sale_orders(ids)
            if outcome.failed:
                first = next(iter(outcome.failed.values()))
                return Applied(False, error=str(first))
            return Applied(True, "closed", {"cancelled": ids})
    except OdooError as exc:
        if not is_record_error(exc):
            raise
        return Applied(False, error=str(exc))
    if action == "redrive":
        return await _redrive(ctx, str(correction["order_id"]), item_id, run_id)
    if action == "invoice":
        return _invoice(str(correction["order_id"]), item_id, run_id, ctx.now)
    return Applied(False, error=f"unknown correction {action!r}")


async def _redrive(ctx: Context, order_id: str, item_id: str, run_id: str) -> Applied:
    record = await ctx.db.read(lambda conn: get_order(conn, order_id))
    if record is None:
        return Applied(False, error=f"the hub has no order {order_id}")
    if record.state != "accepted":  # the flow moved it on meanwhile: the next run checks
        return Applied(True, "correcting", {"skipped": f"the order is {record.state} now"})
    event = NewEvent(
        "order.accepted",
        SOURCE,
        order_subject(order_id),
        {
            **order_refs(record),
            "order": record.body,
            "redrive": {"drift_item": item_id, "run_id": run_id},
        },
        idempotency_key=f"redrive:{order_id}:{item_id}",
        id=new_event_id(),
    )

    def write(conn: Connection, partitions: int) -> None:
        insert_events(conn, [event], partitions)

    return Applied(True, "correcting", {"event_id": event.id}, write=write)


def _invoice(order_id: str, item_id: str, run_id: str, now: float) -> Applied:
    exception_id = new_event_id()
    note = f"reconciliation run {run_id} (drift item {item_id}): delivered, not invoiced"

    def write(conn: Connection, partitions: int) -> None:
        opened = open_exception(
            conn,
            type=INVOICE_FAILED.type,
            owner=INVOICE_FAILED.owner,
            subject=order_subject(order_id),
            reason="reconciliation found delivered quantities not invoiced",
            actions=list(INVOICE_FAILED.actions),
            now=now,
            exception_id=exception_id,
        )
        if opened.id != exception_id:
            return  # one was open already: a person decides it, the flow waits for them
        _, event = resolve_exception(
            conn, exception_id, action="retry", by=ACTOR, note=note, now=now
        )
        insert_events(conn, [event], partitions)

    return Applied(True, "correcting", {"exception_id": exception_id}, write=write)


def describe(correction: dict[str, Any]) -> str:
    """One line for people: what applying the owner's value does."""
    action = correction.get("action")
    if action == "set_stock":
        return (
            f"count {correction['sku']} at {correction['quantity']} in the stock location of "
            f"{correction['warehouse']}"
        )
    if action == "cancel_sale_orders":
        return f"cancel duplicate sale orders {json.dumps(correction['sale_order_ids'])}"
    if action == "redrive":
        return "hand the order to the order-to-cash flow again"
    if action == "invoice":
        return "let the order-to-cash flow invoice the delivered quantities"
    return str(action)
