"""Credit control: order total plus open receivables against the customer's credit limit.

A limit of zero or less means no limit (Odoo's default). Orders of one customer decided together
count against the limit one after the other, so a batch of small orders cannot slip past it
together. An order a person approved (``approved``) passes whatever its amount.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class CreditRequest:
    key: Hashable
    customer: Hashable
    total: Decimal
    approved: bool = False


@dataclass(frozen=True, slots=True)
class CreditDecision:
    allowed: bool
    exposure: Decimal
    """Open receivables, plus the orders allowed before this one, plus this order."""
    limit: Decimal | None
    """The credit limit (``None``: no limit)."""
    reason: str


def credit_decisions(
    requests: Sequence[CreditRequest],
    accounts: Mapping[Any, tuple[Decimal, Decimal]],
) -> dict[Hashable, CreditDecision]:
    """A decision per request, in order. ``accounts`` gives ``(open receivables, credit limit)``
    per customer; a customer without an account has neither."""
    committed: dict[Hashable, Decimal] = {}
    decisions: dict[Hashable, CreditDecision] = {}
    for request in requests:
        receivable, raw_limit = accounts.get(request.customer, (Decimal(0), Decimal(0)))
        limit = raw_limit if raw_limit > 0 else None
        exposure = receivable + committed.get(request.customer, Decimal(0)) + request.total
        if limit is None:
            decision = CreditDecision(True, exposure, None, "no credit limit")
        elif exposure <= limit:
            decision = CreditDecision(True, exposure, limit, "within the credit limit")
        elif request.approved:
            decision = CreditDecision(True, exposure, limit, "over the limit, approved")
        else:
            decision = CreditDecision(
                False, exposure, limit, f"exposure {exposure} over the credit limit {limit}"
            )
        if decision.allowed:
            committed[request.customer] = committed.get(request.customer, Decimal(0)) + (
                request.total
            )
        decisions[request.key] = decision
    return decisions


CHARGEBACK_HOLD_LIMIT = Decimal("0.01")
"""The credit limit a chargeback leaves its customer with: the smallest positive limit, so every
new order of the customer goes to the credit check's exception until finance lifts it."""


def chargeback_hold(enabled: bool, customer: str | None) -> Decimal | None:
    """The credit limit to set on the customer of a chargeback; None: no hold (off, or the
    customer is not known by reference)."""
    return CHARGEBACK_HOLD_LIMIT if enabled and customer else None
