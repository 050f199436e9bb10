"""What one reconciliation run works with: the hub's database, the ERP, the configuration, the
run's clock, and who owns each domain."""

from __future__ import annotations

from dataclasses import dataclass

from crossdock.config.schema import Config
from crossdock.connectors.odoo.port import ErpPort
from crossdock.engine import Database
from crossdock.policy import erp_system_of

__all__ = ["Context"]


@dataclass(frozen=True)
class Context:
    db: Database
    erp: ErpPort
    config: Config
    now: float

    @property
    def erp_system(self) -> str:
        return erp_system_of(self.config)

    @property
    def orders_owner(self) -> str:
        return self.config.ownership.orders

    @property
    def invoices_owner(self) -> str:
        return self.config.ownership.invoices

    @property
    def stock_owner(self) -> str:
        return self.config.ownership.stock

    def owner_of(self, kind: str) -> str:
        return {
            "orders": self.orders_owner,
            "invoices": self.invoices_owner,
            "stock": self.stock_owner,
            "payments": self.invoices_owner,
        }[kind]
