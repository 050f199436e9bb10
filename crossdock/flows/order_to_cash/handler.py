"""The order-to-cash handler: one call takes a batch of events, applies them in order per order,
and does the ERP work of each kind of event for all orders of the batch together.

A batch may hold several events of one order (accepted then cancel requested, say): they are
applied in waves — the first event of every order, then the second, ... — so each order's events
keep their order while each wave is still batched toward the ERP. Decisions become projection
writes and events committed with the acknowledgement (see :mod:`.work`).

Failures: an ERP error about a record parks that order in the exceptions queue (the others go on);
a transient or technical error is raised, so the engine retries the batch with backoff (and
isolates the event that keeps failing). While the ERP's circuit is open (it is down), the batch is
handed back as ``Unavailable``: the orders wait for the next probe without using up attempts, so
an outage of any length ends with the backlog draining, not in the dead letters.
"""

from __future__ import annotations

from typing import Any

import structlog
from pydantic import ValidationError

from crossdock.connectors.odoo.errors import OdooTransientError
from crossdock.connectors.odoo.port import ErpPort
from crossdock.engine import Batch, Engine, Event, Unavailable, find_event
from crossdock.flows.order_to_cash import events as ev
from crossdock.flows.order_to_cash import exception_kinds as kinds
from crossdock.flows.order_to_cash.changes import Change, Changes
from crossdock.flows.order_to_cash.ending import Ending, Endings
from crossdock.flows.order_to_cash.intake import OrderPlacement
from crossdock.flows.order_to_cash.settings import FlowSettings
from crossdock.flows.order_to_cash.shipping import ShipmentItem, Shipping
from crossdock.flows.order_to_cash.work import Recorder, Work, load_snapshot
from crossdock.flows.orders import order_subject
from crossdock.model import Order, Shipment

log = structlog.get_logger(__name__)


class _Wave:
    def __init__(self) -> None:
        self.advance: list[Work] = []
        self.ship: list[ShipmentItem] = []
        self.end: list[Ending] = []
        self.change: list[Change] = []


class OrderToCash:
    """The flow's state across batches: the ERP port, the settings and the engine (for reads)."""

    def __init__(self, engine: Engine, erp: ErpPort, settings: FlowSettings) -> None:
        self.engine = engine
        self.erp = erp
        self.settings = settings
        self.placement = OrderPlacement(erp, settings, engine.guard)
        self.shipping = Shipping(erp, settings, engine.guard)
        self.endings = Endings(erp, settings)
        self.changes = Changes(erp, settings)

    async def handle(self, batch: Batch) -> None:
        try:
            await self._handle(batch)
        except (OdooTransientError, Unavailable) as exc:
            wait = self.erp.unavailable_for()
            if wait is None:
                raise
            # at least a second: a half-open circuit has its probe in flight already
            raise Unavailable(f"the ERP is unavailable: {exc}", max(1.0, wait)) from exc

    async def _handle(self, batch: Batch) -> None:
        queues: dict[str, list[Event]] = {}
        for event in batch.events:
            order_id = ev.order_id_of(event.subject)
            if order_id is not None:
                queues.setdefault(order_id, []).append(event)
        if not queues:
            return
        ids = list(queues)
        snapshot = await self.engine.db.read(
            lambda conn: load_snapshot(conn, ids, [order_subject(i) for i in ids])
        )
        works: dict[str, Work] = {}
        for order_id in ids:
            record = snapshot.orders.get(order_id)
            if record is None:
                log.warning("order_to_cash.unknown_order", order_id=order_id)
                continue
            subject = order_subject(order_id)
            works[order_id] = Work(
                record=record,
                state=record.state,
                erp=dict(record.erp),
                open_types=set(snapshot.open_types.get(subject, ())),
                credit_approved=subject in snapshot.approved,
            )
        rec = Recorder(batch)
        while True:
            wave = {oid: queues[oid].pop(0) for oid in works if queues[oid]}
            if not wave:
                return
            await self._run_wave(wave, works, queues, rec)

    async def _run_wave(
        self,
        wave: dict[str, Event],
        works: dict[str, Work],
        queues: dict[str, list[Event]],
        rec: Recorder,
    ) -> None:
        todo = _Wave()
        for order_id, event in wave.items():
            work = works[order_id]
            work.event = event
            if event.type == ev.ACCEPTED:
                if work.state != "accepted" or work.open_types:
                    log.info("order_to_cash.accepted_again", order_id=order_id, state=work.state)
                elif not any(e.type == ev.CANCEL_REQUESTED for e in queues[order_id]):
                    todo.advance.append(work)
            elif event.type == ev.CANCEL_REQUESTED:
                reason = str(event.data.get("reason") or "cancel requested by the channel")
                by = event.data.get("by") or event.source
                todo.end.append(Ending(work, "cancelled", reason, str(by)))
            elif event.type == ev.SHIPMENT_CONFIRMED:
                self._shipment(work, event, todo, rec)
            elif event.type == ev.CHANGE_REQUESTED:
                self._change(work, event, todo, rec)
            elif event.type == ev.EXCEPTION_RESOLVED:
                await self._resolution(work, event, todo, rec)
        await self.endings.end(todo.end, rec)
        await self.changes.change(todo.change, rec)
        await self.placement.advance([w for w in todo.advance if w.state != "shipped"], rec)
        await self.shipping.invoice([w for w in todo.advance if w.state == "shipped"], rec)
        await self.shipping.ship(todo.ship, rec)

    def _shipment(self, work: Work, event: Event, todo: _Wave, rec: Recorder) -> None:
        try:
            shipment = Shipment.model_validate(event.data.get("shipment"))
        except ValidationError as exc:
            rec.park(
                work,
                kinds.SHIPMENT_REJECTED,
                "the shipment is not valid: "
                + "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:3]
                ),
                step="shipment",
            )
            return
        todo.ship.append((work, shipment, event.id))

    def _change(self, work: Work, event: Event, todo: _Wave, rec: Recorder) -> None:
        try:
            order = Order.model_validate(event.data.get("order"))
        except ValidationError as exc:
            rec.park(
                work,
                kinds.CHANGE_FAILED,
                "the changed order is not valid: "
                + "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:3]
                ),
                step="change_requested",
            )
            return
        reason = str(event.data.get("reason") or "changed by the channel")
        by = event.data.get("by") or event.source
        todo.change.append(Change(work, order, reason, str(by)))

    async def _resolution(self, work: Work, event: Event, todo: _Wave, rec: Recorder) -> None:
        data: dict[str, Any] = event.data
        kind = kinds.KINDS.get(str(data.get("type")))
        if kind is None:
            return
        action, by, note = str(data.get("action")), data.get("by"), data.get("note")
        work.open_types.discard(kind.type)
        rec.step(work, f"{kind.type}_resolved", "done", {"action": action, "by": by, "note": note})
        reason = f"{kind.type} resolved with {action}" + (f": {note}" if note else "")
        if action == "approve":
            work.credit_approved = True
            todo.advance.append(work)
        elif action == "reject":
            todo.end.append(
                Ending(work, "cancelled", f"credit rejected{': ' + note if note else ''}", by)
            )
        elif action == "fail":
            todo.end.append(Ending(work, "failed", reason, by))
        elif action == "cancel_anyway":
            todo.end.append(Ending(work, "cancelled", reason, by, forced=True))
        elif action in ("retry", "backorder") and kind is kinds.SHIPMENT_REJECTED:
            await self._retry_shipment(work, todo, rec)
        elif action in ("retry", "backorder"):
            if kind is kinds.UNKNOWN_PRODUCT:
                self.erp.invalidate_products([line.sku for line in work.order.lines])
            work.allow_backorder = action == "backorder"
            todo.advance.append(work)
        # keep, ignore: the step above records the decision; nothing else changes

    async def _retry_shipment(self, work: Work, todo: _Wave, rec: Recorder) -> None:
        pending = work.erp.get("pending_shipment")
        event = None
        if pending:
            event = await self.engine.db.read(lambda conn: find_event(conn, str(pending)))
        if event is None:
            rec.step(work, "shipment", "skipped", {"reason": "no pending shipment to retry"})
            return
        self._shipment(work, event, todo, rec)
