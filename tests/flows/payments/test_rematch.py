"""Refunds linked to credit notes, and payments matched again: a refund naming no credit note
is registered against the credit note reversing the invoice of the payment it takes back (when
the credit note exists, or when the return's credit note appears later); a payment that matched
nothing is matched again when its invoice is posted; an ambiguous one when finance resolves its
exception with ``rematch`` (the note naming the invoice). Each closes its exception."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from crossdock.connectors.memory import MemoryErp
from crossdock.engine import NewEvent, insert_events
from crossdock.flows.exceptions import list_exceptions, resolve_exception
from crossdock.flows.payments.events import INVOICE_PAID, RECEIVED, REMATCH
from tests.flows.payments.harness import PaymentsFlow, report


async def _append(flow: PaymentsFlow, *events: NewEvent) -> None:
    await flow.engine.writer.submit(
        lambda c: insert_events(c, list(events), flow.engine.partitions), appends=True
    )


async def _resolve(flow: PaymentsFlow, exception_id: str, action: str, note: str | None) -> None:
    def write(conn: Any) -> None:
        _, event = resolve_exception(
            conn, exception_id, action=action, by="finance-1", note=note, now=time.time()
        )
        insert_events(conn, [event], flow.engine.partitions)

    await flow.engine.writer.submit(write, appends=True)


async def test_a_refund_is_linked_to_the_credit_note_of_its_payments_invoice(
    flow: PaymentsFlow, erp: MemoryErp
) -> None:
    invoice = erp.add_invoice("web:C1", Decimal("100.00"))
    await flow.report(report("p1", "100.00", reference=invoice.external_ref))
    await flow.deliver()
    note = erp.add_invoice("web:C1", Decimal("40.00"), kind="credit_note")
    erp.reverses[int(note.refs[erp.system])] = invoice.external_ref
    erp.add_invoice("web:C1", Decimal("40.00"), kind="credit_note")  # another customer's story

    # the gateway's refund names no credit note, only the payment it takes back
    await flow.report(report("r1", "40.00", kind="refunded", original="p1"))
    await flow.deliver()
    refund = await flow.payment("r1")
    assert (refund.state, refund.invoice_name) == ("registered", note.external_ref)
    [paid] = await erp.find_invoices([note.external_ref])
    assert paid.paid
    assert await flow.exceptions() == []


async def test_a_refund_waits_for_the_returns_credit_note(
    flow: PaymentsFlow, erp: MemoryErp
) -> None:
    invoice = erp.add_invoice("web:C1", Decimal("100.00"))
    await flow.report(report("p1", "100.00", reference=invoice.external_ref))
    await flow.deliver()
    await flow.report(report("r1", "25.00", kind="refunded", original="p1"))
    await flow.deliver()
    [waiting] = await flow.exceptions()
    assert waiting.type == "refund_without_credit_note" and "rematch" in waiting.actions

    # the return is credited: its credit note reverses the payment's invoice
    note = erp.add_invoice("web:C1", Decimal("25.00"), kind="credit_note")
    number = int(note.refs[erp.system])
    erp.reverses[number] = invoice.external_ref
    await _append(
        flow,
        NewEvent(
            "return.refunded",
            "crossdock.returns",
            "return:RMA-1",
            {
                "rma": "RMA-1",
                "credit_notes": [
                    {"id": number, "number": note.external_ref, "invoice_id": 1,
                     "currency": "EUR", "total": "25.00"}
                ],
                "total": "25.00",
                "currency": "EUR",
            },
        ),
    )  # fmt: skip
    await flow.deliver()  # the credit note: the refund is matched again, on the stream
    assert len(await flow.events(REMATCH)) == 1
    await flow.deliver()
    refund = await flow.payment("r1")
    assert (refund.state, refund.invoice_name) == ("registered", note.external_ref)
    assert await flow.exceptions() == []
    [closed] = await flow.engine.db.read(lambda c: list_exceptions(c, state="resolved"))
    assert closed.resolution == "withdrawn" and note.external_ref in (closed.note or "")


async def test_a_payment_is_matched_when_its_invoice_is_posted(
    flow: PaymentsFlow, erp: MemoryErp
) -> None:
    await flow.report(report("p1", "80.00", reference="INV/00077 thanks"))
    await flow.deliver()
    assert (await flow.payment("p1")).state == "unmatched"

    invoice = erp.add_invoice("web:C9", Decimal("80.00"), payment_reference="INV/00077")
    posted = {"number": "INV/00077", "currency": "EUR", "total": "80.00", "id": 77}
    other = {"number": "INV/00078", "currency": "USD", "total": "80.00", "id": 78}
    await _append(
        flow,
        NewEvent("invoice.posted", "crossdock.order_to_cash", "order:o1", {"invoice": posted}),
        NewEvent("invoice.posted", "crossdock.order_to_cash", "order:o2", {"invoice": other}),
    )
    await flow.deliver()
    await flow.deliver()
    payment = await flow.payment("p1")
    assert (payment.state, payment.invoice_name) == ("registered", invoice.external_ref)
    assert len(await flow.events(REMATCH)) == 1  # the USD invoice is not this payment's
    assert [e.data["invoice"] for e in await flow.events(INVOICE_PAID)] == [invoice.external_ref]
    await flow.deliver()
    assert len(await flow.events(REMATCH)) == 1


async def test_finance_resolves_an_ambiguous_payment_by_naming_the_invoice(
    flow: PaymentsFlow, erp: MemoryErp
) -> None:
    first = erp.add_invoice("web:C1", Decimal("50.00"))
    second = erp.add_invoice("web:C1", Decimal("50.00"))
    await flow.report(report("p1", "50.00", customer="web:C1"))
    await flow.deliver()
    [ambiguous] = await flow.exceptions()
    assert ambiguous.type == "payment_ambiguous"
    assert ambiguous.actions == ["rematch", "done_in_erp", "dismiss"]

    await _resolve(flow, ambiguous.id, "rematch", second.external_ref)
    await flow.deliver()
    await flow.deliver()
    payment = await flow.payment("p1")
    assert (payment.state, payment.invoice_name) == ("registered", second.external_ref)
    assert [e.data["invoice"] for e in await flow.events(RECEIVED)] == [second.external_ref]
    [untouched] = await erp.find_invoices([first.external_ref])
    assert not untouched.paid

    # resolved without a note, still ambiguous: a new exception, nothing registered twice
    erp.add_invoice("web:C2", Decimal("20.00"))
    erp.add_invoice("web:C2", Decimal("20.00"))
    await flow.report(report("p2", "20.00", customer="web:C2"))
    await flow.deliver()
    [again] = await flow.exceptions()
    await _resolve(flow, again.id, "rematch", None)
    await flow.deliver()
    await flow.deliver()
    [reopened] = await flow.exceptions()
    assert reopened.id != again.id and reopened.type == "payment_ambiguous"
    assert (await flow.payment("p2")).state == "ambiguous"
