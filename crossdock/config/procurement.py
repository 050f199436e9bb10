"""The ``procurement`` section of ``crossdock.yaml``: replenishment recommendations, their approval
and the purchase orders made from them.

.. code-block:: yaml

    procurement:
      warehouses: []              # warehouse codes replenished (empty: the company's first one)
      schedule: null              # 5-field cron (UTC) of a recommendation run; null: on request
      source: crossdock           # purchase orders' origin is "<source>:<recommendation ref>"
      second_approver_above: null # amount above which a second, different approver must approve
      auto_approve_below: null    # amount below which the hub approves a recommendation itself
      confirm_orders: true        # confirm purchase orders in the ERP once created
      pack_sizes: {}              # SKU -> pack size ordered in multiples of (beside the ERP's)
      safety_days: 0              # forecast rule: days of demand kept as safety stock
      review_days: 7              # forecast rule: days of demand ordered beyond the lead time
      acknowledgement_changes: apply  # apply a supplier's changes to the ERP's order, or review
      receipt_tolerance:          # default tolerance of a receipt against what was expected
        over_percent: 0           # more than this over: an exception, nothing received
        under_percent: 10         # short within this: the line is closed (no backorder)
      receipt_tolerances: {}      # per supplier ref or SKU (the SKU's wins): over/under_percent
      bill_price_tolerance_percent: 0  # a bill's price this far from the order's still matches
      bill_quantity_tolerance: 0  # units billed beyond what was received that still match
      post_bills: false           # post matched vendor bills (else left in draft)
      landed_costs: {}            # bills' charges as landed costs (crossdock.config.landed_costs)

Every key is optional. Amounts are in each recommendation's currency (the supplier's).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from crossdock.config.base import ConfigModel, Cron
from crossdock.config.landed_costs import LandedCostsConfig

__all__ = ["ProcurementConfig", "Tolerance"]


class Tolerance(ConfigModel):
    over_percent: Decimal = Field(default=Decimal(0), ge=0, le=1000)
    """How much more than expected may be received, in percent (more: an exception)."""
    under_percent: Decimal = Field(default=Decimal(10), ge=0, le=100)
    """How much less than expected closes the line (more short: a backorder stays open)."""


class ProcurementConfig(ConfigModel):
    warehouses: list[str] = Field(default_factory=list)
    """Warehouse codes replenished; empty: the company's first warehouse."""
    schedule: Cron | None = None
    """5-field cron (UTC) of a recommendation run; absent: runs on request only."""
    source: str = Field(default="crossdock", min_length=1, max_length=40, pattern=r"^[\w.-]+$")
    """Prefix of the purchase orders' natural key (``origin`` = ``<source>:<ref>``)."""
    second_approver_above: Decimal | None = Field(default=None, ge=0)
    """A recommendation worth more than this needs a second approver (another person)."""
    auto_approve_below: Decimal | None = Field(default=None, ge=0)
    """A recommendation worth less than this is approved by the hub itself (audited)."""
    confirm_orders: bool = True
    """Confirm the purchase orders in the ERP (``button_confirm``) once created."""
    pack_sizes: dict[str, Decimal] = Field(default_factory=dict)
    """Pack size per SKU: quantities are rounded up to a multiple (with the ERP's own multiple)."""
    safety_days: Decimal = Field(default=Decimal(0), ge=0, le=365)
    """Forecast rule: days of forecast demand kept as safety stock."""
    review_days: Decimal = Field(default=Decimal(7), ge=0, le=365)
    """Forecast rule: days of demand ordered beyond the supplier's lead time."""

    acknowledgement_changes: Literal["apply", "review"] = "apply"
    """What a supplier's changed or rejected lines do: ``apply`` them to the ERP's purchase order,
    or open an exception for buying to ``review`` (the order stays as it is)."""

    receipt_tolerance: Tolerance = Field(default_factory=Tolerance)
    """Default tolerance of a receipt against the advance ship notice, else the order."""
    receipt_tolerances: dict[str, Tolerance] = Field(default_factory=dict)
    """Tolerances per supplier ref or SKU (a SKU's wins over its supplier's)."""

    bill_price_tolerance_percent: Decimal = Field(default=Decimal(0), ge=0, le=100)
    """A vendor bill's unit price this far (percent) from the order's still matches."""
    bill_quantity_tolerance: Decimal = Field(default=Decimal(0), ge=0)
    """Units billed beyond what was received that still match."""
    post_bills: bool = False
    """Post matched vendor bills in the ERP (else they stay in draft for accounts payable)."""
    landed_costs: LandedCostsConfig = Field(default_factory=LandedCostsConfig)
    """Charges on bills capitalised as the ERP's landed costs (see :mod:`.landed_costs`)."""

    def tolerance(self, supplier: str, sku: str) -> Tolerance:
        return (
            self.receipt_tolerances.get(sku)
            or self.receipt_tolerances.get(supplier)
            or self.receipt_tolerance
        )


    @field_validator("pack_sizes")
    @classmethod
    def _positive_packs(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for sku, size in value.items():
            if size <= 0:
                raise PydanticCustomError("pack_size", f"pack size of {sku} must be positive")
        return value
