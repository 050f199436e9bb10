"""Reads and writes of the ``payments`` table (run inside the engine's transactions)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from crossdock.connectors.gateway.report import PaymentReport
from crossdock.flows.payments.tables import payments

__all__ = ["PaymentRow", "load", "record_received", "set_state"]

RETRYABLE = frozenset({"unmatched", "ambiguous", "not_registered"})
"""States a payment is matched again from (an operator's ``rematch``, a new invoice)."""

FINAL = frozenset(
    {"registered", "partial", "overpaid", "failed", "chargeback", "unmatched", "ambiguous",
     "not_registered"}
)  # fmt: skip
"""States a payment does not leave by being reported again (an exception's resolution may)."""


@dataclass(frozen=True, slots=True)
class PaymentRow:
    payment_id: str
    kind: str
    state: str
    amount: Decimal
    currency: str
    invoice_id: int | None
    invoice_name: str | None
    applied: Decimal | None
    difference: Decimal | None
    customer: str | None
    reference: str | None
    invoice_due: str | None
    updated_at: float
    detail: str | None
    source: str
    original: str | None = None
    occurred_at: float = 0.0

    def report(self, reference: str | None = None) -> PaymentReport:
        """The payment as reported (to match it again; ``reference``: another one to try)."""
        return PaymentReport(
            payment_id=self.payment_id,
            source=self.source,
            kind=self.kind,
            amount=self.amount,
            currency=self.currency,
            reference=reference or self.reference,
            customer=self.customer,
            occurred_at=datetime.fromtimestamp(self.occurred_at, UTC),
            original=self.original,
            detail=self.detail,
        )


def _row(r: Any) -> PaymentRow:
    return PaymentRow(
        r.payment_id,
        r.kind,
        r.state,
        Decimal(r.amount),
        r.currency,
        r.invoice_id,
        r.invoice_name,
        Decimal(r.applied) if r.applied is not None else None,
        Decimal(r.difference) if r.difference is not None else None,
        r.customer,
        r.reference,
        r.invoice_due,
        r.updated_at,
        r.detail,
        r.source,
        r.original,
        r.occurred_at,
    )


def load(conn: Connection, ids: Iterable[str]) -> dict[str, PaymentRow]:
    wanted = list(dict.fromkeys(ids))
    out: dict[str, PaymentRow] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for r in conn.execute(select(payments).where(payments.c.payment_id.in_(chunk))):
            out[r.payment_id] = _row(r)
    return out


def rows_in(conn: Connection, states: Sequence[str]) -> list[PaymentRow]:
    return [_row(r) for r in conn.execute(select(payments).where(payments.c.state.in_(states)))]


def counts(conn: Connection) -> dict[str, int]:
    query = select(payments.c.state, func.count()).group_by(payments.c.state)
    return {str(state): int(n) for state, n in conn.execute(query)}


def record_received(
    conn: Connection, reports: Sequence[PaymentReport], now: float, statement_id: str | None = None
) -> None:
    """Insert the reports not yet known (state ``received``)."""
    known = load(conn, (r.payment_id for r in reports))
    fresh = {r.payment_id: r for r in reports if r.payment_id not in known}
    if not fresh:
        return
    conn.execute(
        insert(payments),
        [
            {
                "payment_id": r.payment_id,
                "source": r.source,
                "kind": r.kind,
                "amount": str(r.amount),
                "currency": r.currency,
                "reference": (r.reference or "")[:500] or None,
                "customer": r.customer,
                "occurred_at": r.occurred_at.timestamp(),
                "state": "received",
                "detail": r.detail,
                "statement_id": statement_id,
                "original": r.original,
                "created_at": now,
                "updated_at": now,
            }
            for r in fresh.values()
        ],
    )


def set_state(conn: Connection, payment_id: str, state: str, **values: Any) -> None:
    conn.execute(
        update(payments)
        .where(payments.c.payment_id == payment_id)
        .values(state=state, updated_at=values.pop("now", None) or time.time(), **values)
    )


def reported_row(report: PaymentReport, invoice_name: str | None) -> PaymentRow:
    """The row a report in flight would have (a payment known from its own batch)."""
    return PaymentRow(
        report.payment_id,
        report.kind,
        "received",
        report.amount,
        report.currency,
        None,
        invoice_name,
        None,
        None,
        report.customer,
        report.reference,
        None,
        time.time(),
        report.detail,
        report.source,
        report.original,
        report.occurred_at.timestamp(),
    )
