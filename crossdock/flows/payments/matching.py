"""Matching a payment to the invoice it pays: pure decisions on what the ERP answered.

1. By reference: an invoice (a credit note, for a refund) whose number or payment reference is
   the payment's reference, or one of the words of a bank's remittance text. One invoice found
   is the match; several different ones are ambiguous.
2. Otherwise by amount and customer: the customer's open invoices in the payment's currency
   whose residual is within the tolerance of the amount. One is the match; several are
   ambiguous; none leaves the payment unmatched.
3. A refund still unmatched, whose payment taken back is known and was registered against an
   invoice: the credit note reversing that invoice (:func:`by_original`).

Then the amount is allocated against the invoice's residual, in the order payments arrived (the
residual each later payment sees is what the earlier ones left): equal within the tolerance is a
full payment, less is partial, more is an overpayment (the excess stays as the customer's
credit). A payment in another currency than its invoice is never converted: it is refused for a
person to decide.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from crossdock.connectors.gateway.report import PaymentReport
from crossdock.connectors.odoo.payment_records import OpenInvoice

__all__ = ["InvoiceShare", "Match", "allocate", "by_original", "match", "reference_words"]

_SPLIT = re.compile(r"[\s,;]+")
MAX_WORDS = 20


def normal(text: str) -> str:
    return text.strip().upper()


def reference_words(reference: str | None) -> list[str]:
    """The words a reference could name an invoice by: the whole text, and each word of it that
    holds a digit (invoice numbers and payment references do; "thanks" and names do not)."""
    if not reference:
        return []
    words = [
        reference.strip(),
        *(w for w in _SPLIT.split(reference) if len(w) >= 3 and any(c.isdigit() for c in w)),
    ]
    return list(dict.fromkeys(w.strip(".:") for w in words if w))[:MAX_WORDS]


@dataclass(frozen=True, slots=True)
class Match:
    invoice: OpenInvoice | None
    how: str
    """``reference``, ``amount``, ``original``, ``ambiguous``, ``currency`` or ``none``."""
    candidates: tuple[str, ...] = ()


class InvoiceIndex:
    """The invoices of a batch, indexed by number and payment reference (upper case)."""

    def __init__(self, invoices: Iterable[OpenInvoice]) -> None:
        self.by_ref: dict[str, dict[int, OpenInvoice]] = {}
        self.by_customer: dict[tuple[str, str], dict[int, OpenInvoice]] = {}
        for invoice in invoices:
            for key in (invoice.name, invoice.payment_reference):
                if key:
                    self.by_ref.setdefault(normal(key), {})[invoice.id] = invoice
            for who in (invoice.partner_ref, invoice.partner_name):
                if who:
                    pair = (normal(who), invoice.currency)
                    self.by_customer.setdefault(pair, {})[invoice.id] = invoice

    def add(self, invoices: Iterable[OpenInvoice]) -> None:
        more = InvoiceIndex(invoices)
        for key, found in more.by_ref.items():
            self.by_ref.setdefault(key, {}).update(found)
        for who, listed in more.by_customer.items():
            self.by_customer.setdefault(who, {}).update(listed)


def _wanted_type(report: PaymentReport) -> str:
    return "out_refund" if report.kind == "refunded" else "out_invoice"


def match(
    report: PaymentReport,
    index: InvoiceIndex,
    residuals: dict[int, Decimal],
    tolerance: Decimal,
) -> Match:
    """The invoice ``report`` pays (see the module documentation)."""
    wanted = _wanted_type(report)
    found: dict[int, OpenInvoice] = {}
    for word in reference_words(report.reference):
        for invoice in index.by_ref.get(normal(word), {}).values():
            if invoice.move_type == wanted:
                found[invoice.id] = invoice
    if len(found) > 1:
        return Match(None, "ambiguous", tuple(sorted(i.name for i in found.values())))
    if found:
        [invoice] = found.values()
        if invoice.currency != report.currency:
            return Match(invoice, "currency", (invoice.name,))
        return Match(invoice, "reference")
    if not report.customer:
        return Match(None, "none")
    close = [
        invoice
        for invoice in index.by_customer.get(
            (normal(report.customer), report.currency), {}
        ).values()
        if invoice.move_type == wanted
        and residuals.get(invoice.id, invoice.amount_residual) > 0
        and abs(residuals.get(invoice.id, invoice.amount_residual) - report.amount) <= tolerance
    ]
    if len(close) > 1:
        return Match(None, "ambiguous", tuple(sorted(i.name for i in close)))
    if close:
        return Match(close[0], "amount")
    return Match(None, "none")


def by_original(
    report: PaymentReport,
    reversed_invoice: str,
    notes: Iterable[OpenInvoice],
    residuals: dict[int, Decimal],
    tolerance: Decimal,
) -> Match:
    """A refund that names no credit note, matched through the payment it takes back: the
    credit note reversing that payment's invoice, in the refund's currency and still open. Of
    several, the one whose residual is the amount (within the tolerance); else ambiguous."""
    candidates = [
        note
        for note in notes
        if note.move_type == "out_refund"
        and note.reverses == reversed_invoice
        and note.currency == report.currency
        and residuals.get(note.id, note.amount_residual) > 0
    ]
    if len(candidates) > 1:
        candidates = [
            n
            for n in candidates
            if abs(residuals.get(n.id, n.amount_residual) - report.amount) <= tolerance
        ] or candidates
    if len(candidates) > 1:
        return Match(None, "ambiguous", tuple(sorted(n.name for n in candidates)))
    if candidates:
        return Match(candidates[0], "original")
    return Match(None, "none")


@dataclass(frozen=True, slots=True)
class InvoiceShare:
    amount: Decimal
    """What is registered against the invoice."""
    full: bool
    """Settles the residual exactly (registered with others in one wizard)."""
    difference: Decimal
    """Payment amount less the residual: negative partial, positive overpaid, 0 exact."""

    @property
    def state(self) -> str:
        if self.difference < 0 and not self.full:
            return "partial"
        if self.difference > 0 and not self.full:
            return "overpaid"
        return "registered"


def allocate(amount: Decimal, residual: Decimal, tolerance: Decimal) -> InvoiceShare:
    """How ``amount`` is registered against an invoice whose residual is ``residual``."""
    difference = amount - residual
    if residual > 0 and abs(difference) <= tolerance:
        return InvoiceShare(residual, True, difference)
    return InvoiceShare(amount, False, difference)


def words_of(reports: Sequence[PaymentReport]) -> list[str]:
    """Every reference word of a batch, for one lookup."""
    return list(dict.fromkeys(w for r in reports for w in reference_words(r.reference)))
