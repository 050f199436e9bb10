"""Payments in the sandbox: ``account.journal``, ``account.payment`` and the
``account.payment.register`` wizard, following Odoo's behaviour as a person sees it from an
invoice.

* The wizard is opened on posted customer invoices or credit notes (``active_model``
  ``account.move``, ``active_ids``) of one company; nothing left to pay is refused, as Odoo does.
* One invoice (or ``group_payment``): one payment of the wizard's ``amount`` (default: the
  residual). Several invoices without ``group_payment``: one payment per invoice, each for its
  residual (the amount cannot be edited then).
* ``payment_difference_handling`` ``open``: a smaller amount leaves the invoice ``partial``, a
  larger one pays it and leaves the excess to the customer (not reconciled); ``reconcile`` needs
  a write-off account, which the sandbox does not model, and is refused.
* The payment's memo is the wizard's ``communication`` (one payment), else the invoice's payment
  reference or number; the field is ``ref`` up to 17 and ``memo`` from 18.
* ``action_create_payments`` answers the window action of the payment(s) made (``res_id`` for
  one, a ``domain`` for several), as Odoo does.

The invoice's paid amount is what makes its ``amount_residual`` and ``payment_state`` (computed
in :mod:`.documents`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from crossdock.sandbox.odoo.documents import move_amounts
from crossdock.sandbox.odoo.errors import UserError
from crossdock.sandbox.odoo.orm import Env, F, ModelSpec
from crossdock.sandbox.odoo.store import Record

__all__ = ["with_payments"]


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


def _due(env: Env, move: Record) -> Any:
    return move.get("_date_due") or move.get("invoice_date") or None


def _wizard_before_create(env: Env, record: Record, vals: dict[str, Any]) -> None:
    if env.context.get("active_model") != "account.move":
        raise UserError("The register payment wizard should only be called on account.move.")
    ids = [int(i) for i in env.context.get("active_ids") or []]
    if not ids:
        raise UserError("Select the journal entries to pay.")
    moves = env.records("account.move", ids)
    if any(m.get("state") != "posted" for m in moves):
        raise UserError("You can only register payment for posted journal entries.")
    if any(m.get("move_type") not in ("out_invoice", "out_refund") for m in moves):
        raise UserError("The sandbox registers payments of customer invoices and credit notes.")
    if len({m.get("company_id") for m in moves}) > 1:
        raise UserError("You can't create payments for entries belonging to different companies.")
    residuals = [move_amounts(env, m)["amount_residual"] for m in moves]
    if all(r <= 0 for r in residuals):
        raise UserError(
            "You can't register a payment because there is nothing left to pay on the selected "
            "journal items."
        )
    record["_move_ids"] = ids
    record["company_id"] = moves[0].get("company_id")
    record["currency_id"] = record.get("currency_id") or moves[0].get("currency_id")
    record["payment_date"] = record.get("payment_date") or _today()
    record["payment_difference_handling"] = record.get("payment_difference_handling") or "open"
    if record.get("amount") in (None, 0, 0.0):
        record["amount"] = round(sum(r for r in residuals if r > 0), 2)
    if record.get("journal_id") is None:
        journal = next(
            (
                j
                for j in env.table("account.journal").values()
                if j.get("type") == "bank" and j.get("company_id") == record["company_id"]
            ),
            None,
        )
        if journal is None:  # every company has one from its chart of accounts
            [made] = env.create(
                "account.journal",
                [
                    {
                        "name": "Bank",
                        "code": "BNK1",
                        "type": "bank",
                        "company_id": record["company_id"],
                    }
                ],
            )
            record["journal_id"] = made
        else:
            record["journal_id"] = int(journal["id"])


def _memo_field(env: Env) -> str:
    return "memo" if env.version >= 18 else "ref"


def _pay(env: Env, wizard: Record, move: Record, amount: float, memo: str) -> int:
    if wizard.get("currency_id") != move.get("currency_id"):
        raise UserError("The sandbox does not convert currencies: pay in the invoice's currency.")
    inbound = move.get("move_type") == "out_invoice"
    [payment] = env.create(
        "account.payment",
        [
            {
                "partner_id": move.get("partner_id"),
                "amount": amount,
                "currency_id": move.get("currency_id"),
                "payment_type": "inbound" if inbound else "outbound",
                "partner_type": "customer",
                "journal_id": wizard.get("journal_id"),
                "date": wizard.get("payment_date"),
                "company_id": move.get("company_id"),
                _memo_field(env): memo,
                "reconciled_invoice_ids": [int(move["id"])],
            }
        ],
    )
    total = move_amounts(env, move)["amount_total"]
    paid = round(min(float(move.get("_paid") or 0.0) + amount, total), 2)
    env.tx.update("account.move", int(move["id"]), {"_paid": paid})
    return payment


def _communication(move: Record) -> str:
    return str(move.get("payment_reference") or move.get("ref") or move.get("name") or "")


def wizard_create_payments(env: Env, ids: list[int]) -> Any:
    created: list[int] = []
    for wizard_id in ids:
        wizard = env.rec("account.payment.register", wizard_id)
        moves = env.records("account.move", wizard.get("_move_ids") or [])
        if wizard.get("payment_difference_handling") == "reconcile":
            raise UserError("Please define a write-off account (not modelled by the sandbox).")
        open_moves = [m for m in moves if move_amounts(env, m)["amount_residual"] > 0]
        if len(moves) == 1 or wizard.get("group_payment"):
            if len(open_moves) != len(moves):
                raise UserError("You can't register a payment on a paid invoice.")
            amount = float(wizard.get("amount") or 0.0)
            if amount <= 0:
                raise UserError("The payment amount must be strictly positive.")
            memo = str(wizard.get("communication") or _communication(moves[0]))
            for move in moves:
                residual = move_amounts(env, move)["amount_residual"]
                last = move is moves[-1]
                part = amount if last else min(amount, residual)
                created.append(_pay(env, wizard, move, round(part, 2), memo))
                amount = round(amount - part, 2)
        else:
            for move in open_moves:
                residual = move_amounts(env, move)["amount_residual"]
                created.append(_pay(env, wizard, move, residual, _communication(move)))
    if env.context.get("dont_redirect_to_payments"):
        return True
    action: dict[str, Any] = {
        "name": "Payments",
        "type": "ir.actions.act_window",
        "res_model": "account.payment",
        "context": {"create": False},
    }
    if len(created) == 1:
        action.update(view_mode="form", res_id=created[0])
    else:
        action.update(view_mode="list,form", domain=[["id", "in", created]])
    return action


def _payment_before_create(env: Env, record: Record, vals: dict[str, Any]) -> None:
    sequence = len(env.table("account.payment")) + 1
    record["name"] = f"PBNK1/{_today()[:4]}/{sequence:05d}"
    # posted at once, as the wizard does; "in_process" until the bank statement from 18 on
    record["state"] = "in_process" if env.version >= 18 else "posted"


SPECS = [
    ModelSpec(
        "account.journal",
        "Journal",
        {
            "name": F("char", required=True),
            "code": F("char", required=True),
            "type": F("selection", selection=("sale", "purchase", "cash", "bank", "general")),
            "company_id": F("many2one", relation="res.company"),
            "currency_id": F("many2one", relation="res.currency"),
        },
    ),
    ModelSpec(
        "account.payment",
        "Payments",
        {
            "name": F("char"),
            "partner_id": F("many2one", relation="res.partner"),
            "amount": F("float"),
            "currency_id": F("many2one", relation="res.currency"),
            "payment_type": F("selection", selection=("inbound", "outbound")),
            "partner_type": F("selection", selection=("customer", "supplier")),
            "journal_id": F("many2one", relation="account.journal"),
            "date": F("date"),
            "company_id": F("many2one", relation="res.company"),
            "state": F("selection", selection=("draft", "in_process", "posted", "paid", "cancel")),
            "ref": F("char", until=17),
            "memo": F("char", since=18),
            "reconciled_invoice_ids": F("many2many", relation="account.move"),
        },
        before_create=_payment_before_create,
    ),
    ModelSpec(
        "account.payment.register",
        "Pay",
        {
            "amount": F("float"),
            "currency_id": F("many2one", relation="res.currency"),
            "payment_date": F("date"),
            "journal_id": F("many2one", relation="account.journal"),
            "communication": F("char"),
            "group_payment": F("boolean"),
            "payment_difference_handling": F("selection", selection=("open", "reconcile")),
            "company_id": F("many2one", relation="res.company"),
        },
        before_create=_wizard_before_create,
        methods={"action_create_payments": wizard_create_payments},
    ),
]

MOVE_FIELDS = {
    "payment_reference": F("char"),
    "invoice_date_due": F("date", compute=_due, readonly=True),
}


def with_payments(specs: list[ModelSpec]) -> list[ModelSpec]:
    """``specs`` with the payment models added and ``account.move``'s payment fields."""
    out = []
    for spec in specs:
        if spec.name == "account.move":
            spec = replace(spec, fields={**spec.fields, **MOVE_FIELDS})
        out.append(spec)
    return [*out, *SPECS]
