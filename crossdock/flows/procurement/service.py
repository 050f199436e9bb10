"""The procurement consumer: recommendation runs and purchase orders from approved ones.

Consumer group ``procurement`` (lane ``batch`` when configured) takes
``procurement.recommend_requested`` (read the ERP in pages, compute, save: see
:mod:`.recommend` and :mod:`.store`) and ``procurement.approved`` (every approved recommendation
of the batch becomes a purchase order in one ``create_purchase_orders`` call, idempotent by
``origin = <source>:<ref>``, then one ``confirm_purchase_orders``; each placed order appends
``purchase.ordered`` with the canonical order, which a supplier's webhook subscription delivers).

The ERP's work is done here, never in the API: when the ERP is down the batch is handed back as
``Unavailable`` and resumes in order; a redelivered batch finds its orders by their natural key.
A recommendation the ERP refuses (an unknown supplier or SKU) opens an exception owned by buying.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import structlog
from sqlalchemy import Connection, update

from crossdock.config.procurement import ProcurementConfig
from crossdock.config.schema import Config
from crossdock.connectors.odoo import OdooBusinessError, OdooTransientError
from crossdock.connectors.odoo.port import ErpPort
from crossdock.connectors.odoo.replenishment_records import PurchaseLineChange
from crossdock.engine import (
    Batch,
    Engine,
    NewEvent,
    Schedule,
    Subscription,
    Unavailable,
    insert_events,
    new_event_id,
)
from crossdock.flows.exceptions import open_exception
from crossdock.flows.inventory.events import sync_request
from crossdock.flows.procurement.events import (
    ACKNOWLEDGED,
    APPROVED,
    BILL_POSTED,
    CONSUMED,
    COST_BILL_POSTED,
    EXCEPTION_RESOLVED,
    GROUP,
    RECEIPT_POSTED,
    RECEIVED,
    RECOMMEND,
    SOURCE,
    ordered_event,
)
from crossdock.flows.procurement.figures import order_statuses
from crossdock.flows.procurement.forecast_store import daily_demand
from crossdock.flows.procurement.landed import (
    EXCEPTION_LANDED,
    CostBill,
    Landed,
    land_charges,
    record_landed,
    retried_message,
)
from crossdock.flows.procurement.matching import three_way_match
from crossdock.flows.procurement.receipt_batch import ReceiptToValidate, validate_receipts
from crossdock.flows.procurement.receiving import Reconciled, reconcile_receipt
from crossdock.flows.procurement.recommend import Recommendation, Skipped, recommend
from crossdock.flows.procurement.store import (
    RecommendationRow,
    add_step,
    get_recommendation,
    save_run,
)
from crossdock.flows.procurement.supplier import (
    acknowledgement_changes,
    billed_before,
    get_message,
    mark_message,
    shipped_and_received,
)
from crossdock.flows.procurement.tables import recommendation_lines, recommendations
from crossdock.model import (
    Invoice,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    SupplierAcknowledgement,
)

__all__ = ["Procurement", "RunResult", "purchase_order_of", "register"]

log = structlog.get_logger("crossdock.procurement")

EXCEPTION_ORDER_REFUSED = "procurement.order_refused"
EXCEPTION_ACK_CHANGES = "procurement.acknowledgement_changes"
EXCEPTION_RECEIPT = "procurement.receipt_held"
EXCEPTION_BILL = "procurement.bill_mismatch"
OWNER_PAYABLE = "accounts_payable"
OWNER_BUYING = "buying"


@dataclass(frozen=True, slots=True)
class RunResult:
    run_id: str
    recommendations: int
    lines: int
    skipped: list[Skipped]
    counts: dict[str, int]
    unknown_skus: list[str]
    seconds: float


def purchase_order_of(rec: RecommendationRow, source: str, today: datetime) -> PurchaseOrder:
    """The purchase order of an approved recommendation (its lines with a positive quantity)."""
    expected = (today + timedelta(days=rec.lead_days)).date()
    lines = [
        PurchaseOrderLine(
            line_number=str(ln.line_no),
            sku=ln.sku,
            quantity=ln.quantity,
            unit_price=ln.unit_price,
            expected_date=expected,
        )
        for ln in rec.lines
        if ln.quantity > 0
    ]
    return PurchaseOrder(
        external_ref=rec.ref,
        source=source,
        supplier_ref=rec.supplier_ref,
        status="draft",
        currency=rec.currency,
        order_date=today.date(),
        expected_date=expected,
        warehouse=rec.warehouse,
        lines=lines,
        total=sum((ln.quantity * (ln.unit_price or Decimal(0)) for ln in lines), Decimal(0)),
    )


class Procurement:
    def __init__(
        self, engine: Engine, erp: ErpPort, config: ProcurementConfig, *, system: str = "odoo"
    ) -> None:
        self.engine = engine
        self.system = system
        self.erp = erp
        self.config = config
        self.demand: dict[tuple[str, str], Decimal] = {}
        self.edi_suppliers: frozenset[str] = frozenset()
        """Suppliers whose orders go out as EDI 850s (the EDI flow steps them to ``sent``)."""
        """Forecast demand per day by (warehouse, SKU), for SKUs without a reorder rule."""

    async def compute(self) -> tuple[list[Recommendation], list[Skipped], list[str]]:
        """Read the ERP (in pages) and compute the recommendations (from the forecast in force
        where there is one, see :func:`.forecast_store.daily_demand`)."""
        demand, label = self.demand, "forecast"
        if not demand:
            version, demand = await self.engine.db.read(
                partial(daily_demand, today=datetime.now(UTC).date())
            )
            if version is not None:
                label = f"forecast v{version.version} ({version.source})"
        skus = sorted({sku for _, sku in demand})
        inputs = await self.erp.replenishment_inputs(self.config.warehouses, skus=skus)
        recs, skipped = recommend(
            inputs,
            demand=demand,
            forecast_label=label,
            pack_sizes=self.config.pack_sizes,
            safety_days=self.config.safety_days,
            review_days=self.config.review_days,
        )
        return recs, skipped, inputs.unknown_skus

    def save(
        self, conn: Connection, recs: list[Recommendation], run_id: str, now: float
    ) -> dict[str, int]:
        counts, events = save_run(
            conn,
            recs,
            run_id=run_id,
            now=now,
            auto_approve_below=self.config.auto_approve_below,
            second_approver_above=self.config.second_approver_above,
        )
        if events:
            insert_events(conn, events, self.engine.partitions)
        return counts

    async def run(self, batch: Batch | None = None) -> RunResult:
        """One recommendation run (in ``batch``'s transaction when given)."""
        started = time.perf_counter()
        recs, skipped, unknown = await self.compute()
        run_id = new_event_id()
        now = time.time()
        counts: dict[str, int] = {}

        def write(conn: Connection) -> None:
            counts.update(self.save(conn, recs, run_id, now))

        if batch is not None:
            batch.write(write)
        else:
            await self.engine.writer.submit(write, appends=True)
        log.info(
            "procurement.recommended",
            run_id=run_id,
            recommendations=len(recs),
            skipped=len(skipped),
            unknown_skus=len(unknown),
        )
        return RunResult(
            run_id,
            len(recs),
            sum(len(r.lines) for r in recs),
            skipped,
            counts,
            unknown,
            time.perf_counter() - started,
        )

    async def place(self, recommendation_ids: list[str], batch: Batch | None = None) -> None:
        """Purchase orders of approved recommendations, created and confirmed in batches."""
        rows = await self.engine.db.read(
            lambda c: [get_recommendation(c, i) for i in recommendation_ids]
        )
        todo = [r for r in rows if r is not None and r.state == "approved"]
        if not todo:
            return
        today = datetime.now(UTC)
        orders = {r.ref: purchase_order_of(r, self.config.source, today) for r in todo}
        outcome = await self.erp.create_purchase_orders(list(orders.values()))
        placed = {
            r.ref: outcome.done[f"{self.config.source}:{r.ref}"]
            for r in todo
            if f"{self.config.source}:{r.ref}" in outcome.done
        }
        if self.config.confirm_orders and placed:
            await self.erp.confirm_purchase_orders([p.id for p in placed.values()])
        now = time.time()
        by_ref = {r.ref: r for r in todo}

        def write(conn: Connection) -> None:
            events: list[NewEvent] = []
            for ref, po in placed.items():
                rec = by_ref[ref]
                conn.execute(
                    update(recommendations)
                    .where(recommendations.c.id == rec.id)
                    .values(
                        state="ordered", po_name=po.name, po_id=po.id, error=None, updated_at=now
                    )
                )
                add_step(
                    conn,
                    rec.id,
                    "ordered",
                    actor="hub",
                    now=now,
                    details={
                        "purchase_order": po.name,
                        "origin": po.origin,
                        "lines": {ln.sku: _num(ln.quantity) for ln in rec.lines if ln.quantity > 0},
                    },
                )
                data: dict[str, Any] = orders[ref].model_dump(mode="json")
                data["refs"] = {self.system: po.name}
                data["status"] = "sent"
                events.append(ordered_event(ref, data))
                if rec.supplier_ref not in self.edi_suppliers:
                    add_step(conn, rec.id, "sent", actor="hub", now=now, details={"via": "webhook"})
            for key, error in outcome.failed.items():
                ref = key.split(":", 1)[1]
                rec = by_ref[ref]
                conn.execute(
                    update(recommendations)
                    .where(recommendations.c.id == rec.id)
                    .values(error=str(error), updated_at=now)
                )
                open_exception(
                    conn,
                    type=EXCEPTION_ORDER_REFUSED,
                    owner=OWNER_BUYING,
                    subject=f"recommendation:{rec.ref}",
                    reason=f"the ERP refused purchase order {key}: {error}",
                    actions=["retry", "cancel"],
                    now=now,
                )
            if events:
                insert_events(conn, events, self.engine.partitions)

        if batch is not None:
            batch.write(write)
        else:
            await self.engine.writer.submit(write, appends=True)

    async def acknowledged(self, message_ids: list[str], batch: Batch) -> None:
        """Apply (or hand to buying) what acknowledgements change on their orders, in order."""
        for message_id in message_ids:
            found = await self.engine.db.read(partial(_message_and_order, message_id=message_id))
            if found is None:
                continue
            message, rec = found
            if message.state != "received":
                continue  # a redelivery of one already handled
            ack = SupplierAcknowledgement.model_validate_json(message.body)
            changes = acknowledgement_changes(rec, ack)
            now = time.time()
            listed = [_change_text(c) for c in changes]
            error: str | None = None
            if changes and self.config.acknowledgement_changes == "apply":
                try:
                    await self.erp.update_purchase_lines(int(rec.po_id or 0), changes)
                except OdooBusinessError as exc:
                    error = str(exc)
            review = bool(changes) and (
                self.config.acknowledgement_changes == "review" or error is not None
            )

            def write(
                conn: Connection,
                rec: RecommendationRow = rec,
                message_id: str = message_id,
                listed: list[str] = listed,
                review: bool = review,
                error: str | None = error,
                now: float = now,
                status: str = ack.status,
                changes: list[PurchaseLineChange] = changes,
            ) -> None:
                if review:
                    reason = (
                        f"the ERP refused the changes of {rec.ref}: {error}; "
                        if error
                        else f"supplier {rec.supplier_ref} {status} {rec.ref}: "
                    ) + "; ".join(listed)
                    open_exception(
                        conn,
                        type=EXCEPTION_ACK_CHANGES,
                        owner=OWNER_BUYING,
                        subject=f"purchase:{rec.ref}",
                        reason=reason,
                        actions=["accept", "reject"],
                        now=now,
                    )
                    mark_message(conn, message_id, "exception", {"changes": listed, "error": error})
                else:
                    for change in changes:
                        values: dict[str, str] = {}
                        if change.quantity is not None:
                            values["quantity"] = format(change.quantity.normalize(), "f")
                        if change.unit_price is not None:
                            values["unit_price"] = format(change.unit_price.normalize(), "f")
                        if values:
                            conn.execute(
                                update(recommendation_lines)
                                .where(
                                    recommendation_lines.c.recommendation_id == rec.id,
                                    recommendation_lines.c.sku == change.sku,
                                )
                                .values(**values)
                            )
                    mark_message(conn, message_id, "applied", {"changes": listed})
                    if listed:
                        add_step(
                            conn,
                            rec.id,
                            "po-updated",
                            actor="hub",
                            now=now,
                            details={"purchase_order": rec.po_name, "changes": listed},
                        )

            batch.write(write)

    async def receipts(self, message_ids: list[str], batch: Batch) -> None:
        """Reconcile posted receipts; validate the ERP's receipts of those within tolerance
        together (see :mod:`~crossdock.flows.procurement.receipt_batch`)."""
        reconciled: list[tuple[str, RecommendationRow, Reconciled]] = []
        to_validate: list[ReceiptToValidate] = []
        for message_id in message_ids:
            found = await self.engine.db.read(partial(_receipt_context, message_id=message_id))
            if found is None:
                continue
            message, rec, announced, lots, before = found
            if message.state != "received":
                continue
            receipt = Receipt.model_validate_json(message.body)
            open_quantities = {
                ln.sku: max(ln.quantity - before.get(ln.sku, Decimal(0)), Decimal(0))
                for ln in rec.lines
                if ln.quantity > 0
            }
            still_announced = {
                sku: max(q - before.get(sku, Decimal(0)), Decimal(0))
                for sku, q in announced.items()
            }
            result = reconcile_receipt(
                receipt,
                open_quantities=open_quantities,
                announced=still_announced,
                announced_lots=lots,
                tolerance=partial(self.config.tolerance, rec.supplier_ref),
            )
            reconciled.append((message_id, rec, result))
            lines = [ln for ln in receipt.lines if ln.quantity > 0]
            if not result.held and lines:
                to_validate.append(
                    ReceiptToValidate(
                        message_id,
                        rec.id,
                        int(rec.po_id or 0),
                        receipt.model_copy(update={"lines": lines}),
                        "create" if result.backorder == "create" else "cancel",
                    )
                )
        validated = await validate_receipts(self.erp, to_validate)
        events = {str(e.data.get("message_id")): e for e in batch.events}
        stopped: set[str] = set()
        for message_id, rec, result in reconciled:
            if message_id in validated.failed:
                # the refused receipt fails alone; its order's later ones come again with it
                stopped.add(rec.id)
                batch.fail(events[message_id], validated.failed[message_id])
            if rec.id in stopped:
                continue
            done = validated.done.get(message_id)
            batch.write(
                partial(
                    _record_receipt,
                    rec=rec,
                    message_id=message_id,
                    result=result,
                    transfer_state=done.state if done is not None else None,
                    partitions=self.engine.partitions,
                )
            )

    async def bills(self, message_ids: list[str], batch: Batch) -> None:
        """Match posted supplier invoices three ways; make the vendor bill of those that match."""
        for message_id in message_ids:
            found = await self.engine.db.read(partial(_bill_context, message_id=message_id))
            if found is None:
                continue
            message, rec, received, before = found
            if message.state != "received":
                continue
            invoice = Invoice.model_validate_json(message.body)
            differences = three_way_match(
                invoice,
                prices={ln.sku: ln.unit_price for ln in rec.lines if ln.quantity > 0},
                received=received,
                billed_before=before,
                price_tolerance_percent=self.config.bill_price_tolerance_percent,
                quantity_tolerance=self.config.bill_quantity_tolerance,
            )
            bills: list[str] = []
            landed: Landed | None = None
            if not differences:
                # charges to land go on the vendor bill first: it is posted after them
                charged = bool(invoice.charges) and self.config.landed_costs.enabled
                post = self.config.post_bills
                made = await self.erp.create_vendor_bills(
                    [int(rec.po_id or 0)], post=post and not charged
                )
                landed = await self._land(
                    rec, invoice.partner_ref, invoice, invoice.invoice_date, on_vendor_bill=True
                )
                if charged and post:
                    made = await self.erp.create_vendor_bills([int(rec.po_id or 0)], post=True)
                bills = [b.external_ref for b in made]
            batch.write(
                partial(
                    _record_bill,
                    rec=rec,
                    message_id=message_id,
                    invoice_ref=invoice.external_ref,
                    differences=differences,
                    bills=bills,
                    landed=landed,
                )
            )

    async def _land(
        self,
        rec: RecommendationRow,
        partner: str,
        bill: Invoice | CostBill,
        when: date,
        *,
        on_vendor_bill: bool = False,
    ) -> Landed | None:
        return await land_charges(
            self.erp,
            self.config.landed_costs,
            source=self.config.source,
            rec=rec,
            partner=partner,
            bill_ref=bill.external_ref,
            currency=bill.currency,
            charges=bill.charges,
            bill_date=when,
            on_vendor_bill=on_vendor_bill,
        )

    async def land_again(self, message_ids: list[str], batch: Batch) -> None:
        """Land again the charges of bills whose landed-cost exception accounts payable
        resolved with ``retry`` (the landed cost's key keeps a landed one from doubling)."""
        for message_id in message_ids:
            found = await self.engine.db.read(partial(_message_and_order, message_id=message_id))
            if found is None:
                continue
            message, rec = found
            landed: Landed | None
            if message.kind == "bill":
                invoice = Invoice.model_validate_json(message.body)
                landed = await self._land(
                    rec, invoice.partner_ref, invoice, invoice.invoice_date, on_vendor_bill=True
                )
            elif message.kind == "cost-bill":
                bill = CostBill.model_validate_json(message.body)
                landed = await self._land(rec, bill.partner_ref, bill, bill.bill_date)
            else:
                continue

            def write(
                conn: Connection,
                rec: RecommendationRow = rec,
                message_id: str = message_id,
                landed: Landed | None = landed,
                kind: str = message.kind,
            ) -> None:
                if landed is None:
                    return
                if kind == "cost-bill":
                    state = "exception" if landed.problem else "applied"
                    mark_message(conn, message_id, state, {"landed": landed.details})
                record_landed(conn, rec=rec, landed=landed, message_id=message_id)

            batch.write(write)

    async def cost_bills(self, message_ids: list[str], batch: Batch) -> None:
        """Land the charges of posted carrier's or customs bills (see :mod:`.landed`)."""
        for message_id in message_ids:
            found = await self.engine.db.read(partial(_message_and_order, message_id=message_id))
            if found is None or found[0].state != "received":
                continue
            message, rec = found
            bill = CostBill.model_validate_json(message.body)
            landed = await self._land(rec, bill.partner_ref, bill, bill.bill_date)

            def write(
                conn: Connection,
                rec: RecommendationRow = rec,
                message_id: str = message_id,
                landed: Landed | None = landed,
            ) -> None:
                if landed is None:
                    return
                state = "exception" if landed.problem else "applied"
                mark_message(conn, message_id, state, {"landed": landed.details})
                record_landed(conn, rec=rec, landed=landed, message_id=message_id)

            batch.write(write)

    async def handle(self, batch: Batch) -> None:
        try:
            bill_ids = [
                str(e.data.get("message_id")) for e in batch.events if e.type == BILL_POSTED
            ]
            receipts = [
                str(e.data.get("message_id")) for e in batch.events if e.type == RECEIPT_POSTED
            ]
            if receipts:
                await self.receipts(receipts, batch)
            if bill_ids:
                await self.bills(bill_ids, batch)
            cost_bills = [
                str(e.data.get("message_id")) for e in batch.events if e.type == COST_BILL_POSTED
            ]
            if cost_bills:
                await self.cost_bills(cost_bills, batch)
            retried = [
                retried_message(e.subject)
                for e in batch.events
                if e.type == EXCEPTION_RESOLVED
                and e.data.get("type") == EXCEPTION_LANDED
                and e.data.get("action") == "retry"
            ]
            if retried:
                await self.land_again([m for m in retried if m], batch)
            acks = [str(e.data.get("message_id")) for e in batch.events if e.type == ACKNOWLEDGED]
            if acks:
                await self.acknowledged(acks, batch)
            approved = [
                str(e.data.get("recommendation_id")) for e in batch.events if e.type == APPROVED
            ]
            if approved:
                await self.place(approved, batch)
            if any(e.type == RECOMMEND for e in batch.events):
                await self.run(batch)
        except (OdooTransientError, Unavailable) as exc:
            wait = self.erp.unavailable_for()
            if wait is None:
                raise
            raise Unavailable(f"the ERP is unavailable: {exc}", max(1.0, wait)) from exc


def _message_and_order(conn: Connection, message_id: str) -> tuple[Any, RecommendationRow] | None:
    message = get_message(conn, message_id)
    if message is None:
        return None
    rec = get_recommendation(conn, message.recommendation_id)
    return None if rec is None else (message, rec)


def _receipt_context(
    conn: Connection, message_id: str
) -> (
    tuple[Any, RecommendationRow, dict[str, Decimal], dict[str, set[str]], dict[str, Decimal]]
    | None
):
    found = _message_and_order(conn, message_id)
    if found is None:
        return None
    message, rec = found
    announced, lots, received = shipped_and_received(conn, rec.id)
    return message, rec, announced, lots, received


def _bill_context(
    conn: Connection, message_id: str
) -> tuple[Any, RecommendationRow, dict[str, Decimal], dict[str, Decimal]] | None:
    found = _message_and_order(conn, message_id)
    if found is None:
        return None
    message, rec = found
    _, _, received = shipped_and_received(conn, rec.id)
    return message, rec, received, billed_before(conn, rec.id)


def _record_bill(
    conn: Connection,
    *,
    rec: RecommendationRow,
    message_id: str,
    invoice_ref: str,
    differences: list[str],
    bills: list[str],
    landed: Landed | None = None,
) -> None:
    now = time.time()
    if differences:
        open_exception(
            conn,
            type=EXCEPTION_BILL,
            owner=OWNER_PAYABLE,
            subject=f"bill:{rec.ref}:{invoice_ref}",
            reason=f"invoice {invoice_ref} for {rec.ref} does not match: " + "; ".join(differences),
            actions=["accept", "dispute"],
            now=now,
        )
        mark_message(conn, message_id, "exception", {"differences": differences})
        add_step(
            conn, rec.id, "bill-held", actor="hub", now=now, details={"differences": differences}
        )
        return
    mark_message(conn, message_id, "applied", {"bills": bills})
    add_step(
        conn,
        rec.id,
        "billed",
        actor="hub",
        now=now,
        details={"invoice": invoice_ref, "bills": bills},
    )
    if landed is not None:
        record_landed(conn, rec=rec, landed=landed, message_id=message_id, now=now)


def _num(value: Decimal) -> str:
    return format(value.normalize(), "f") if value != 0 else "0"


def _record_receipt(
    conn: Connection,
    *,
    rec: RecommendationRow,
    message_id: str,
    result: Reconciled,
    transfer_state: str | None,
    partitions: int,
) -> None:
    now = time.time()
    if result.held:
        problems = result.problems()
        open_exception(
            conn,
            type=EXCEPTION_RECEIPT,
            owner=OWNER_BUYING,
            subject=f"receipt:{rec.ref}:{message_id}",
            reason=f"receipt for {rec.ref} held: " + "; ".join(problems),
            actions=["receive", "return"],
            now=now,
        )
        mark_message(conn, message_id, "exception", {"problems": problems})
        add_step(conn, rec.id, "receipt-held", actor="hub", now=now, details={"problems": problems})
        return
    received = {sku: _num(q) for sku, q in result.received.items() if q > 0}
    details: dict[str, Any] = {
        "received": received,
        "closed_short": result.short_closed,
        "backordered": result.short_open,
        "picking": transfer_state,
    }
    mark_message(conn, message_id, "applied", details)
    for status in order_statuses(conn, recommendation_id=rec.id):
        details["promised"] = status.promised.isoformat()
        if status.last_receipt is not None:
            details["days_late"] = max((status.last_receipt - status.promised).days, 0)
    add_step(conn, rec.id, "received", actor="hub", now=now, details=details)
    insert_events(
        conn,
        [
            NewEvent(
                RECEIVED,
                SOURCE,
                f"purchase:{rec.ref}",
                {
                    "purchase_order": rec.ref,
                    "erp_name": rec.po_name,
                    "warehouse": rec.warehouse,
                    "received": received,
                    "backorder": bool(result.short_open),
                },
                idempotency_key=f"{RECEIVED}:{message_id}",
                id=new_event_id(),
            ),
            # stock came in: the inventory flow recomputes and publishes its availability
            sync_request(f"purchase {rec.ref} received", publish=sorted(received)),
        ],
        partitions,
    )


def _change_text(change: PurchaseLineChange) -> str:
    parts = []
    if change.quantity is not None:
        parts.append(f"quantity {format(change.quantity.normalize(), 'f')}")
    if change.unit_price is not None:
        parts.append(f"price {format(change.unit_price.normalize(), 'f')}")
    if change.expected_date is not None:
        parts.append(f"date {change.expected_date.isoformat()}")
    return f"{change.sku}: " + ", ".join(parts)


def register(engine: Engine, erp: ErpPort, config: Config, *, system: str = "odoo") -> Procurement:
    """Subscribe the consumer group (before the engine starts) and schedule runs."""
    service = Procurement(engine, erp, config.procurement, system=system)
    service.edi_suppliers = frozenset(
        p.supplier for p in config.edi.partners.values() if p.supplier and "850" in p.send
    )
    if config.procurement.schedule is not None:
        engine.schedule(
            Schedule(
                "procurement.recommend", config.procurement.schedule, RECOMMEND, {"by": "schedule"}
            )
        )
    engine.subscribe(
        Subscription(
            GROUP,
            CONSUMED,
            service.handle,
            lane="batch" if "batch" in engine.lanes else "default",
            batch_size=50,
            max_attempts=config.engine.max_attempts,
            backoff=config.engine.backoff,
            start_at="latest",
        )
    )
    return service
