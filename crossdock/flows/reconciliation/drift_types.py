"""The drift types reconciliation finds: which reconciliation finds each, the role that decides
when a person must, and what a finding is (:class:`Finding`) before it is stored as a drift item.

An exception for a drift item offers ``fixed`` (someone repaired it: the next run checks),
``ignore`` (known and accepted: no new exception while the item persists) and, where the owner's
value can be applied, ``correct`` (apply it now).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = ["TYPES", "DriftType", "Finding"]

CORRECT = "correct"
FIXED = "fixed"
IGNORE = "ignore"


@dataclass(frozen=True, slots=True)
class DriftType:
    type: str
    kind: str
    """The reconciliation that finds it: orders, invoices or stock."""
    role: str
    """Who decides when it becomes an exception: sales, finance, operations."""
    title: str


ORDER_MISSING = DriftType("order_missing_in_erp", "orders", "sales", "order missing in the ERP")
ORDER_DUPLICATED = DriftType(
    "order_duplicated_in_erp", "orders", "sales", "order duplicated in the ERP"
)
ORDER_TOTAL = DriftType("order_total_mismatch", "orders", "finance", "order totals differ")
ORDER_UNKNOWN = DriftType(
    "order_unknown_in_hub", "orders", "sales", "ERP order no channel sent through the hub"
)
INVOICE_MISSING = DriftType("invoice_missing", "invoices", "finance", "delivered, not invoiced")
INVOICE_MISMATCH = DriftType(
    "invoice_mismatch", "invoices", "finance", "invoiced differs from delivered"
)
STOCK_DRIFT = DriftType("stock_drift", "stock", "operations", "ERP stock differs from the WMS")
PAYMENT_UNMATCHED = DriftType(
    "payment_without_invoice", "payments", "finance", "payment matching no open invoice"
)
PAYMENT_DIFFERS = DriftType(
    "payment_amount_differs", "payments", "finance", "payment differs from the invoice's amount"
)
OVERDUE_PAID = DriftType(
    "invoice_overdue_with_payment", "payments", "finance",
    "invoice open past due though a payment was captured for it",
)  # fmt: skip

TYPES = {
    t.type: t
    for t in (
        ORDER_MISSING,
        ORDER_DUPLICATED,
        ORDER_TOTAL,
        ORDER_UNKNOWN,
        INVOICE_MISSING,
        INVOICE_MISMATCH,
        STOCK_DRIFT,
        PAYMENT_UNMATCHED,
        PAYMENT_DIFFERS,
        OVERDUE_PAID,
    )
}


@dataclass
class Finding:
    """One difference found by a run, before it is matched with the stored drift items."""

    type: DriftType
    subject: str
    """The business key: ``order:<id>``, ``sale_order:<erp id>``, ``stock:<warehouse>:<sku>``."""
    since: float
    """What the item's age counts from (the order's acceptance, the dispatch, first seen...)."""
    value: Decimal
    """The money involved (absolute)."""
    currency: str | None
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    correction: dict[str, Any] | None = None
    """What applying the owner's value would do (``None``: it cannot be applied automatically);
    read by :mod:`.correct`."""
    why_not: str | None = None
    """Why the owner's value cannot be applied (shown in the exception)."""

    @property
    def key(self) -> str:
        return f"{self.type.type}|{self.subject}"

    def actions(self) -> list[str]:
        return ([CORRECT] if self.correction is not None else []) + [FIXED, IGNORE]
