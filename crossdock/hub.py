"""The composition root: builds the engine, the ERP connection and flows, webhooks and observability
from a validated configuration. The CLI, the server and the tests start the hub through here."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from crossdock.config import Config, sqlalchemy_url
from crossdock.connectors.edi.as2.async_mdn import post_mdn
from crossdock.connectors.edi.as2.certificates import notices as as2_certificate_notices
from crossdock.connectors.edi.transports import open_transport
from crossdock.connectors.registry import Connected, connect
from crossdock.engine import Engine, EngineSettings, Lane, Limiter
from crossdock.erp import Erp, attach_order_to_cash, connect_erp, erp_configured
from crossdock.flows.edi.as2_mdns import subscription as edi_as2_mdns
from crossdock.flows.edi.documents import documents as edi_documents_of
from crossdock.flows.edi.events import subscription as edi_documents
from crossdock.flows.edi.polling import schedules as edi_poll_schedules
from crossdock.flows.edi.polling import subscription as edi_polls
from crossdock.flows.edi.purchase_orders import subscription as edi_purchase_orders
from crossdock.flows.edi.service import EdiService, engine_writes
from crossdock.flows.inventory import register as register_inventory
from crossdock.flows.observed import FLOW_READS
from crossdock.flows.payments import register as register_payments
from crossdock.flows.procurement import register as register_procurement
from crossdock.flows.procurement.forecasting import register_forecasting
from crossdock.flows.returns import register as register_returns
from crossdock.flows.shopify import register_shopify, shopify_systems
from crossdock.migrations import upgrade
from crossdock.ops.metrics import MULTIPROCESS_DIR
from crossdock.ops.observability import Observability
from crossdock.ops.webhook_observer import log_delivery
from crossdock.webhooks.push import demand_sink
from crossdock.webhooks.service import WebhookService
from crossdock.webhooks.stripe_catchup import register as register_stripe_catchup

CIRCUITS_EVERY_S = 2.0


@dataclass
class Hub:
    config: Config
    engine: Engine
    webhooks: WebhookService | None = None
    erp: Erp | None = None
    ops: Observability = field(default_factory=Observability.from_config)
    flows: bool = False  # the business flows are subscribed (a node running workers)
    edi: EdiService | None = None  # the EDI partners' file loop (a node running workers)
    _publishing: asyncio.Task[None] | None = None
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    """Closed when the hub stops, last first (the connected shops)."""

    def __post_init__(self) -> None:
        if self.ops.flows is None:  # operations read the flows' state through this interface
            self.ops.flows = FLOW_READS

    async def start(self, *, workers: bool = True, scheduler: bool = True) -> None:
        """Start the engine and, where workers run, the webhook delivery worker (and, in a
        multi-process server, the publication of circuit states for the API processes)."""
        await self.engine.start(workers=workers, scheduler=scheduler)
        if workers and self.webhooks is not None:
            await self.webhooks.start()
        if workers and self.edi is not None:
            self.edi.start()
        if workers and MULTIPROCESS_DIR is not None:
            self._publishing = asyncio.create_task(self.ops.publish_circuits(CIRCUITS_EVERY_S))

    async def stop(self) -> None:
        if self._publishing is not None:
            self._publishing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._publishing
        if self.webhooks is not None:
            await self.webhooks.stop()
        if self.edi is not None:
            await self.edi.stop()
        await self.engine.stop()
        if self.erp is not None:
            await self.erp.close()
        for close in reversed(self.closers):
            await close()
        self.ops.shutdown()


def database_url(cfg: Config) -> str:
    return sqlalchemy_url(cfg)


def build_hub(cfg: Config, *, flows: bool = False) -> Hub:
    """The hub of a configuration. With `flows`, the ERP is connected (its sandbox started when
    it is one) and the business flows subscribe — what a node running workers needs; without,
    the ERP is connected for the intake's questions only."""
    settings = EngineSettings(
        partitions=cfg.engine.partitions,
        lease_seconds=cfg.engine.lease_seconds,
        poll_interval_s=cfg.engine.poll_interval_ms / 1000,
        sqlite_synchronous=cfg.engine.sqlite_synchronous,
    )
    lanes = [Lane(name, lane.priority, lane.concurrency) for name, lane in cfg.lanes.items()]
    ops = Observability.from_config(cfg.observability)
    engine = Engine(database_url(cfg), settings=settings, lanes=lanes, observer=ops.engine_observer)
    for name, system in cfg.systems.items():
        engine.add_limiter(
            Limiter(name, system.limits.rate_per_s, system.limits.burst, system.limits.concurrency)
        )
    erp = None
    shops: list[Connected] = []
    if flows:
        erp = attach_order_to_cash(cfg, engine, ops.connectors)
        register_inventory(engine, erp.operations, cfg)
        register_returns(engine, erp.operations, cfg)
        shops = [connect(cfg, name, observer=ops.connectors) for name in shopify_systems(cfg)]
        register_shopify(engine, cfg, {shop.name: shop.port for shop in shops})
        register_procurement(engine, erp.operations, cfg, system=erp.name)
        register_forecasting(engine, erp.operations, cfg, sink=demand_sink(cfg.forecasting))
        register_payments(engine, erp.operations, cfg)
        register_stripe_catchup(engine, cfg.payments)
    elif erp_configured(cfg):
        # An API node asks the ERP about SKUs it has not seen (stock for unknown ones is
        # refused); a sandbox is served by the node running the flows.
        erp = connect_erp(cfg, ops.connectors, serve_sandbox=False)
    webhooks = WebhookService(cfg.webhooks, engine)
    webhooks.worker.on_result = log_delivery
    edi = None
    if flows and cfg.edi.partners:
        transports = {name: open_transport(name, p) for name, p in cfg.edi.partners.items()}
        sets = edi_documents_of(dict(cfg.edi.partners), partitions=lambda: engine.partitions)
        edi = EdiService(
            cfg.edi,
            lambda: engine.db,
            transports,
            sets,
            write=engine_writes(engine),
            scheduled=cfg.edi.poll_schedule is not None,
            certificates=lambda: as2_certificate_notices(cfg.edi.partners),
        )
        for poll in edi_poll_schedules(cfg.edi):
            engine.schedule(poll)
        engine.subscribe(edi_polls(cfg.edi, edi))
        engine.subscribe(edi_documents(cfg.edi, time.time, erp.operations if erp else None))
        engine.subscribe(edi_purchase_orders(cfg.edi, time.time))
        engine.subscribe(edi_as2_mdns(cfg.edi, post_mdn))
    hub = Hub(cfg, engine, webhooks, erp=erp, ops=ops, flows=flows, edi=edi)
    hub.closers.extend(shop.close for shop in shops)
    return hub


def migrate(cfg: Config) -> None:
    upgrade(database_url(cfg))
