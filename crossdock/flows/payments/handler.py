"""The payments handler: a batch of reported payments matched to invoices and registered in the
ERP together, each outcome recorded and announced with the batch's acknowledgement.

* ``failed`` → the payment is recorded failed, ``payment.failed`` goes out; nothing in the ERP.
* ``chargeback`` → an exception for finance naming the payment taken back and its invoice, and,
  per the credit policy, the customer's credit limit set so new orders wait for finance.
* ``captured`` / ``refunded`` → matched (:mod:`.matching`) to an invoice (a credit note for a
  refund), allocated against its residual and registered in one ``register_payments`` call;
  ``payment.received`` (and ``invoice.paid`` when the invoice is settled) go out. Ambiguous
  matches, currency mismatches, refunds without a credit note and payments the ERP refuses open
  an exception for finance; a payment matching nothing is kept ``unmatched`` (reconciliation
  shows it as drift).

Crash safety: before the ERP is called, the payments about to be registered are recorded
``registering`` in a transaction of their own; a batch replayed after a crash registers them with
``resumed`` set, so that one the ERP already took (memo found, or its invoice now settled) is
recorded, never registered twice. Everything else is written with the acknowledgement. While the
ERP's circuit is open the batch is handed back as ``Unavailable``: nothing is counted as an
attempt, and the stream resumes in order.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import Connection

from crossdock.config.payments import PaymentsConfig
from crossdock.connectors.gateway.report import PaymentReport
from crossdock.connectors.odoo.errors import OdooTransientError
from crossdock.connectors.odoo.payment_records import OpenInvoice, PaymentRegistration
from crossdock.connectors.odoo.port import ErpPort
from crossdock.engine import Batch, Engine, Event, NewEvent, Unavailable
from crossdock.flows.exceptions import listing, open_exception, withdraw_exceptions
from crossdock.flows.payments import events as ev
from crossdock.flows.payments import store
from crossdock.flows.payments.matching import (
    InvoiceIndex,
    InvoiceShare,
    Match,
    allocate,
    by_original,
    match,
    normal,
    reference_words,
    words_of,
)
from crossdock.policy.credit import chargeback_hold

log = structlog.get_logger(__name__)

ACTIONS = ["done_in_erp", "dismiss"]
REMATCH_ACTIONS = ["rematch", "done_in_erp", "dismiss"]
"""Of a payment that matched badly: ``rematch`` matches it again (the resolution's note, when
given, as the reference to match by: the invoice a person found)."""
RESOLVER = "crossdock.payments"


class Payments:
    """The flow's state across batches: the ERP port, the settings and the engine."""

    def __init__(self, engine: Engine, erp: ErpPort, settings: PaymentsConfig) -> None:
        self.engine = engine
        self.erp = erp
        self.settings = settings

    async def handle(self, batch: Batch) -> None:
        try:
            await self._handle(batch)
        except (OdooTransientError, Unavailable) as exc:
            wait = self.erp.unavailable_for()
            if wait is None:
                raise
            raise Unavailable(f"the ERP is unavailable: {exc}", max(1.0, wait)) from exc

    async def _handle(self, batch: Batch) -> None:
        reports: list[PaymentReport] = []
        statements: dict[str, str | None] = {}
        again: set[str] = set()
        resolved: list[Event] = []
        documents: list[Event] = []
        for event in batch.events:
            if event.type in (ev.REPORTED, ev.REMATCH):
                reports.append(PaymentReport.of(dict(event.data["payment"])))
                statements[reports[-1].payment_id] = event.data.get("statement_id")
                if event.type == ev.REMATCH:
                    again.add(reports[-1].payment_id)
            elif event.type == ev.EXCEPTION_RESOLVED:
                resolved.append(event)
            elif event.type in ev.NEW_DOCUMENTS:
                documents.append(event)
        if resolved:
            await self._resolved(batch, resolved)
        if documents:
            await self._new_documents(batch, documents)
        if not reports:
            return
        ids = [r.payment_id for r in reports] + [r.original for r in reports if r.original]
        rows = await self.engine.db.read(lambda c: store.load(c, ids))
        todo: list[PaymentReport] = []
        for report in reports:
            row = rows.get(report.payment_id)
            retried = (
                report.payment_id in again and row is not None and row.state in store.RETRYABLE
            )
            if row is not None and row.state in store.FINAL and not retried:
                continue  # reported again (another event id): the same payment
            if any(t.payment_id == report.payment_id for t in todo):
                continue
            todo.append(report)
        if not todo:
            return
        now = time.time()
        await self.engine.writer.submit(lambda c: _record(c, todo, statements, now), priority=1)
        for report in todo:
            if report.kind == "failed":
                self._failed(batch, report)
        money = [r for r in todo if r.kind in ("captured", "refunded")]
        matched: dict[str, str] = {}
        if money:
            matched = await self._money(batch, money, rows, again)
        chargebacks = [r for r in todo if r.kind == "chargeback"]
        if chargebacks:
            # a payment taken back in the batch that brought it: known from the batch itself
            for report in money:
                if report.payment_id not in rows:
                    rows[report.payment_id] = store.reported_row(
                        report, matched.get(report.payment_id)
                    )
            await self._chargebacks(batch, chargebacks, rows)

    # ------------------------------------------------------------------ failed, chargebacks

    def _failed(self, batch: Batch, report: PaymentReport) -> None:
        pid = report.payment_id
        batch.write(lambda c: store.set_state(c, pid, "failed"))
        batch.emit(
            NewEvent(
                ev.FAILED,
                ev.SOURCE,
                ev.payment_subject(pid),
                {**_money_data(report), "reason": report.detail or "declined"},
                idempotency_key=f"{ev.FAILED}:{pid}",
            )
        )

    async def _chargebacks(
        self, batch: Batch, reports: Sequence[PaymentReport], rows: dict[str, store.PaymentRow]
    ) -> None:
        holds: dict[Decimal, list[str]] = {}
        for report in reports:
            original = rows.get(report.original) if report.original else None
            customer = report.customer or (original.customer if original else None)
            limit = chargeback_hold(self.settings.chargeback_credit_hold, customer)
            if limit is not None and customer:
                holds.setdefault(limit, []).append(customer)
        held: set[str] = set()
        for limit, customers in holds.items():
            held.update(await self.erp.hold_credit(customers, limit))
        for report in reports:
            original = rows.get(report.original) if report.original else None
            customer = report.customer or (original.customer if original else None)
            invoice = original.invoice_name if original else None
            reason = (
                f"chargeback of {report.amount} {report.currency} ({report.detail or 'no reason'})"
                f" on {report.original or 'an unknown payment'}"
                + (f", invoice {invoice}" if invoice else "")
                + (f"; customer {customer} put on credit hold" if customer in held else "")
            )
            pid = report.payment_id

            def write(
                c: Connection, pid: str = pid, reason: str = reason, inv: Any = invoice
            ) -> None:
                store.set_state(c, pid, "chargeback", invoice_name=inv, detail=reason)
                self._exception(c, pid, "chargeback", reason)

            batch.write(write)

    def _exception(
        self,
        conn: Connection,
        payment_id: str,
        kind: str,
        reason: str,
        actions: list[str] = ACTIONS,
    ) -> None:
        open_exception(
            conn,
            type=kind,
            owner=self.settings.finance_owner,
            subject=ev.payment_subject(payment_id),
            reason=reason,
            actions=actions,
            now=time.time(),
        )

    # ------------------------------------------------------------------ matching again

    @staticmethod
    def _rematch(batch: Batch, row: store.PaymentRow, why: str, key: str,
                 reference: str | None = None) -> None:  # fmt: skip
        batch.emit(
            NewEvent(
                ev.REMATCH,
                ev.SOURCE,
                ev.STREAM,
                {"payment": row.report(reference).data(), "reason": why},
                idempotency_key=f"{ev.REMATCH}:{row.payment_id}:{key}",
            )
        )

    async def _resolved(self, batch: Batch, events: Sequence[Event]) -> None:
        """A person resolved a payment's exception with ``rematch``: match it again."""
        wanted = {
            pid: e
            for e in events
            if (pid := ev.payment_of(e.subject)) is not None and e.data.get("action") == "rematch"
        }
        if not wanted:
            return
        rows = await self.engine.db.read(lambda c: store.load(c, wanted))
        for pid, event in wanted.items():
            row = rows.get(pid)
            if row is None or row.state not in store.RETRYABLE:
                continue
            note = str(event.data.get("note") or "").strip() or None
            why = f"exception {event.data.get('exception_id')} resolved by {event.data.get('by')}"
            self._rematch(batch, row, why, str(event.data.get("exception_id")), note)

    async def _new_documents(self, batch: Batch, events: Sequence[Event]) -> None:
        """New invoices (``invoice.posted``) and credit notes (a return's): payments that
        matched nothing and may be theirs — by a reference naming them, by amount, or, for a
        refund, by the invoice of the payment it takes back — are matched again."""
        documents: list[tuple[Event, str, dict[str, Any]]] = []
        for event in events:
            if event.type == ev.INVOICE_POSTED and isinstance(event.data.get("invoice"), dict):
                documents.append((event, "captured", dict(event.data["invoice"])))
            elif event.type != ev.INVOICE_POSTED:
                for note in event.data.get("credit_notes") or []:
                    if isinstance(note, dict):
                        documents.append((event, "refunded", dict(note)))
        if not documents:
            return
        waiting = await self.engine.db.read(lambda c: store.rows_in(c, ["unmatched"]))
        if not waiting:
            return
        originals = await self.engine.db.read(
            lambda c: store.load(c, [r.original for r in waiting if r.original])
        )
        tolerance = self.settings.amount_tolerance
        chosen: dict[str, tuple[store.PaymentRow, str, str]] = {}
        for event, kind, doc in documents:
            number = str(doc.get("number") or "")
            currency = str(doc.get("currency") or "")
            try:
                total = Decimal(str(doc.get("total")))
            except ArithmeticError:
                total = None
            for row in waiting:
                if row.kind != kind or row.currency != currency or row.payment_id in chosen:
                    continue
                original = originals.get(row.original) if row.original else None
                if (
                    (
                        number
                        and normal(number) in {normal(w) for w in reference_words(row.reference)}
                    )
                    or (total is not None and abs(row.amount - total) <= tolerance)
                    or (
                        kind == "refunded"
                        and original is not None
                        and original.invoice_id is not None
                        and doc.get("invoice_id") == original.invoice_id
                    )
                ):
                    chosen[row.payment_id] = (row, f"{number} appeared ({event.type})", event.id)
        for row, why, key in chosen.values():
            self._rematch(batch, row, why, key)

    # ------------------------------------------------------------------ money in and out

    async def _money(
        self,
        batch: Batch,
        reports: Sequence[PaymentReport],
        rows: dict[str, store.PaymentRow],
        anew: set[str] | None = None,
    ) -> dict[str, str]:
        """Match and register ``reports``; the invoice each registered payment went to.
        ``anew``: payments matched anew (their open exceptions close when they register)."""
        tolerance = self.settings.amount_tolerance
        words = words_of(reports)
        index = InvoiceIndex(await self.erp.find_invoices(words) if words else [])
        customers = sorted({r.customer for r in reports if r.customer})
        if customers:
            currencies = sorted({r.currency for r in reports})
            index.add(await self.erp.open_invoices(partners=customers, currencies=currencies))
        residuals: dict[int, Decimal] = {}
        for named in index.by_ref.values():
            for known in named.values():
                residuals[known.id] = known.amount_residual
        for listed in index.by_customer.values():
            for known in listed.values():
                residuals[known.id] = known.amount_residual
        registrations: list[PaymentRegistration] = []
        planned: dict[str, tuple[PaymentReport, OpenInvoice, InvoiceShare]] = {}
        resumed = {
            r.payment_id: row
            for r in reports
            if (row := rows.get(r.payment_id)) is not None
            and row.state == "registering"
            and row.invoice_id is not None
            and row.applied is not None
        }
        # refunds naming no credit note: the credit notes of the invoice they take back
        reversed_names = sorted(
            {
                name
                for r in reports
                if r.kind == "refunded"
                and r.original
                and (original := rows.get(r.original)) is not None
                and (name := original.invoice_name)
            }
        )
        notes = await self.erp.credit_notes_for(reversed_names) if reversed_names else []
        for note in notes:
            residuals.setdefault(note.id, note.amount_residual)
        by_id = {i.id: i for named in index.by_ref.values() for i in named.values()}
        by_id.update({i.id: i for listed in index.by_customer.values() for i in listed.values()})
        lost = sorted(
            {
                r.invoice_name
                for r in resumed.values()
                if r.invoice_id not in by_id and r.invoice_name
            }
        )
        if lost:
            by_id.update({i.id: i for i in await self.erp.find_invoices(lost)})
        for report in reports:
            row = resumed.get(report.payment_id)
            if row is not None and row.invoice_id in by_id:
                # an earlier attempt may have reached the ERP: the same registration again
                assert row.applied is not None and row.difference is not None
                again = by_id[row.invoice_id]
                allocation = InvoiceShare(
                    row.applied, abs(row.difference) <= tolerance, row.difference
                )
                registrations.append(self._registration(report, again, allocation, True))
                planned[report.payment_id] = (report, again, allocation)
                residuals[again.id] = min(residuals.get(again.id, Decimal(0)), Decimal(0))
                continue
            found = match(report, index, residuals, tolerance)
            original = rows.get(report.original) if report.original else None
            if (
                found.how == "none"
                and report.kind == "refunded"
                and original is not None
                and original.invoice_name
            ):
                found = by_original(report, original.invoice_name, notes, residuals, tolerance)
            invoice = found.invoice
            if invoice is None or found.how == "currency":
                self._unmatched(batch, report, found)
                continue
            residual = residuals.get(invoice.id, invoice.amount_residual)
            if residual <= 0:
                self._unmatched(batch, report, found, paid=invoice)
                continue
            allocation = allocate(report.amount, residual, tolerance)
            residuals[invoice.id] = residual - allocation.amount
            registrations.append(self._registration(report, invoice, allocation, False))
            planned[report.payment_id] = (report, invoice, allocation)
        if not registrations:
            return {}
        await self.engine.writer.submit(lambda c: _registering(c, planned), priority=1)
        outcome = await self.erp.register_payments(registrations, journal=self.settings.journal)
        settled: dict[int, list[str]] = {}
        for reg in registrations:
            report, invoice, allocation = planned[reg.key]
            error = outcome.failed.get(reg.key)
            if error is not None:
                reason = f"the ERP refused the payment against {invoice.name}: {error}"
                self._problem(batch, report, "payment_not_registered", "not_registered", reason)
                continue
            done = outcome.done[reg.key]
            pid = report.payment_id
            settles = allocation.full or allocation.difference >= 0

            def write(
                c: Connection,
                pid: str = pid,
                inv: OpenInvoice = invoice,
                a: Any = allocation,
                erp_id: int | None = done.payment_id,
                rematched: bool = pid in (anew or ()),
            ) -> None:
                store.set_state(
                    c,
                    pid,
                    a.state,
                    invoice_id=inv.id,
                    invoice_name=inv.name,
                    invoice_due=inv.due_date.isoformat() if inv.due_date else None,
                    applied=str(a.amount),
                    difference=str(a.difference),
                    erp_payment_id=erp_id,
                    detail=None,
                )
                if rematched:
                    withdraw_exceptions(
                        c,
                        ev.payment_subject(pid),
                        note=f"matched again: registered against {inv.name}",
                        now=time.time(),
                        by=RESOLVER,
                    )

            batch.write(write)
            if report.kind == "captured":
                batch.emit(
                    NewEvent(
                        ev.RECEIVED,
                        ev.SOURCE,
                        ev.payment_subject(pid),
                        {
                            **_money_data(report),
                            "invoice": invoice.name,
                            "applied": str(allocation.amount),
                            "difference": str(allocation.difference),
                            "state": allocation.state,
                        },
                        idempotency_key=f"{ev.RECEIVED}:{pid}",
                    )
                )
                if settles:
                    settled.setdefault(invoice.id, []).append(pid)
        planned_invoices = {inv.id: inv for _, inv, _ in planned.values()}
        matched = {
            pid: invoice.name for pid, (_, invoice, _) in planned.items() if pid in outcome.done
        }
        for invoice_id, pids in settled.items():
            invoice = planned_invoices[invoice_id]
            batch.emit(
                NewEvent(
                    ev.INVOICE_PAID,
                    ev.SOURCE,
                    ev.invoice_subject(invoice.name),
                    {
                        "invoice": invoice.name,
                        "customer": invoice.partner_ref or invoice.partner_name,
                        "currency": invoice.currency,
                        "amount_total": str(invoice.amount_total),
                        "payment_ids": pids,
                    },
                    idempotency_key=f"{ev.INVOICE_PAID}:{invoice.name}",
                )
            )
        return matched

    @staticmethod
    def _registration(
        report: PaymentReport, invoice: OpenInvoice, allocation: InvoiceShare, resumed: bool
    ) -> PaymentRegistration:
        return PaymentRegistration(
            key=report.payment_id,
            invoice_id=invoice.id,
            amount=allocation.amount,
            currency=invoice.currency,
            date=report.occurred_at.date(),
            full=allocation.full,
            resumed=resumed,
        )

    def _problem(
        self, batch: Batch, report: PaymentReport, kind: str, state: str, reason: str
    ) -> None:
        pid = report.payment_id

        def write(c: Connection) -> None:
            store.set_state(c, pid, state, detail=reason)
            self._exception(c, pid, kind, reason, REMATCH_ACTIONS)

        batch.write(write)

    def _unmatched(
        self, batch: Batch, report: PaymentReport, found: Match, paid: OpenInvoice | None = None
    ) -> None:
        what = f"{report.kind} {report.amount} {report.currency} ({report.payment_id})"
        if found.how == "ambiguous":
            reason = f"{what} matches several invoices: {listing(list(found.candidates))}"
            self._problem(batch, report, "payment_ambiguous", "ambiguous", reason)
        elif found.how == "currency" and found.invoice is not None:
            reason = f"{what} names {found.invoice.name}, which is in {found.invoice.currency}"
            self._problem(batch, report, "payment_currency", "not_registered", reason)
        elif report.kind == "refunded":
            reason = f"{what}: no credit note found for {report.reference or 'it'}"
            self._problem(batch, report, "refund_without_credit_note", "unmatched", reason)
        else:
            pid = report.payment_id
            detail = f"{paid.name} is already paid" if paid else "no open invoice matches"
            inv = paid.name if paid else None
            batch.write(
                lambda c: store.set_state(c, pid, "unmatched", detail=detail, invoice_name=inv)
            )


def _money_data(report: PaymentReport) -> dict[str, Any]:
    return {
        "payment_id": report.payment_id,
        "source": report.source,
        "kind": report.kind,
        "amount": str(report.amount),
        "currency": report.currency,
        "reference": report.reference,
        "customer": report.customer,
    }


def _record(
    conn: Connection,
    reports: Sequence[PaymentReport],
    statements: dict[str, str | None],
    now: float,
) -> None:
    by_statement: dict[str | None, list[PaymentReport]] = {}
    for report in reports:
        by_statement.setdefault(statements.get(report.payment_id), []).append(report)
    for statement_id, listed in by_statement.items():
        store.record_received(conn, listed, now, statement_id)


def _registering(conn: Connection, planned: dict[str, Any]) -> None:
    for pid, (_, invoice, allocation) in planned.items():
        store.set_state(
            conn,
            pid,
            "registering",
            invoice_id=invoice.id,
            invoice_name=invoice.name,
            applied=str(allocation.amount),
            difference=str(allocation.difference),
        )
