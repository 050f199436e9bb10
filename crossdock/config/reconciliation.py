"""The ``reconciliation`` section of ``crossdock.yaml``: when each reconciliation runs, whether it
applies the owner's value by itself, and what counts as drift.

.. code-block:: yaml

    reconciliation:
      orders:
        schedule: "15 2 * * *"   # 5-field cron, read in UTC; absent: sync.reconciliation's cron
        auto_correct: false       # re-drive orders missing in the ERP when the channel owns orders
        missing_after_s: 900      # an order younger than this is still on its way, not missing
        amount_tolerance: 0.01    # totals closer than this agree
        lookback_days: 30         # orders accepted this far back are compared
      invoices:
        auto_correct: false       # invoice what was delivered when the ERP owns invoices
        invoice_after_s: 3600     # grace after a dispatch before an invoice counts as missing
      stock:
        auto_correct: false       # set the ERP's count to the WMS's when the WMS owns stock
        settle_s: 600             # positions younger than this may not have reached the ERP yet
        quantity_tolerance: 0
        warehouses: []            # codes to compare (empty: each warehouse with positions)

Every key is optional. ``schedule: off`` disables the schedule of a kind (it still runs on demand).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from crossdock.config.base import ConfigModel
from crossdock.engine import cron_problem

__all__ = [
    "KINDS",
    "InvoicesReconciliation",
    "KindSettings",
    "OrdersReconciliation",
    "ReconciliationConfig",
    "StockReconciliation",
]

KINDS = ("orders", "invoices", "stock", "payments")
"""The reconciliations, in the order ``reconcile run all`` runs them."""


class KindSettings(ConfigModel):
    schedule: str | None = None
    """5-field cron (or ``@daily``-style macro) in UTC; ``off`` for no schedule; absent: the cron
    of ``sync.reconciliation`` when that workflow is ``batch``."""
    auto_correct: bool = False
    """Apply the owner's value by itself (per ``ownership``); otherwise open an exception."""
    lookback_days: int = Field(default=30, ge=1, le=3650)
    """How far back (by acceptance of the order) records are compared."""

    @field_validator("schedule")
    @classmethod
    def _check_schedule(cls, value: str | None) -> str | None:
        if value is None or value.strip().lower() == "off":
            return None if value is None else "off"
        problem = cron_problem(value)
        if problem is not None:
            raise PydanticCustomError("cron", f"{problem} (or off)")
        return value.strip()


class OrdersReconciliation(KindSettings):
    missing_after_s: float = Field(default=900.0, ge=0)
    """An accepted order younger than this is still on its way to the ERP, not missing."""
    amount_tolerance: Decimal = Field(default=Decimal("0.01"), ge=0)
    """Totals that differ by at most this much agree (rounding)."""


class InvoicesReconciliation(KindSettings):
    invoice_after_s: float = Field(default=3600.0, ge=0)
    """Grace after a dispatch before its invoice counts as missing."""
    amount_tolerance: Decimal = Field(default=Decimal("0.01"), ge=0)


class StockReconciliation(KindSettings):
    settle_s: float = Field(default=600.0, ge=0)
    """A position changed more recently than this may still be on its way to the ERP."""
    quantity_tolerance: Decimal = Field(default=Decimal(0), ge=0)
    warehouses: list[str] = Field(default_factory=list)
    """Warehouse codes to compare; empty: every warehouse the WMS reported positions for."""


class PaymentsReconciliation(KindSettings):
    settle_s: float = Field(default=3600.0, ge=0)
    """A payment reported more recently than this may still be on its way to the ERP."""


class ReconciliationConfig(ConfigModel):
    """Reconciliation of orders, invoices and stock between the hub, the ERP and the WMS."""

    orders: OrdersReconciliation = Field(default_factory=OrdersReconciliation)
    invoices: InvoicesReconciliation = Field(default_factory=InvoicesReconciliation)
    stock: StockReconciliation = Field(default_factory=StockReconciliation)
    payments: PaymentsReconciliation = Field(default_factory=PaymentsReconciliation)

    @model_validator(mode="before")
    @classmethod
    def _empty(cls, data: Any) -> Any:
        # `reconciliation:` with nothing under it means the defaults, as for other sections.
        if data is None:
            return {}
        if isinstance(data, dict):
            return {k: ({} if v is None else v) for k, v in data.items()}
        return data

    def kind(self, name: str) -> KindSettings:
        if name not in KINDS:
            raise KeyError(name)
        settings: KindSettings = getattr(self, name)
        return settings
