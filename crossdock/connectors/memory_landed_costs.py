"""Landed costs of :class:`~crossdock.connectors.memory.MemoryErp`: the rules the flows rely on
(idempotent by key, a landed-cost product per charge, a validated receipt first, the module
installed or not), without any valuation."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from crossdock.connectors.odoo.batching import BatchOutcome
from crossdock.connectors.odoo.errors import OdooBusinessError
from crossdock.connectors.odoo.landed_cost_records import (
    LandedCostRef,
    LandedCostRequest,
    LandedCostsNotInstalled,
)

__all__ = ["MemoryLandedCosts"]


@dataclass
class MemoryLandedCosts:
    installed: bool = True
    """Whether the ERP has the landed costs module."""
    products: dict[str, str | None] = field(default_factory=dict)
    """Landed-cost products by SKU, with their default split method."""
    received: set[int] = field(default_factory=set)
    """Purchase orders (ids) with a validated receipt."""
    costs: dict[str, LandedCostRef] = field(default_factory=dict)
    requests: dict[str, LandedCostRequest] = field(default_factory=dict)
    """What each landed cost was made of, by key."""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def create(self, requests: Sequence[LandedCostRequest]) -> BatchOutcome[str, LandedCostRef]:
        outcome: BatchOutcome[str, LandedCostRef] = BatchOutcome()
        for request in requests:
            if not self.installed:
                outcome.failed[request.key] = LandedCostsNotInstalled(
                    "landed costs need the Odoo module stock_landed_costs, which is not installed"
                )
                continue
            if request.key in self.costs:
                outcome.done[request.key] = self.costs[request.key]
                outcome.existing.add(request.key)
                continue
            bad = [c.product_sku for c in request.charges if c.product_sku not in self.products]
            if bad:
                outcome.failed[request.key] = OdooBusinessError(
                    f"product {bad[0]!r} is not a landed cost (landed_cost_ok is off)"
                )
                continue
            if request.order_id not in self.received:
                outcome.failed[request.key] = OdooBusinessError(
                    f"purchase order id={request.order_id} has no validated receipt yet"
                )
                continue
            number = next(self._ids)
            ref = LandedCostRef(
                number,
                f"LC/{number:05d}",
                "done" if request.validate else "draft",
                sum((c.amount for c in request.charges), Decimal(0)),
                (f"WH/IN/{request.order_id:05d}",),
            )
            self.costs[request.key] = ref
            self.requests[request.key] = request
            outcome.done[request.key] = ref
        return outcome
