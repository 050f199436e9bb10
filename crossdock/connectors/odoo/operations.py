"""The Odoo implementation of the ERP port: every operation flows call, on one client.

The operations are grouped by subject in ``ops_*`` modules; :class:`OdooOperations` is all of them
together. Build it from configuration with :meth:`OdooOperations.from_system`.
"""

from __future__ import annotations

from crossdock.config.schema import System
from crossdock.connectors.odoo.client import OdooClient
from crossdock.connectors.odoo.ops_catalog import CatalogOperations
from crossdock.connectors.odoo.ops_changes import SaleChangeOperations
from crossdock.connectors.odoo.ops_demand import DemandOperations
from crossdock.connectors.odoo.ops_landed_costs import LandedCostOperations
from crossdock.connectors.odoo.ops_payments import PaymentOperations
from crossdock.connectors.odoo.ops_purchasing import PurchasingOperations
from crossdock.connectors.odoo.ops_reconcile import ReconcileReads
from crossdock.connectors.odoo.ops_replenishment import ProcurementOperations
from crossdock.connectors.odoo.ops_returns import ReturnOperations
from crossdock.connectors.odoo.settings import OdooSettings

__all__ = ["OdooOperations"]


class OdooOperations(
    PurchasingOperations,
    CatalogOperations,
    ReconcileReads,
    ReturnOperations,
    ProcurementOperations,
    PaymentOperations,
    DemandOperations,
    SaleChangeOperations,
    LandedCostOperations,
):
    """Customers, catalog, stock, sales, deliveries, invoices and purchasing on one Odoo."""

    @classmethod
    def from_system(
        cls, name: str, system: System, *, customers_owned: bool = True
    ) -> OdooOperations:
        settings = OdooSettings.from_system(name, system, customers_owned=customers_owned)
        return cls(OdooClient(settings, name=name), system=name)

    async def aclose(self) -> None:
        await self.client.aclose()
