"""The payments flow's event types, subjects and source."""

from __future__ import annotations

from crossdock.flows.subjects import key_of, subject

SOURCE = "flows.payments"
GROUP = "payments"
LANE = "default"

REPORTED = "payment.reported"
"""Internal: a gateway or a bank statement reported a payment (stored, acknowledged)."""
RECEIVED = "payment.received"
FAILED = "payment.failed"
INVOICE_PAID = "invoice.paid"

REMATCH = "payment.rematch"
"""Internal: match a payment that matched nothing (or was ambiguous) again, on the stream."""
EXCEPTION_RESOLVED = "exception.resolved"
INVOICE_POSTED = "invoice.posted"
RETURN_REFUNDED = "return.refunded"
RETURN_CREDITED = "return.credited"
NEW_DOCUMENTS = (INVOICE_POSTED, RETURN_REFUNDED, RETURN_CREDITED)
"""A new invoice or credit note in the ERP: unmatched payments that may be its are retried."""

CONSUMED = (REPORTED, REMATCH, EXCEPTION_RESOLVED, *NEW_DOCUMENTS)
EMITTED = (RECEIVED, FAILED, INVOICE_PAID)

STREAM = "payments"
"""The subject of every reported payment: one ordered stream, so that payments against the same
invoice are allocated one after the other, and an ERP outage resumes them in order."""


def payment_subject(payment_id: str) -> str:
    return subject("payment", payment_id)


def payment_of(of: str) -> str | None:
    """The payment id of a payment's subject, else None."""
    return key_of("payment", of)


def invoice_subject(name: str) -> str:
    return subject("invoice", name)
