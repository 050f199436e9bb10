"""Step 9 of order-to-cash, and the end of an order a person gave up on: cancel (or fail) it in
the ERP and in the projection.

Before release the order's sale orders are cancelled in the ERP (found by their natural keys when
the projection has none yet). After release the warehouse may already be picking, so a cancel
request becomes an exception for operations (``cancel_anyway`` / ``keep``); a shipped order is not
cancelled at all (that is a return).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from crossdock.connectors.odoo.port import ErpPort
from crossdock.flows.order_to_cash import events as ev
from crossdock.flows.order_to_cash import exception_kinds as kinds
from crossdock.flows.order_to_cash.intake import candidate_keys, sale_order_entry
from crossdock.flows.order_to_cash.settings import FlowSettings
from crossdock.flows.order_to_cash.work import Recorder, Work


@dataclass
class Ending:
    work: Work
    final: str
    """``cancelled`` or ``failed``."""
    reason: str
    by: str | None = None
    forced: bool = False
    """A person confirmed it after release (``cancel_anyway``)."""


class Endings:
    def __init__(self, erp: ErpPort, settings: FlowSettings) -> None:
        self.erp = erp
        self.settings = settings

    async def end(self, endings: Sequence[Ending], rec: Recorder) -> None:
        todo = [e for e in endings if self._may_end(e, rec)]
        missing = [e.work for e in todo if not e.work.sale_orders]
        if missing:
            keys = {w.order_id: candidate_keys(w.order, self.settings) for w in missing}
            found = await self.erp.find_sale_orders([k for ks in keys.values() for k in ks])
            for work in missing:
                refs = [(found[k], code) for k, code in keys[work.order_id].items() if k in found]
                if refs:
                    work.erp["sale_orders"] = [sale_order_entry(r, code) for r, code in refs]
        ids = [so["id"] for e in todo for so in e.work.sale_orders]
        outcome = await self.erp.cancel_sale_orders(ids) if ids else None
        for ending in todo:
            work = ending.work
            errors = [
                outcome.failed[so["id"]]
                for so in work.sale_orders
                if outcome is not None and so["id"] in outcome.failed
            ]
            if errors:
                rec.park(work, kinds.CANCEL_FAILED, str(errors[0]), step="cancel")
                continue
            orders = [{**so, "state": "cancel"} for so in work.sale_orders]
            data = {"reason": ending.reason, "by": ending.by, "sale_orders": orders}
            rec.withdraw(work, f"order {ending.final}: {ending.reason}")
            rec.move(
                work,
                ending.final,
                erp={"sale_orders": orders} if orders else None,
                detail={"reason": ending.reason, "by": ending.by},
                events=[
                    ev.order_event(
                        ev.CANCELLED if ending.final == "cancelled" else ev.FAILED,
                        work.record,
                        data,
                    )
                ],
            )

    def _may_end(self, ending: Ending, rec: Recorder) -> bool:
        work = ending.work
        if work.final:
            rec.step(
                work, ending.final, "skipped", {"reason": f"the order is already {work.state}"}
            )
            return False
        if work.state == "shipped" and ending.forced:
            rec.step(
                work,
                "cancel",
                "skipped",
                {"reason": "already shipped: handle it as a return", "by": ending.by},
            )
            return False
        if work.state in ("released", "shipped") and not ending.forced:
            rec.park(
                work,
                kinds.CANCEL_AFTER_RELEASE,
                f"cancel requested after release ({ending.reason}): the warehouse may be "
                "picking it",
                step="cancel_requested",
                detail={"by": ending.by},
            )
            return False
        return True
