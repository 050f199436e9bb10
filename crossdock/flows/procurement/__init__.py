"""Procure-to-stock: replenishment recommendations from the ERP's positions, reorder rules and
supplier terms; their review and approval (audited, a second approver above an amount); purchase
orders created and confirmed in the ERP from approved ones and sent to the supplier (the
``purchase.ordered`` event, delivered by the supplier's signed webhook subscription).

The hub registers the consumer with :func:`register` (see :mod:`.service`); the API decides
through :mod:`.store`.
"""

from __future__ import annotations

from crossdock.flows.procurement.events import APPROVED, ORDERED, RECOMMEND, recommend_event
from crossdock.flows.procurement.service import Procurement, RunResult, register

__all__ = [
    "APPROVED",
    "ORDERED",
    "RECOMMEND",
    "Procurement",
    "RunResult",
    "recommend_event",
    "register",
]
