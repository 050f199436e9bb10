"""Reconciliation of payments: what the hub was told was paid, against the ERP's invoices.

* ``payment_without_invoice`` — a payment received (gateway or bank) matching no open invoice.
* ``payment_amount_differs`` — a payment registered as a partial payment or an overpayment.
* ``invoice_overdue_with_payment`` — an invoice still open past its due date in the ERP though
  the hub captured a payment for it (registered partly, or lost on the way).

Payments younger than ``settle_s`` are not judged yet. No correction is applied automatically:
which invoice a payment belongs to, or whether an excess is refunded, is finance's decision,
so every item becomes an exception (``fixed`` or ``ignore``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from crossdock.flows.payments.tables import payments
from crossdock.flows.reconciliation.context import Context
from crossdock.flows.reconciliation.drift_types import (
    OVERDUE_PAID,
    PAYMENT_DIFFERS,
    PAYMENT_UNMATCHED,
    Finding,
)
from crossdock.flows.subjects import subject as key_subject

__all__ = ["reconcile_payments"]

DAY = 86400.0


async def reconcile_payments(ctx: Context) -> tuple[int, list[Finding], list[str]]:
    settings = ctx.config.reconciliation.payments
    since = ctx.now - settings.lookback_days * DAY
    settled_before = ctx.now - settings.settle_s
    query = select(payments).where(
        payments.c.created_at >= since,
        payments.c.created_at <= settled_before,
        payments.c.kind == "captured",
    )
    rows = await ctx.db.read(lambda c: list(c.execute(query)))
    findings: list[Finding] = []
    paid_invoices: dict[int, list[str]] = {}
    for row in rows:
        subject = key_subject("payment", row.payment_id)
        amount = Decimal(row.amount)
        if row.state == "unmatched":
            findings.append(
                Finding(
                    PAYMENT_UNMATCHED, subject, row.created_at, amount, row.currency,
                    f"{amount} {row.currency} from {row.customer or 'an unknown payer'} "
                    f"({row.reference or 'no reference'}): {row.detail or 'no open invoice'}",
                    {"payment_id": row.payment_id, "source": row.source,
                     "reference": row.reference, "customer": row.customer},
                )
            )  # fmt: skip
        elif row.state in ("partial", "overpaid") and row.difference is not None:
            difference = Decimal(row.difference)
            findings.append(
                Finding(
                    PAYMENT_DIFFERS, subject, row.created_at, abs(difference), row.currency,
                    f"{amount} {row.currency} against {row.invoice_name}: "
                    f"{'short by' if difference < 0 else 'over by'} {abs(difference)}",
                    {"payment_id": row.payment_id, "invoice": row.invoice_name,
                     "difference": str(difference)},
                )
            )  # fmt: skip
        if row.invoice_id is not None and row.state in ("registered", "partial", "overpaid"):
            paid_invoices.setdefault(int(row.invoice_id), []).append(row.payment_id)
    if paid_invoices:
        today = datetime.fromtimestamp(ctx.now, UTC).date()
        for invoice in await ctx.erp.open_invoices(due_before=today):
            if invoice.id not in paid_invoices:
                continue
            about = key_subject("invoice", invoice.name)
            findings.append(
                Finding(
                    OVERDUE_PAID, about, ctx.now, invoice.amount_residual,
                    invoice.currency,
                    f"{invoice.name} is open ({invoice.amount_residual} {invoice.currency} due "
                    f"since {invoice.due_date}) though payments were captured: "
                    f"{', '.join(paid_invoices[invoice.id])}",
                    {"invoice": invoice.name, "payments": paid_invoices[invoice.id]},
                )
            )  # fmt: skip
    return len(rows), findings, []
