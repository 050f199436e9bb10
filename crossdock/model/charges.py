"""Charges a bill carries beside its goods: freight, duty, insurance, handling — what becomes a
landed cost of the goods received (X12 810 ``SAC`` charges, a carrier's or customs broker's bill).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from crossdock.model.base import ValueObject
from crossdock.model.types import PositiveAmount, ShortText

__all__ = ["Charge", "ChargeType", "SplitMethod"]

ChargeType = Literal["freight", "duty", "insurance", "handling", "brokerage", "other"]
"""Kind of a charge; each kind is capitalised with its own landed-cost product."""

SplitMethod = Literal["equal", "by_quantity", "by_current_cost_price", "by_weight", "by_volume"]
"""How a charge is split over the goods received (Odoo's ``split_method`` values)."""


class Charge(ValueObject):
    """One charge of a bill, in the bill's currency."""

    type: ChargeType = Field(description="Kind of charge.")
    amount: PositiveAmount = Field(description="Amount charged, before tax.")
    description: ShortText | None = Field(default=None, description="Label as printed.")
    split_method: SplitMethod | None = Field(
        default=None,
        description="How to split it over the goods; absent: the configured or product default.",
    )
