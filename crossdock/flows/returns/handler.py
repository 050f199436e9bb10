"""The returns handler: a batch of a return's events applied in order, the ERP work of each done
through the ERP port, and the outcome written with the batch's acknowledgement.

- ``return.requested`` (or customer service's approval): a return picking per original delivery,
  keyed ``<rma>/<delivery id>`` in the ERP, then ``return.authorized`` with the RMA number.
- ``return.receipt_confirmed``: the return pickings validated with what came (no more than was
  authorised), inspected goods quarantined or scrapped, ``return.received``, availability
  republished for what went back to stock; a short or unexpected parcel opens an exception for
  customer service before any money moves.
- then the financial outcome: a credit note for the received quantities (``return.refunded`` or
  ``return.credited``), or a replacement order through order to cash's accept path
  (``return.exchanged``).

Every ERP write is keyed by the RMA, so a batch redelivered after a crash finds what it made
before. A record the ERP refuses opens an exception (retry or close); a transient failure is
raised for the engine's retries, and while the ERP's circuit is open the batch is handed back as
``Unavailable`` and waits, in order, without using up attempts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import Connection

from crossdock.config.returns import ReturnsConfig
from crossdock.connectors.odoo.errors import (
    OdooBusinessError,
    OdooError,
    OdooMissingError,
    OdooTransientError,
)
from crossdock.connectors.odoo.port import ErpPort
from crossdock.connectors.odoo.returns_records import ReturnDisposal
from crossdock.engine import Batch, Engine, Event, Unavailable, new_event_id
from crossdock.flows.exceptions import bounded, open_exception
from crossdock.flows.inventory.events import sync_request
from crossdock.flows.order_to_cash.accept import accept, intake
from crossdock.flows.orders import OrderRecord, get_orders
from crossdock.flows.returns import events as ev
from crossdock.flows.returns.intake import APPROVAL
from crossdock.flows.returns.store import (
    ReturnRecord,
    add_steps,
    get_returns,
    list_returns,
    return_subject,
    rma_of,
    step_row,
    write_state,
)
from crossdock.model import Order

log = structlog.get_logger(__name__)

MISMATCH = "return_mismatch"
MISMATCH_ACTIONS = ["settle_received", "close"]
FAILED = "return_failed"
FAILED_ACTIONS = ["retry", "close"]


def _qty(value: Any) -> Decimal:
    return Decimal(str(value))


def _text(quantities: dict[str, Decimal]) -> dict[str, str]:
    return {sku: str(q) for sku, q in quantities.items()}


@dataclass
class ReturnWork:
    """A return being worked on in this batch: its row plus what the batch changed so far."""

    record: ReturnRecord
    state: str
    erp: dict[str, Any]
    order: OrderRecord | None
    event: Event | None = None
    changed: float | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rma(self) -> str:
        return self.record.rma

    @property
    def trigger(self) -> str:
        return self.event.id if self.event is not None else "none"

    def requested(self) -> dict[str, Decimal]:
        return {line["sku"]: _qty(line["quantity"]) for line in self.record.lines}


def _record_error(exc: BaseException) -> bool:
    return isinstance(exc, OdooBusinessError | OdooMissingError)


class Returns:
    """The flow's state across batches: the engine (reads, partitions), the ERP port, the rules."""

    def __init__(
        self,
        engine: Engine,
        erp: ErpPort,
        config: ReturnsConfig,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.erp = erp
        self.config = config
        self.clock = clock

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
        events = [e for e in batch.events if rma_of(e.subject) is not None]
        if not events:
            return
        rmas = list(dict.fromkeys(str(rma_of(e.subject)) for e in events))

        def read(conn: Connection) -> tuple[dict[str, ReturnRecord], dict[str, OrderRecord]]:
            found = get_returns(conn, rmas)
            return found, get_orders(conn, list({r.order_id for r in found.values()}))

        records, orders = await self.engine.db.read(read)
        works = {
            rma: ReturnWork(r, r.state, dict(r.erp), orders.get(r.order_id))
            for rma, r in records.items()
        }
        batch.write(lambda conn: self._write(conn, works))
        for event in events:
            work = works.get(str(rma_of(event.subject)))
            if work is None:
                log.warning("returns.unknown_return", subject=event.subject)
                continue
            work.event = event
            await self._apply(work, event, batch)

    async def _apply(self, work: ReturnWork, event: Event, batch: Batch) -> None:
        if event.type == ev.REQUESTED:
            if work.state == "requested":
                await self._authorize(work, batch)
        elif event.type == ev.RECEIPT_CONFIRMED:
            if work.state == "authorized":
                work.erp["receipt"] = event.data.get("receipt") or {}
                await self._receive(work, batch)
            else:
                self._step(work, "receipt", "skipped", {"reason": f"the return is {work.state}"})
        elif event.type == ev.EXCEPTION_RESOLVED:
            await self._resolution(work, event.data, batch)

    # ------------------------------------------------------------------ recording

    def _write(self, conn: Connection, works: dict[str, ReturnWork]) -> None:
        for work in works.values():
            if work.changed is not None:
                write_state(conn, work.rma, work.state, work.erp, work.changed)
            add_steps(conn, work.steps)

    def _step(
        self, work: ReturnWork, step: str, status: str, detail: dict[str, Any] | None = None
    ) -> None:
        work.steps.append(step_row(work.rma, step, status, self.clock(), detail, work.trigger))

    def _move(
        self,
        work: ReturnWork,
        state: str,
        detail: dict[str, Any] | None = None,
        status: str = "done",
        step: str | None = None,
    ) -> None:
        work.state = state
        work.changed = self.clock()
        self._step(work, step or state, status, detail)

    def _current(self, work: ReturnWork) -> ReturnRecord:
        r = work.record
        return ReturnRecord(
            r.rma,
            r.channel,
            r.return_ref,
            r.order_id,
            work.state,
            r.outcome,
            r.currency,
            r.amount,
            r.body,
            work.erp,
            r.created_at,
            r.updated_at,
        )

    def _park(
        self,
        work: ReturnWork,
        batch: Batch,
        kind: str,
        actions: list[str],
        reason: str,
        *,
        state: str,
        step: str,
    ) -> None:
        reason = bounded(reason)
        self._move(work, state, {"exception": kind, "reason": reason}, "waiting", step)
        exception_id, now, subject = new_event_id(), self.clock(), return_subject(work.rma)

        def write(conn: Connection) -> None:
            open_exception(
                conn,
                type=kind,
                owner="customer_service",
                subject=subject,
                reason=reason,
                actions=actions,
                now=now,
                exception_id=exception_id,
            )

        batch.write(write)
        batch.emit(
            ev.return_event(
                ev.EXCEPTION,
                self._current(work),
                {
                    "exception_id": exception_id,
                    "type": kind,
                    "owner": "customer_service",
                    "reason": reason,
                    "actions": actions,
                },
                kind,
                work.trigger,
            )
        )

    def _failed(self, work: ReturnWork, batch: Batch, step: str, exc: OdooError) -> None:
        work.erp["failed_step"] = step
        self._park(
            work,
            batch,
            FAILED,
            FAILED_ACTIONS,
            f"the ERP refused the {step}: {exc}",
            state=work.state,
            step=step,
        )

    # ------------------------------------------------------------------ authorisation

    async def _authorize(self, work: ReturnWork, batch: Batch) -> None:
        if work.order is None:
            self._failed(work, batch, "authorize", OdooBusinessError("the order is not known"))
            return
        others = await self.engine.db.read(
            lambda c: list_returns(c, order_id=work.record.order_id, limit=10_000)
        )
        taken: dict[tuple[int, str], Decimal] = {}
        for other in others:
            if other.rma == work.rma:
                continue
            for picking in other.erp.get("pickings") or []:
                for sku, q in picking["quantities"].items():
                    slot = (int(picking["delivery_id"]), sku)
                    taken[slot] = taken.get(slot, Decimal(0)) + _qty(q)
        plan: dict[int, dict[str, Decimal]] = {}
        for sku, wanted in work.requested().items():
            for shipment in work.order.erp.get("shipments") or []:
                if wanted <= 0:
                    break
                delivery = int(shipment["picking_id"])
                room = _qty((shipment.get("shipped") or {}).get(sku, 0)) - taken.get(
                    (delivery, sku), Decimal(0)
                )
                part = min(room, wanted)
                if part > 0:
                    plan.setdefault(delivery, {})[sku] = part
                    taken[(delivery, sku)] = taken.get((delivery, sku), Decimal(0)) + part
                    wanted -= part
        if not plan:
            self._failed(
                work,
                batch,
                "authorize",
                OdooBusinessError("no validated delivery of the order holds these goods"),
            )
            return
        pickings = []
        try:
            for delivery, quantities in plan.items():
                ref = await self.erp.create_return_picking(
                    f"{work.rma}/{delivery}", delivery, quantities
                )
                pickings.append(
                    {
                        "id": ref.id,
                        "name": ref.name,
                        "delivery_id": delivery,
                        "quantities": _text(quantities),
                    }
                )
        except OdooError as exc:
            if not _record_error(exc):
                raise
            self._failed(work, batch, "authorize", exc)
            return
        work.erp["pickings"] = pickings
        work.erp.pop("failed_step", None)
        self._move(work, "authorized", {"pickings": [p["name"] for p in pickings]})
        batch.emit(
            ev.return_event(
                ev.AUTHORIZED,
                self._current(work),
                {"lines": work.record.lines, "pickings": [p["name"] for p in pickings]},
            )
        )

    # ------------------------------------------------------------------ receipt

    async def _receive(self, work: ReturnWork, batch: Batch) -> None:
        receipt_lines: list[dict[str, Any]] = list(work.erp["receipt"].get("lines") or [])
        expected = work.requested()
        came: dict[str, Decimal] = {}
        for line in receipt_lines:
            came[line["sku"]] = came.get(line["sku"], Decimal(0)) + _qty(line["quantity"])
        accepted = {sku: min(q, came.get(sku, Decimal(0))) for sku, q in expected.items()}
        # what goes to the ERP: each picking takes its share of what came, in order
        shares: list[tuple[dict[str, Any], dict[str, Decimal]]] = []
        left = dict(accepted)
        for picking in work.erp.get("pickings") or []:
            share: dict[str, Decimal] = {}
            for sku, q in picking["quantities"].items():
                part = min(_qty(q), left.get(sku, Decimal(0)))
                share[sku] = part
                left[sku] = left.get(sku, Decimal(0)) - part
            shares.append((picking, share))
        # each line's disposition takes the received quantity in the receipt's order
        pool = [
            [line["sku"], _qty(line["quantity"]), line["disposition"]] for line in receipt_lines
        ]
        restocked: set[str] = set()
        try:
            for picking, share in shares:
                await self.erp.receive_return(int(picking["id"]), share)
                disposals = []
                for sku, q in share.items():
                    for entry in pool:
                        if entry[0] != sku or q <= 0 or entry[1] <= 0:
                            continue
                        part = min(q, entry[1])
                        entry[1] -= part
                        q -= part
                        disposals.append(ReturnDisposal(sku, part, entry[2]))
                        if entry[2] == "restock":
                            restocked.add(sku)
                names = await self.erp.dispose_returned(
                    str(picking["name"]) + ":" + work.rma,
                    int(picking["id"]),
                    disposals,
                    quarantine_location=self.config.quarantine_location,
                )
                picking["received"] = _text(share)
                picking["disposals"] = [
                    {"sku": d.sku, "quantity": str(d.quantity), "disposition": d.disposition}
                    for d in disposals
                ]
                picking["documents"] = names
        except OdooError as exc:
            if not _record_error(exc):
                raise
            self._failed(work, batch, "receive", exc)
            return
        work.erp.pop("failed_step", None)
        work.erp["accepted"] = _text(accepted)
        short = {
            s: str(q - came.get(s, Decimal(0)))
            for s, q in expected.items()
            if came.get(s, Decimal(0)) < q
        }
        unexpected = {
            s: str(q - expected.get(s, Decimal(0)))
            for s, q in came.items()
            if q > expected.get(s, Decimal(0))
        }
        detail = {"received": _text(came), "short": short, "unexpected": unexpected}
        self._move(work, "received", detail)
        batch.emit(
            ev.return_event(
                ev.RECEIVED,
                self._current(work),
                {
                    "lines": receipt_lines,
                    "accepted": work.erp["accepted"],
                    "short": short,
                    "unexpected": unexpected,
                },
            )
        )
        if restocked:
            batch.emit(sync_request("return restocked", publish=sorted(restocked)))
        if short or unexpected:
            parts = [f"{q} of {s} missing" for s, q in short.items()]
            parts += [f"{q} of {s} not on the return" for s, q in unexpected.items()]
            self._park(
                work,
                batch,
                MISMATCH,
                MISMATCH_ACTIONS,
                f"return {work.record.return_ref} ({work.rma}) does not match what was "
                f"authorised: {', '.join(parts)}",
                state="mismatch",
                step="inspection",
            )
            return
        await self._settle(work, batch)

    # ------------------------------------------------------------------ financial outcome

    async def _settle(self, work: ReturnWork, batch: Batch) -> None:
        quantities = {
            s: _qty(q) for s, q in (work.erp.get("accepted") or {}).items() if _qty(q) > 0
        }
        if not quantities:
            self._move(work, "closed", {"reason": "nothing was received to settle"})
            return
        if work.record.outcome == "exchange":
            self._exchange(work, quantities, batch)
            return
        invoices = (work.order.erp.get("invoices") if work.order else None) or []
        posted = [int(i["id"]) for i in invoices if i.get("status") != "draft" and i.get("id")]
        try:
            plan = await self._credit_plan(work, posted, quantities)
            notes = [
                await self.erp.create_credit_note(
                    work.rma if len(plan) == 1 else f"{work.rma}/{invoice_id}", invoice_id, part
                )
                for invoice_id, part in plan.items()
            ]
        except OdooError as exc:
            if not _record_error(exc):
                raise
            self._failed(work, batch, "credit", exc)
            return
        work.erp.pop("failed_step", None)
        entries = [
            {
                "id": note.id,
                "number": note.number,
                "state": note.state,
                "invoice_id": note.invoice_id,
                "currency": note.currency,
                "subtotal": str(note.subtotal),
                "total": str(note.total),
                "quantities": _text(plan[note.invoice_id]),
            }
            for note in notes
        ]
        work.erp["credit_notes"] = entries
        total = sum((note.total for note in notes), Decimal(0))
        refund = work.record.outcome == "refund"
        self._move(
            work,
            "refunded" if refund else "credited",
            {"credit_notes": [note.number for note in notes], "total": str(total)},
        )
        batch.emit(
            ev.return_event(
                ev.REFUNDED if refund else ev.CREDITED,
                self._current(work),
                {"credit_notes": entries, "total": str(total), "currency": work.record.currency},
            )
        )

    async def _credit_plan(
        self, work: ReturnWork, posted: list[int], quantities: dict[str, Decimal]
    ) -> dict[int, dict[str, Decimal]]:
        """What each invoice of the order credits: an order shipped in parts has an invoice per
        part, so each SKU is credited on the invoices that billed it, less what other returns
        of the order credited on them already."""
        if not posted:
            raise OdooBusinessError("the order has no posted invoice to credit")
        billed = await self.erp.invoice_lines(posted)
        others = await self.engine.db.read(
            lambda c: list_returns(c, order_id=work.record.order_id, limit=10_000)
        )
        credited: dict[tuple[int, str], Decimal] = {}
        for other in others:
            if other.rma == work.rma:
                continue
            for entry in other.erp.get("credit_notes") or []:
                for sku, q in entry["quantities"].items():
                    slot = (int(entry["invoice_id"]), sku)
                    credited[slot] = credited.get(slot, Decimal(0)) + _qty(q)
        left = dict(quantities)
        plan: dict[int, dict[str, Decimal]] = {}
        for invoice_id in posted:
            for sku, wanted in left.items():
                room = billed.get(invoice_id, {}).get(sku, Decimal(0)) - credited.get(
                    (invoice_id, sku), Decimal(0)
                )
                take = min(room, wanted)
                if take > 0:
                    plan.setdefault(invoice_id, {})[sku] = take
                    left[sku] = wanted - take
        short = {sku: q for sku, q in left.items() if q > 0}
        if short:
            raise OdooBusinessError(
                "the order's invoices bill less than is credited: "
                + ", ".join(f"{q} of {sku}" for sku, q in short.items())
            )
        return plan

    def _exchange(self, work: ReturnWork, quantities: dict[str, Decimal], batch: Batch) -> None:
        assert work.order is not None
        original = work.order.body
        body = {
            key: original[key]
            for key in (
                "source",
                "channel",
                "currency",
                "customer",
                "shipping_address",
                "billing_address",
                "shipping_method",
                "customer_reference",
            )
            if original.get(key) is not None
        }
        prices = {line["sku"]: line for line in original["lines"]}
        body["external_ref"] = f"{work.order.external_ref}-{work.rma}"
        body["note"] = f"Replacement for return {work.record.return_ref} ({work.rma})"
        body["lines"] = [
            {
                "sku": sku,
                "quantity": str(q),
                "uom": prices[sku].get("uom", "unit"),
                "unit_price": "0",
            }
            for sku, q in quantities.items()
        ]
        order = Order.model_validate(body)
        item = intake(
            order, f"returns:{work.rma}", None, "crossdock.returns", self.engine.partitions
        )
        replacement = {"order_id": item.fresh.order_id, "external_ref": order.external_ref}

        def write(conn: Connection) -> None:
            [answer] = accept(conn, [item])
            # a redelivered batch finds the order accepted before: name that one
            replacement["order_id"] = str(answer.body.get("id") or replacement["order_id"])

        batch.write(write)
        work.erp["replacement"] = replacement
        self._move(work, "exchanged", {"replacement": order.external_ref})
        batch.emit(
            ev.return_event(
                ev.EXCHANGED,
                self._current(work),
                {"replacement": {"external_ref": order.external_ref, "lines": body["lines"]}},
            )
        )

    # ------------------------------------------------------------------ decisions

    async def _resolution(self, work: ReturnWork, data: dict[str, Any], batch: Batch) -> None:
        kind, action = str(data.get("type")), str(data.get("action"))
        by, note = data.get("by"), data.get("note")
        self._step(work, f"{kind}_resolved", "done", {"action": action, "by": by, "note": note})
        if action == "close":
            self._move(work, "closed", {"by": by, "note": note})
        elif kind == APPROVAL and action == "approve" and work.state == "pending_approval":
            work.state = "requested"
            await self._authorize(work, batch)
        elif kind == APPROVAL and action == "reject" and work.state == "pending_approval":
            self._move(work, "rejected", {"by": by, "note": note})
            batch.emit(ev.return_event(ev.REJECTED, self._current(work), {"by": by, "note": note}))
        elif kind == MISMATCH and action == "settle_received" and work.state == "mismatch":
            await self._settle(work, batch)
        elif kind == FAILED and action == "retry":
            step = work.erp.get("failed_step")
            if step == "authorize":
                await self._authorize(work, batch)
            elif step == "receive":
                await self._receive(work, batch)
            elif step == "credit":
                await self._settle(work, batch)
