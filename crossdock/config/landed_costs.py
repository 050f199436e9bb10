"""The ``procurement.landed_costs`` section of ``crossdock.yaml``: charges on bills (freight,
duty, insurance, handling …) capitalised into the cost of the goods received, as Odoo's landed
costs (module ``stock_landed_costs``).

.. code-block:: yaml

    procurement:
      landed_costs:
        products: {}        # charge type -> SKU of its landed-cost product (landed_cost_ok)
        split_methods: {}   # charge type -> split method when the charge names none
        validate_costs: true  # validate (post) the landed cost once computed, else a draft

Charge types: ``freight``, ``duty``, ``insurance``, ``handling``, ``brokerage``, ``other``.
Split methods: ``equal``, ``by_quantity``, ``by_current_cost_price``, ``by_weight``,
``by_volume``; a charge's own split method wins, then ``split_methods``, then the product's
default split method in the ERP. No product configured: landed costs are off, and a bill's charges
are only noted on the purchase order's timeline.
"""

from __future__ import annotations

from pydantic import Field

from crossdock.config.base import ConfigModel
from crossdock.model import ChargeType, SplitMethod

__all__ = ["LandedCostsConfig"]


class LandedCostsConfig(ConfigModel):
    products: dict[ChargeType, str] = Field(default_factory=dict)
    """SKU (``default_code``) of the landed-cost product (``landed_cost_ok``) per charge type."""
    split_methods: dict[ChargeType, SplitMethod] = Field(default_factory=dict)
    """Split method per charge type when a charge names none (else the product's default)."""
    validate_costs: bool = True
    """Validate the landed cost in the ERP once computed (it posts the valuation entry and
    raises the products' cost); off: it is left in draft for a person."""

    @property
    def enabled(self) -> bool:
        return bool(self.products)
