"""The payments flow on the in-memory ERP: matching, registration, events, exceptions, crash."""

from __future__ import annotations

from decimal import Decimal

from crossdock.connectors.memory import MemoryErp
from crossdock.flows.payments.events import FAILED, INVOICE_PAID, RECEIVED
from tests.flows.payments.harness import PaymentsFlow, data_of, report


async def test_a_captured_payment_naming_its_invoice_pays_it(
    flow: PaymentsFlow, erp: MemoryErp
) -> None:
    invoice = erp.add_invoice("web:C1", Decimal("100.00"))
    await flow.report(report("p1", "100.00", reference=invoice.external_ref))
    await flow.deliver()

    row = await flow.payment("p1")
    assert (row.state, row.invoice_name, row.applied) == ("registered", invoice.external_ref, 100)
    assert [i.payment_state for i in await erp.find_invoices([invoice.external_ref])] == ["paid"]
    [received] = data_of(await flow.events(RECEIVED))
    assert received["invoice"] == invoice.external_ref and received["state"] == "registered"
    [paid] = data_of(await flow.events(INVOICE_PAID))
    assert paid["invoice"] == invoice.external_ref and paid["payment_ids"] == ["test:p1"]


async def test_by_amount_and_customer_when_no_reference(flow: PaymentsFlow, erp: MemoryErp) -> None:
    erp.add_invoice("web:C1", Decimal("80.00"))
    wanted = erp.add_invoice("web:C1", Decimal("120.00"))
    erp.add_invoice("web:C2", Decimal("120.00"))
    await flow.report(report("p1", "120.005", customer="web:C1"))
    await flow.deliver()
    row = await flow.payment("p1")
    assert (row.state, row.invoice_name) == ("registered", wanted.external_ref)


async def test_partial_then_the_rest(flow: PaymentsFlow, erp: MemoryErp) -> None:
    invoice = erp.add_invoice("web:C1", Decimal("100.00"))
    await flow.report(report("p1", "40.00", reference=invoice.external_ref))
    await flow.deliver()
    row = await flow.payment("p1")
    assert (row.state, row.difference) == ("partial", Decimal("-60.00"))
    [open_invoice] = await erp.find_invoices([invoice.external_ref])
    assert (open_invoice.payment_state, open_invoice.amount_residual) == ("partial", 60)
    assert await flow.events(INVOICE_PAID) == []

    await flow.report(report("p2", "60.00", reference=invoice.external_ref))
    await flow.deliver()
    assert (await flow.payment("p2")).state == "registered"
    assert len(await flow.events(INVOICE_PAID)) == 1


async def test_an_overpayment_pays_the_invoice_and_keeps_the_excess(
    flow: PaymentsFlow, erp: MemoryErp
) -> None:
    invoice = erp.add_invoice("web:C1", Decimal("100.00"))
    await flow.report(report("p1", "130.00", reference=invoice.external_ref))
    await flow.deliver()
    row = await flow.payment("p1")
    assert (row.state, row.applied, row.difference) == ("overpaid", 130, 30)
    assert len(await flow.events(INVOICE_PAID)) == 1


async def test_two_payments_in_one_batch_are_allocated_in_order(
    flow: PaymentsFlow, erp: MemoryErp
) -> None:
    invoice = erp.add_invoice("web:C1", Decimal("100.00"))
    await flow.report(
        report("p1", "100.00", reference=invoice.external_ref),
        report("p2", "100.00", reference=invoice.external_ref),
    )
    await flow.deliver()
    assert (await flow.payment("p1")).state == "registered"
    second = await flow.payment("p2")
    assert second.state == "unmatched" and "already paid" in (second.detail or "")
    assert len(erp.payments) == 1


async def test_a_duplicate_report_is_never_a_second_payment(
    flow: PaymentsFlow, erp: MemoryErp
) -> None:
    invoice = erp.add_invoice("web:C1", Decimal("50.00"))
    first = report("p1", "50.00", reference=invoice.external_ref)
    await flow.report(first)
    await flow.report(first)  # the same gateway event again: the log keeps one
    await flow.report(first, key_prefix="again:")  # another event about the same payment
    await flow.deliver()
    await flow.report(first, key_prefix="later:")
    await flow.deliver()
    assert len(erp.payments) == 1
    assert len(await flow.events(RECEIVED)) == 1


async def test_ambiguous_matches_wait_for_finance(flow: PaymentsFlow, erp: MemoryErp) -> None:
    erp.add_invoice("web:C1", Decimal("75.00"))
    erp.add_invoice("web:C1", Decimal("75.00"))
    await flow.report(report("p1", "75.00", customer="web:C1"))
    await flow.deliver()
    assert (await flow.payment("p1")).state == "ambiguous"
    [exception] = await flow.exceptions()
    assert (exception.type, exception.owner) == ("payment_ambiguous", "finance")
    assert exception.subject == "payment:test:p1"
    assert erp.payments == {}


async def test_a_payment_in_another_currency_is_not_converted(
    flow: PaymentsFlow, erp: MemoryErp
) -> None:
    invoice = erp.add_invoice("web:C1", Decimal("100.00"), currency="EUR")
    await flow.report(report("p1", "100.00", currency="USD", reference=invoice.external_ref))
    await flow.deliver()
    assert (await flow.payment("p1")).state == "not_registered"
    assert [e.type for e in await flow.exceptions()] == ["payment_currency"]
    assert erp.payments == {}


async def test_a_payment_matching_nothing_is_kept_unmatched(flow: PaymentsFlow) -> None:
    await flow.report(report("p1", "10.00", reference="nothing here", customer="nobody"))
    await flow.deliver()
    assert (await flow.payment("p1")).state == "unmatched"
    assert await flow.exceptions() == []


async def test_a_failed_payment_is_announced(flow: PaymentsFlow, erp: MemoryErp) -> None:
    await flow.report(report("p1", "10.00", kind="failed", reference="INV/1"))
    await flow.deliver()
    assert (await flow.payment("p1")).state == "failed"
    [failed] = data_of(await flow.events(FAILED))
    assert failed["reason"] == "card_declined"
    assert erp.calls.get("register_payments") is None


async def test_a_refund_is_registered_against_its_credit_note(
    flow: PaymentsFlow, erp: MemoryErp
) -> None:
    note = erp.add_invoice("web:C1", Decimal("25.00"), kind="credit_note")
    await flow.report(report("r1", "25.00", kind="refunded", reference=note.external_ref))
    await flow.report(report("r2", "5.00", kind="refunded", reference="RINV/404"))
    await flow.deliver()
    row = await flow.payment("r1")
    assert (row.state, row.invoice_name) == ("registered", note.external_ref)
    assert (await flow.payment("r2")).state == "unmatched"
    assert [e.type for e in await flow.exceptions()] == ["refund_without_credit_note"]
    assert await flow.events(RECEIVED) == []


async def test_a_chargeback_opens_an_exception_and_holds_credit(
    flow: PaymentsFlow, erp: MemoryErp
) -> None:
    customer = erp.customers[(1, "web:C1")] = 77
    invoice = erp.add_invoice("web:C1", Decimal("90.00"))
    await flow.report(report("p1", "90.00", reference=invoice.external_ref, customer="web:C1"))
    await flow.deliver()
    await flow.report(report("d1", "90.00", kind="chargeback", original="p1"))
    await flow.deliver()
    [exception] = await flow.exceptions()
    assert (exception.type, exception.owner) == ("chargeback", "finance")
    assert invoice.external_ref in exception.reason and "credit hold" in exception.reason
    assert erp.credits[customer][1] == Decimal("0.01")
    assert (await flow.payment("d1")).state == "chargeback"


async def test_a_chargeback_in_the_batch_of_its_payment_names_the_invoice(
    flow: PaymentsFlow, erp: MemoryErp
) -> None:
    erp.customers[(1, "web:C1")] = 77
    invoice = erp.add_invoice("web:C1", Decimal("90.00"))
    await flow.report(
        report("p1", "90.00", reference=invoice.external_ref, customer="web:C1"),
        report("d1", "90.00", kind="chargeback", original="p1"),
    )
    await flow.deliver()
    [exception] = await flow.exceptions()
    assert invoice.external_ref in exception.reason and "web:C1" in exception.reason
    assert (await flow.payment("p1")).state == "registered"


async def test_a_crash_after_the_erp_registered_is_not_a_second_payment(
    flow: PaymentsFlow, erp: MemoryErp
) -> None:
    invoice = erp.add_invoice("web:C1", Decimal("100.00"))
    partial = erp.add_invoice("web:C2", Decimal("100.00"))
    await flow.report(
        report("p1", "100.00", reference=invoice.external_ref),
        report("p2", "30.00", reference=partial.external_ref),
    )
    await flow.deliver(commit=False)  # the ERP took both; the hub died before acknowledging
    assert len(erp.payments) == 2
    assert (await flow.payment("p1")).state == "registering"
    erp.payments.pop("test:p1")  # a full payment is recognised by its settled invoice alone

    await flow.deliver()
    assert (await flow.payment("p1")).state == "registered"
    assert (await flow.payment("p2")).state == "partial"
    [again] = await erp.find_invoices([partial.external_ref])
    assert again.amount_residual == 70  # the partial payment was not registered twice
    assert len(await flow.events(RECEIVED)) == 2
