"""A change of an accepted order (``order.change_requested``: the channel's new version), by the
rule cancellations follow (:mod:`.ending`):

* before release, the change is applied: the order's sale order in the ERP gets the new lines
  (quantities changed, lines added, lines removed; one write, its delivery follows), and an order
  not in the ERP yet (held for credit, stock, a product) is placed with them when it goes on.
  The projection keeps the new version and ``order.changed`` says what changed;
* after release (or shipped) the warehouse may be picking it: an exception for operations names
  the order and why, and nothing is changed;
* a version with the lines the order has already changes nothing (a re-delivery, or a change
  applied before a crash: the ERP is compared with, so a change is written once).

Only the lines change here; an order split over warehouses, or a change the ERP refuses (a
cancelled or locked sale order, less than was delivered), is parked for a person.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, update

from crossdock.connectors.odoo.change_records import SaleOrderChange, WantedLine
from crossdock.connectors.odoo.port import ErpPort
from crossdock.flows.order_to_cash import events as ev
from crossdock.flows.order_to_cash import exception_kinds as kinds
from crossdock.flows.order_to_cash.intake import candidate_keys, sale_order_entry
from crossdock.flows.order_to_cash.settings import FlowSettings
from crossdock.flows.order_to_cash.work import Recorder, Work
from crossdock.flows.orders import order_total
from crossdock.flows.tables import orders
from crossdock.model import Order

__all__ = ["Change", "Changes", "quantities"]


@dataclass
class Change:
    work: Work
    order: Order
    """The channel's new version of the order."""
    reason: str
    by: str | None = None


def quantities(order: Order) -> dict[str, Decimal]:
    """The order's quantity per SKU (what a change compares)."""
    out: dict[str, Decimal] = {}
    for line in order.lines:
        out[line.sku] = out.get(line.sku, Decimal(0)) + line.quantity
    return out


def _summary(old: dict[str, Decimal], new: dict[str, Decimal]) -> str:
    parts = []
    for sku in [*old, *(s for s in new if s not in old)]:
        before, after = old.get(sku, Decimal(0)), new.get(sku, Decimal(0))
        if before != after:
            parts.append(f"{sku} {before} -> {after}")
    return ", ".join(parts) or "no line changed"


class Changes:
    def __init__(self, erp: ErpPort, settings: FlowSettings) -> None:
        self.erp = erp
        self.settings = settings

    async def change(self, changes: Sequence[Change], rec: Recorder) -> None:
        todo = [c for c in changes if self._may_change(c, rec)]
        missing = [c.work for c in todo if not c.work.sale_orders]
        if missing:  # made before a crash, or never: look them up by their natural keys
            keys = {w.order_id: candidate_keys(w.order, self.settings) for w in missing}
            found = await self.erp.find_sale_orders([k for ks in keys.values() for k in ks])
            for work in missing:
                refs = [(found[k], code) for k, code in keys[work.order_id].items() if k in found]
                if refs:
                    work.erp["sale_orders"] = [sale_order_entry(r, code) for r, code in refs]
        for change in todo:
            await self._apply(change, rec)

    def _may_change(self, change: Change, rec: Recorder) -> bool:
        work = change.work
        old, new = quantities(work.order), quantities(change.order)
        if work.final:
            rec.step(work, "change", "skipped", {"reason": f"the order is already {work.state}"})
            return False
        if old == new:
            rec.step(work, "change", "skipped", {"reason": "the order has these lines already"})
            return False
        if work.state in ("released", "shipped"):
            what = _summary(old, new)
            rec.park(
                work,
                kinds.CHANGE_AFTER_RELEASE,
                f"order {work.order.external_ref} of {work.order.channel} changed after "
                f"release ({change.reason}: {what}): the warehouse may be picking it, "
                "nothing was changed",
                step="change_requested",
                detail={"by": change.by, "lines": {s: str(q) for s, q in new.items()}},
            )
            return False
        return True

    async def _apply(self, change: Change, rec: Recorder) -> None:
        work = change.work
        sale_orders = work.sale_orders
        if len(sale_orders) > 1:
            rec.park(
                work,
                kinds.CHANGE_FAILED,
                f"order {work.order.external_ref} is split over "
                f"{len(sale_orders)} sale orders: change them by hand "
                f"({_summary(quantities(work.order), quantities(change.order))})",
                step="change",
            )
            return
        done = SaleOrderChange(0)
        if sale_orders:
            try:
                done = await self.erp.change_sale_order_lines(
                    int(sale_orders[0]["id"]), self._wanted(change)
                )
            except Exception as exc:
                if not kinds.is_record_error(exc):
                    raise
                rec.park(work, kinds.CHANGE_FAILED, str(exc), step="change")
                return
        else:  # not in the ERP yet: placed with the new lines when it goes on
            old, new = quantities(work.order), quantities(change.order)
            done = SaleOrderChange(
                0,
                changed={s: (q, new[s]) for s, q in old.items() if s in new and new[s] != q},
                added={s: q for s, q in new.items() if s not in old},
                removed={s: q for s, q in old.items() if s not in new},
            )
        self._keep(work, change.order, rec)
        data = {
            "reason": change.reason,
            "by": change.by,
            "changed": {s: {"from": str(a), "to": str(b)} for s, (a, b) in done.changed.items()},
            "added": {s: str(q) for s, q in done.added.items()},
            "removed": {s: str(q) for s, q in done.removed.items()},
            "sale_orders": work.sale_orders,
        }
        rec.move(
            work,
            work.state,
            step="changed",
            detail={k: data[k] for k in ("reason", "by", "changed", "added", "removed")},
            events=[ev.order_event(ev.CHANGED, work.record, data, work.trigger)],
        )

    def _wanted(self, change: Change) -> list[WantedLine]:
        channel_prices = self.settings.channel(change.order.channel).pricing == "channel"
        return [
            WantedLine(
                line.sku,
                line.quantity,
                line.unit_price if channel_prices else None,
                line.name,
            )
            for line in change.order.lines
        ]

    def _keep(self, work: Work, order: Order, rec: Recorder) -> None:
        """The projection keeps the new version (what the order's next steps work with)."""
        body = order.model_dump(mode="json")
        work.record = dataclasses.replace(work.record, body=body, total=order_total(order))
        work.__dict__.pop("order", None)  # the cached parsed order is the old version
        order_id, text, total = work.order_id, json.dumps(body), work.record.total

        def write(conn: Connection) -> None:
            conn.execute(
                update(orders).where(orders.c.id == order_id).values(body=text, total=total)
            )

        rec.batch.write(write)
