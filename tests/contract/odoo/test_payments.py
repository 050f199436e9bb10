"""Contract: payments on the ERP — invoices found by number and by customer, payments registered
through ``account.payment.register`` (full ones of many invoices in one wizard, partial and
overpayments alone, refunds on credit notes), idempotent by memo, and a credit hold."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from crossdock.connectors.odoo import OdooOperations
from crossdock.connectors.odoo.payment_records import PaymentRegistration


async def customer(ops: OdooOperations, ref: str) -> int:
    [partner] = await ops.client.create("res.partner", [{"name": f"Payer {ref}", "ref": ref}])
    return partner


async def invoice(
    ops: OdooOperations, partner: int, amount: str, *, move_type: str = "out_invoice"
) -> tuple[int, str]:
    [move] = await ops.client.create(
        "account.move",
        [
            {
                "move_type": move_type,
                "partner_id": partner,
                "invoice_date": date.today().isoformat(),
                "invoice_line_ids": [
                    (0, 0, {"name": "Goods", "quantity": 1, "price_unit": float(amount),
                            "tax_ids": [(6, 0, [])]})
                ],
            }
        ],
    )  # fmt: skip
    await ops.client.call("account.move", "action_post", [move])
    [row] = await ops.client.read("account.move", [move], ["name"])
    return move, str(row["name"])


def registration(key: str, move: int, amount: str, *, full: bool) -> PaymentRegistration:
    return PaymentRegistration(key, move, Decimal(amount), "USD", date.today(), full=full)


async def test_invoices_are_found_by_number_and_by_customer(ops: OdooOperations, uid: str) -> None:
    partner = await customer(ops, f"web:{uid}")
    move, name = await invoice(ops, partner, "120")
    [found] = await ops.find_invoices([name])
    assert (found.id, found.move_type, found.partner_ref) == (move, "out_invoice", f"web:{uid}")
    assert (found.amount_total, found.amount_residual, found.currency) == (120, 120, "USD")
    assert found.payment_state == "not_paid"
    listed = await ops.open_invoices(partners=[f"web:{uid}"], currencies=["USD"])
    assert [i.id for i in listed] == [move]
    assert await ops.open_invoices(partners=[f"web:{uid}"], currencies=["EUR"]) == []


async def test_full_payments_of_many_invoices_share_one_wizard(
    ops: OdooOperations, uid: str
) -> None:
    partner = await customer(ops, f"web:{uid}")
    moves = [await invoice(ops, partner, amount) for amount in ("10", "20", "30")]
    regs = [
        registration(f"{uid}:{n}", move, amount, full=True)
        for n, ((move, _), amount) in enumerate(zip(moves, ("10", "20", "30"), strict=True))
    ]
    outcome = await ops.register_payments(regs)
    assert not outcome.failed and len(outcome.done) == 3
    found = await ops.find_invoices([name for _, name in moves])
    assert {i.payment_state in ("paid", "in_payment") for i in found} == {True}
    assert {i.amount_residual for i in found} == {0}

    # replayed after a crash: recognised by the settled invoices, nothing paid twice
    again = await ops.register_payments(
        [
            PaymentRegistration(r.key, r.invoice_id, r.amount, r.currency, r.date, True, True)
            for r in regs
        ]
    )
    assert again.existing == {r.key for r in regs}


async def test_partial_and_over_payments_and_idempotency(ops: OdooOperations, uid: str) -> None:
    partner = await customer(ops, f"web:{uid}")
    part_move, part_name = await invoice(ops, partner, "100")
    over_move, over_name = await invoice(ops, partner, "50")
    regs = [
        registration(f"{uid}:part", part_move, "40", full=False),
        registration(f"{uid}:over", over_move, "65", full=False),
    ]
    outcome = await ops.register_payments(regs)
    assert not outcome.failed and outcome.existing == set()
    by_name = {i.name: i for i in await ops.find_invoices([part_name, over_name])}
    assert (by_name[part_name].payment_state, by_name[part_name].amount_residual) == (
        "partial",
        60,
    )
    assert by_name[over_name].amount_residual == 0
    memo = ops.dialect.payment_memo_field
    [payment] = await ops.client.read(
        "account.payment", [outcome.done[f"{uid}:part"].payment_id or 0], [memo, "amount"]
    )
    assert (payment[memo], payment["amount"]) == (f"crossdock:{uid}:part", 40)

    again = await ops.register_payments(regs)  # the same keys: found by memo, not paid again
    assert again.existing == {f"{uid}:part", f"{uid}:over"}
    [still] = await ops.find_invoices([part_name])
    assert still.amount_residual == 60


async def test_a_refund_is_paid_on_its_credit_note(ops: OdooOperations, uid: str) -> None:
    partner = await customer(ops, f"web:{uid}")
    note, name = await invoice(ops, partner, "25", move_type="out_refund")
    [found] = await ops.find_invoices([name])
    assert found.move_type == "out_refund"
    outcome = await ops.register_payments([registration(f"{uid}:r", note, "25", full=True)])
    assert not outcome.failed
    [paid] = await ops.find_invoices([name])
    assert paid.amount_residual == 0


async def test_a_payment_in_another_currency_is_refused(ops: OdooOperations, uid: str) -> None:
    partner = await customer(ops, f"web:{uid}")
    move, _ = await invoice(ops, partner, "10")
    reg = PaymentRegistration(f"{uid}:eur", move, Decimal(10), "EUR", date.today(), full=True)
    outcome = await ops.register_payments([reg])
    assert set(outcome.failed) == {f"{uid}:eur"}


async def test_a_credit_hold_sets_the_limit(ops: OdooOperations, uid: str) -> None:
    partner = await customer(ops, f"web:{uid}")
    assert await ops.hold_credit([f"web:{uid}", f"web:{uid}-unknown"], Decimal("0.01")) == [
        f"web:{uid}"
    ]
    credits = await ops.customer_credits([partner])
    assert credits[partner][1] == Decimal("0.01")
