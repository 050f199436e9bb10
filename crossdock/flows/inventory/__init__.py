"""Inventory: stock in from the warehouse (deltas and counts), coalesced writes to the ERP, and
available-to-promise published per channel.

The API takes stock in through :class:`~.service.InventoryIntake` (positions written set-based in
the engine's group commit). The hub registers the sync loop with :func:`register`: consumer group
``inventory`` in lane ``inventory`` (or ``sync.inventory.lane``), consuming
``inventory.sync_requested``, ``inventory.tick`` and the order events that change reservations,
emitting ``inventory.available``, ``inventory.low`` and ``inventory.restored`` (subject
``availability:<channel>``, the SKU and the channel in ``data``).
"""

from __future__ import annotations

from crossdock.config.schema import Config
from crossdock.connectors.odoo.port import ErpPort
from crossdock.engine import Engine, Schedule, Subscription
from crossdock.flows.inventory.events import CONSUMED, EMITTED, TICK
from crossdock.flows.inventory.settings import GROUP, SOURCE, InventorySettings
from crossdock.flows.inventory.store import Position, warehouse_positions
from crossdock.flows.inventory.sync import InventorySync

__all__ = [
    "CONSUMED",
    "EMITTED",
    "GROUP",
    "SOURCE",
    "InventorySettings",
    "InventorySync",
    "Position",
    "register",
    "warehouse_positions",
]

SWEEP_CRON = "* * * * *"
"""Every minute: the loop looks at what waits even if no ring arrived (after a crash between an
intake's commit and its ring, or while the ERP backs off), and trims the journal."""


def register(engine: Engine, erp: ErpPort | None, config: Config) -> InventorySync:
    """Subscribe the sync loop on ``engine`` (before it starts) with its schedules."""
    settings = InventorySettings.from_config(config)
    flow = InventorySync(engine, erp, settings)
    lane = settings.lane if settings.lane in engine.lanes else "default"
    engine.subscribe(
        Subscription(
            GROUP,
            CONSUMED,
            flow.handle,
            lane=lane,
            batch_size=config.engine.batch_size,
            max_attempts=config.engine.max_attempts,
            backoff=config.engine.backoff,
            start_at="latest",
        )
    )
    engine.schedule(Schedule("inventory.sweep", SWEEP_CRON, TICK, {"sweep": True}))
    for channel in sorted(flow.batch_channels):
        sync = settings.channel(channel).sync
        assert sync.cron is not None
        engine.schedule(
            Schedule(
                f"inventory.publish.{channel}", sync.cron, TICK, {"channel": channel}, sync.timezone
            )
        )
    if settings.erp_cron is not None and settings.erp_writes:
        engine.schedule(
            Schedule("inventory.erp", settings.erp_cron, TICK, {"erp": True}, settings.erp_timezone)
        )
    return flow
