"""Every table the migrations manage, for alembic's comparison (tests check they agree)."""

from __future__ import annotations

from sqlalchemy import MetaData

from crossdock.api.tables import metadata as api_metadata
from crossdock.engine import engine_metadata
from crossdock.flows.edi.as2_tables import metadata as as2_metadata
from crossdock.flows.edi.tables import metadata as edi_metadata
from crossdock.flows.inventory.tables import metadata as inventory_metadata
from crossdock.flows.payments.tables import metadata as payments_metadata
from crossdock.flows.procurement.forecast_tables import metadata as forecast_metadata
from crossdock.flows.procurement.tables import metadata as procurement_metadata
from crossdock.flows.reconciliation.tables import metadata as reconciliation_metadata
from crossdock.flows.returns.tables import metadata as returns_metadata
from crossdock.flows.shopify.tables import metadata as shopify_metadata
from crossdock.flows.tables import metadata as flows_metadata
from crossdock.ops.tables import metadata as ops_metadata
from crossdock.webhooks.catchup_tables import metadata as stripe_catchup_metadata
from crossdock.webhooks.tables import metadata as webhooks_metadata

target_metadata: list[MetaData] = [
    engine_metadata,
    flows_metadata,
    api_metadata,
    webhooks_metadata,
    ops_metadata,
    reconciliation_metadata,
    inventory_metadata,
    edi_metadata,
    returns_metadata,
    shopify_metadata,
    procurement_metadata,
    payments_metadata,
    as2_metadata,
    forecast_metadata,
    stripe_catchup_metadata,
]
