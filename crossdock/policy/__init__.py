"""Business policy as pure functions over configuration and facts: which company an order belongs
to, which price applies, whether credit allows an order, and how stock fulfils it.

Nothing here holds state or does I/O: the flows read the facts (stock levels, credit, prices) from
the ERP, ask these functions for a decision, and carry it out.
"""

from crossdock.policy.credit import CreditDecision, CreditRequest, credit_decisions
from crossdock.policy.fulfilment import (
    Allocation,
    FulfilmentPlan,
    FulfilmentRequest,
    plan_fulfilment,
    plan_orders,
)
from crossdock.policy.pricing import unit_prices
from crossdock.policy.routing import erp_may_create_customers, erp_system_of, route_company

__all__ = [
    "Allocation",
    "CreditDecision",
    "CreditRequest",
    "FulfilmentPlan",
    "FulfilmentRequest",
    "credit_decisions",
    "erp_may_create_customers",
    "erp_system_of",
    "plan_fulfilment",
    "plan_orders",
    "route_company",
    "unit_prices",
]
