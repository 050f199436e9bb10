"""The values the ERP port's payment operations speak in: open invoices as matching sees them,
a payment to register against one invoice (natural key: the hub's payment key, written into the
ERP payment's memo) and what the ERP answered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

__all__ = ["OpenInvoice", "PaymentRegistration", "RegisteredPayment", "payment_memo"]

PAID_STATES = frozenset({"paid", "in_payment", "reversed"})


def payment_memo(key: str) -> str:
    """The memo an ERP payment carries: its natural key, looked up before registering."""
    return f"crossdock:{key}"


@dataclass(frozen=True, slots=True)
class OpenInvoice:
    """A posted customer invoice (``out_invoice``) or credit note (``out_refund``)."""

    id: int
    name: str
    payment_reference: str | None
    move_type: str
    partner_id: int
    partner_ref: str | None
    partner_name: str
    currency: str
    amount_total: Decimal
    amount_residual: Decimal
    payment_state: str
    due_date: date | None
    reverses: str | None = None
    """A credit note: the name of the invoice it reverses (when Odoo says)."""

    @property
    def paid(self) -> bool:
        return self.payment_state in PAID_STATES or self.amount_residual <= 0


@dataclass(frozen=True, slots=True)
class PaymentRegistration:
    """Register ``amount`` (in ``currency``, the invoice's) against one invoice or credit note.

    ``full``: the amount settles the residual exactly, so registrations of many invoices share
    one wizard; otherwise the payment is registered alone, leaving the invoice partly paid (less)
    or the customer with a credit (more). ``resumed``: an earlier attempt may have reached the ERP
    (crash before the hub recorded it): a full registration whose invoice is now paid is taken as
    done rather than registered again."""

    key: str
    invoice_id: int
    amount: Decimal
    currency: str
    date: date
    full: bool
    resumed: bool = False


@dataclass(frozen=True, slots=True)
class RegisteredPayment:
    key: str
    invoice_id: int
    payment_id: int | None
    """The ERP payment (None when a resumed registration was found done by its invoice)."""
    amount: Decimal
