"""Payments on Odoo: customer invoices as matching needs them, and payments registered against
them through the ``account.payment.register`` wizard, as a person would from the invoice.

* :meth:`PaymentOperations.find_invoices` — posted customer invoices and credit notes by number
  or payment reference (chunked ``search_read``).
* :meth:`PaymentOperations.credit_notes_for` — posted credit notes reversing named invoices
  (what a refund without a credit note's number is matched to, through the payment it takes
  back).
* :meth:`PaymentOperations.open_invoices` — posted invoices not fully paid, by customer
  (``partner_id.ref`` or name), currency and due date.
* :meth:`PaymentOperations.register_payments` — idempotent by the payment's memo
  (``crossdock:<key>``, looked up first; the field is ``ref`` before Odoo 18 and ``memo`` from
  18 on, see the dialect). Payments settling their invoice exactly are registered together: one
  wizard per company and currency over up to :data:`WIZARD_INVOICES` invoices
  (``group_payment`` off: one payment per invoice, for its residual), which is what makes a
  batch a handful of calls. A partial payment
  or an overpayment is registered alone with its amount and ``payment_difference_handling =
  'open'``: the invoice stays partly paid, or the excess stays as the customer's credit. A refund
  is the same wizard on the credit note (an outbound payment).
* :meth:`PaymentOperations.hold_credit` — a credit limit written on customers (credit hold).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from crossdock.connectors.odoo.batching import BatchOutcome
from crossdock.connectors.odoo.errors import OdooBusinessError
from crossdock.connectors.odoo.mapping import decimal, m2o_id
from crossdock.connectors.odoo.ops_base import OperationsBase
from crossdock.connectors.odoo.payment_records import (
    OpenInvoice,
    PaymentRegistration,
    RegisteredPayment,
    payment_memo,
)

__all__ = ["PaymentOperations"]

CHUNK = 1000
WIZARD_INVOICES = 100
"""Invoices per wizard: Odoo creates and posts one payment per invoice in the call, so a real
Odoo needs seconds per hundred; a larger wizard would outlast the call timeout."""
_FIELDS = [
    "name",
    "payment_reference",
    "move_type",
    "partner_id",
    "currency_id",
    "amount_total",
    "amount_residual",
    "payment_state",
    "invoice_date_due",
    "company_id",
    "state",
]
_TYPES = ["out_invoice", "out_refund"]


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, False, "") else None


def _name(value: Any) -> str:
    return str(value[1]) if isinstance(value, list | tuple) and len(value) > 1 else ""


class PaymentOperations(OperationsBase):
    async def _invoices(
        self, domain: list[Any], *, reversed_names: bool = False
    ) -> list[OpenInvoice]:
        context = await self.all_companies_context()
        fields = [*_FIELDS, "reversed_entry_id"] if reversed_names else _FIELDS
        rows = await self.client.search_read(
            "account.move", domain, fields, order="id", context=context
        )
        names: dict[int, str] = {}
        if reversed_names:  # the display name adds the reference: the number is read itself
            reversed_ids = sorted({i for r in rows if (i := m2o_id(r["reversed_entry_id"]))})
            for start in range(0, len(reversed_ids), CHUNK):
                chunk = reversed_ids[start : start + CHUNK]
                for move in await self.client.read(
                    "account.move", chunk, ["name"], context=context
                ):
                    names[int(move["id"])] = str(move["name"])
        partners = sorted({p for r in rows if (p := m2o_id(r["partner_id"])) is not None})
        refs: dict[int, str | None] = {}
        for start in range(0, len(partners), CHUNK):
            for partner in await self.client.read(
                "res.partner", partners[start : start + CHUNK], ["ref"], context=context
            ):
                refs[int(partner["id"])] = _text(partner.get("ref"))
        return [self._open(row, refs, names) for row in rows]

    @staticmethod
    def _open(
        row: dict[str, Any], refs: dict[int, str | None], names: dict[int, str] | None = None
    ) -> OpenInvoice:
        partner = m2o_id(row["partner_id"]) or 0
        due = _text(row.get("invoice_date_due"))
        return OpenInvoice(
            id=int(row["id"]),
            name=str(row["name"]),
            payment_reference=_text(row.get("payment_reference")),
            move_type=str(row["move_type"]),
            partner_id=partner,
            partner_ref=refs.get(partner),
            partner_name=_name(row["partner_id"]),
            currency=_name(row["currency_id"]),
            amount_total=decimal(row["amount_total"], 2),
            amount_residual=decimal(row["amount_residual"], 2),
            payment_state=str(row.get("payment_state") or "not_paid"),
            due_date=date.fromisoformat(due[:10]) if due else None,
            reverses=(names or {}).get(m2o_id(row.get("reversed_entry_id")) or 0),
        )

    async def find_invoices(self, references: Sequence[str]) -> list[OpenInvoice]:
        wanted = sorted(set(references))
        found: dict[int, OpenInvoice] = {}
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            domain = [
                ["state", "=", "posted"],
                ["move_type", "in", _TYPES],
                "|",
                ["name", "in", chunk],
                ["payment_reference", "in", chunk],
            ]
            for invoice in await self._invoices(domain):
                found[invoice.id] = invoice
        return list(found.values())

    async def credit_notes_for(self, invoice_names: Sequence[str]) -> list[OpenInvoice]:
        wanted = sorted(set(invoice_names))
        found: list[OpenInvoice] = []
        for start in range(0, len(wanted), CHUNK):
            domain = [
                ["state", "=", "posted"],
                ["move_type", "=", "out_refund"],
                ["reversed_entry_id.name", "in", wanted[start : start + CHUNK]],
            ]
            found += await self._invoices(domain, reversed_names=True)
        return found

    async def open_invoices(
        self,
        *,
        partners: Sequence[str] = (),
        currencies: Sequence[str] = (),
        due_before: date | None = None,
    ) -> list[OpenInvoice]:
        domain: list[Any] = [
            ["state", "=", "posted"],
            ["move_type", "=", "out_invoice"],
            ["payment_state", "in", ["not_paid", "partial"]],
        ]
        if partners:
            who = sorted(set(partners))
            domain += ["|", ["partner_id.ref", "in", who], ["partner_id.name", "in", who]]
        if currencies:
            domain.append(["currency_id.name", "in", sorted(set(currencies))])
        if due_before is not None:
            domain.append(["invoice_date_due", "<", due_before.isoformat()])
        return await self._invoices(domain)

    async def _journal(self, code: str | None, context: dict[str, Any]) -> int | None:
        if code is None:
            return None
        rows = await self.client.search_read(
            "account.journal", [["code", "=", code]], ["id"], limit=1, context=context
        )
        if not rows:
            raise OdooBusinessError(f"no journal with code {code!r}", model="account.journal")
        return int(rows[0]["id"])

    async def register_payments(
        self, registrations: Sequence[PaymentRegistration], *, journal: str | None = None
    ) -> BatchOutcome[str, RegisteredPayment]:
        outcome: BatchOutcome[str, RegisteredPayment] = BatchOutcome()
        if not registrations:
            return outcome
        context = await self.all_companies_context()
        memo_field = self.dialect.payment_memo_field
        # a payment registered alone carries its key as memo; a full one shares a wizard, which
        # writes the invoice's reference instead, and is recognised by its settled invoice
        memos = {payment_memo(r.key): r for r in registrations if not r.full}
        existing = (
            await self.client.search_read(
                "account.payment",
                [[memo_field, "in", sorted(memos)], ["state", "!=", "cancel"]],
                [memo_field, "amount"],
                context=context,
            )
            if memos
            else []
        )
        for row in existing:
            reg = memos[str(row[memo_field])]
            outcome.existing.add(reg.key)
            outcome.done[reg.key] = RegisteredPayment(
                reg.key, reg.invoice_id, int(row["id"]), reg.amount
            )
        todo = [r for r in registrations if r.key not in outcome.done]
        moves = {
            int(m["id"]): m
            for m in await self.client.read(
                "account.move",
                sorted({r.invoice_id for r in todo}),
                ["state", "currency_id", "company_id", "amount_residual", "payment_state"],
                context=context,
            )
        }
        journal_id = await self._journal(journal, context)
        groups: dict[tuple[int, str], list[PaymentRegistration]] = {}
        for reg in todo:
            move = moves.get(reg.invoice_id)
            if move is None or move["state"] != "posted":
                outcome.failed[reg.key] = OdooBusinessError(
                    f"invoice {reg.invoice_id} is not posted", model="account.move"
                )
                continue
            if _name(move["currency_id"]) != reg.currency:
                outcome.failed[reg.key] = OdooBusinessError(
                    f"invoice {reg.invoice_id} is in {_name(move['currency_id'])}, "
                    f"not {reg.currency}",
                    model="account.move",
                )
                continue
            residual = decimal(move["amount_residual"], 2)
            if reg.full and reg.resumed and residual <= 0:
                outcome.existing.add(reg.key)
                outcome.done[reg.key] = RegisteredPayment(reg.key, reg.invoice_id, None, reg.amount)
            elif reg.full and residual == reg.amount:
                company = m2o_id(move["company_id"]) or 0
                groups.setdefault((company, reg.currency), []).append(reg)
            else:
                await self._register_one(reg, journal_id, context, outcome)
        for (company, _), regs in groups.items():
            for start in range(0, len(regs), WIZARD_INVOICES):
                chunk = regs[start : start + WIZARD_INVOICES]
                await self._register_full(chunk, company, journal_id, context, outcome)
        return outcome

    def _wizard_context(self, context: dict[str, Any], ids: list[int]) -> dict[str, Any]:
        return {**context, "active_model": "account.move", "active_ids": ids, "active_id": ids[0]}

    @staticmethod
    def _created(action: Any) -> list[int]:
        if not isinstance(action, dict):
            return []
        if action.get("res_id"):
            return [int(action["res_id"])]
        for term in action.get("domain") or []:
            if isinstance(term, list | tuple) and len(term) == 3 and term[0] == "id":
                return [int(i) for i in term[2]]
        return []

    async def _register_one(
        self,
        reg: PaymentRegistration,
        journal_id: int | None,
        context: dict[str, Any],
        outcome: BatchOutcome[str, RegisteredPayment],
    ) -> None:
        vals: dict[str, Any] = {
            "amount": float(reg.amount),
            "payment_date": reg.date.isoformat(),
            "communication": payment_memo(reg.key),
            "payment_difference_handling": "open",
        }
        if journal_id is not None:
            vals["journal_id"] = journal_id
        wizard_context = self._wizard_context(context, [reg.invoice_id])
        try:
            [wizard] = await self.client.create(
                "account.payment.register", [vals], context=wizard_context
            )
            action = await self.client.call(
                "account.payment.register",
                "action_create_payments",
                [wizard],
                context=wizard_context,
            )
        except OdooBusinessError as exc:
            outcome.failed[reg.key] = exc
            return
        created = self._created(action)
        outcome.done[reg.key] = RegisteredPayment(
            reg.key, reg.invoice_id, created[0] if created else None, reg.amount
        )

    async def _register_full(
        self,
        regs: list[PaymentRegistration],
        company: int,
        journal_id: int | None,
        context: dict[str, Any],
        outcome: BatchOutcome[str, RegisteredPayment],
    ) -> None:
        ids = [r.invoice_id for r in regs]
        vals: dict[str, Any] = {"group_payment": False, "payment_date": regs[0].date.isoformat()}
        if journal_id is not None:
            vals["journal_id"] = journal_id
        wizard_context = {**self._wizard_context(context, ids), "allowed_company_ids": [company]}
        try:
            [wizard] = await self.client.create(
                "account.payment.register", [vals], context=wizard_context
            )
            action = await self.client.call(
                "account.payment.register",
                "action_create_payments",
                [wizard],
                context=wizard_context,
            )
        except OdooBusinessError:
            if len(regs) == 1:
                await self._register_one(regs[0], journal_id, context, outcome)
                return
            # one invoice refused the wizard: each goes alone, so only that one fails
            for reg in regs:
                await self._register_one(reg, journal_id, context, outcome)
            return
        created = self._created(action)
        by_invoice = dict(zip(ids, created, strict=False)) if len(created) == len(ids) else {}
        for reg in regs:
            outcome.done[reg.key] = RegisteredPayment(
                reg.key, reg.invoice_id, by_invoice.get(reg.invoice_id), reg.amount
            )

    async def hold_credit(self, partner_refs: Sequence[str], limit: Decimal) -> list[str]:
        if not partner_refs:
            return []
        context = await self.all_companies_context()
        rows = await self.client.search_read(
            "res.partner", [["ref", "in", sorted(set(partner_refs))]], ["ref"], context=context
        )
        vals: dict[str, Any] = {"credit_limit": float(limit)}
        if self.dialect.major >= 17:
            vals["use_partner_credit_limit"] = True
        ids = [int(r["id"]) for r in rows]
        # the limit is company-dependent: the hold applies in every company of the user
        for company_id in self.client.info.company_ids if ids else ():
            await self.client.write(
                "res.partner", ids, vals, context={"allowed_company_ids": [company_id]}
            )
        return sorted({str(r["ref"]) for r in rows})
