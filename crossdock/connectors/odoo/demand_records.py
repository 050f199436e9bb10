"""What the ERP says about demand: done stock moves summed per warehouse, SKU, day and kind.

Values of the ERP port (:meth:`~crossdock.connectors.odoo.port.ErpPort.demand_history`),
independent of Odoo's API: done ``stock.move`` records become :class:`DemandMove`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

__all__ = ["DemandKind", "DemandMove"]

DemandKind = Literal["sale", "return", "receipt"]
"""``sale``: out of the warehouse to a customer; ``return``: back from a customer; ``receipt``:
in from a supplier."""


@dataclass(frozen=True, slots=True)
class DemandMove:
    """The quantity of one SKU moved in one warehouse on one day (UTC), of one kind."""

    warehouse: str
    sku: str
    day: date
    kind: DemandKind
    quantity: Decimal
