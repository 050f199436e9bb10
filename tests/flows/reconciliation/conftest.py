"""Fixtures of the reconciliation tests: a hub on the backend under test (``db_url``: SQLite and
PostgreSQL) running the order-to-cash flow against the Odoo sandbox on a real HTTP server (and a
real Odoo when ``CROSSDOCK_ODOO_*`` is set), plus the reconciliation service on the same engine.

Every test gets channels of its own (named after its uid), so the ERP's sale orders of other tests
in the shared sandbox never show up as drift here; stock tests get a warehouse of their own.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection

from crossdock.config.reconciliation import ReconciliationConfig
from crossdock.config.schema import ChannelPolicy, Config, EngineConfig, Ownership
from crossdock.connectors.odoo import OdooClient, OdooOperations
from crossdock.engine import Engine, EngineSettings, Lane, NewEvent
from crossdock.engine.log import insert_events
from crossdock.flows.exceptions import ExceptionRecord, list_exceptions, resolve_exception
from crossdock.flows.inventory.positions import set_positions, to_units
from crossdock.flows.order_to_cash import register as register_flow
from crossdock.flows.orders import insert_accepted
from crossdock.flows.reconciliation import service as reconciliation
from crossdock.flows.reconciliation.service import Reconciliation, Report
from crossdock.flows.reconciliation.store import DriftItem, list_runs, open_drift
from crossdock.model import Order
from tests.contract.odoo.conftest import Target
from tests.flows.harness import Flow, make_order, new_order_id

MakeRecon = Callable[..., Awaitable["Recon"]]


@dataclass
class Recon:
    flow: Flow
    service: Reconciliation
    config: Config
    channel: str
    priced: str
    """A channel priced by the ERP's pricelist."""
    uid: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ops(self) -> OdooOperations:
        return self.flow.ops

    @property
    def engine(self) -> Engine:
        return self.flow.engine

    def order(self, ref: str, lines: list[tuple[str, str]], **kw: Any) -> Order:
        kw.setdefault("channel", self.channel)
        return make_order(f"{ref}-{self.uid}", f"c-{self.uid}", lines, **kw)

    async def run(self, kind: str, fix: bool | None = None) -> Report:
        return await self.service.run(kind, fix=fix, trigger="test")

    async def items(self, kind: str | None = None) -> list[DriftItem]:
        return await self.engine.db.read(lambda c: open_drift(c, kind))

    async def all_items(self, kind: str | None = None) -> list[DriftItem]:
        return await self.engine.db.read(lambda c: open_drift(c, kind, include_closed=True))

    async def drift_exceptions(self, state: str | None = "open") -> list[ExceptionRecord]:
        found = await self.engine.db.read(lambda c: list_exceptions(c, state=state, limit=1000))
        return [e for e in found if e.subject.startswith("drift:")]

    async def runs(self) -> list[Any]:
        return await self.engine.db.read(lambda c: list_runs(c, None, 100))

    async def resolve(self, exception_id: str, action: str) -> None:
        def write(conn: Connection) -> None:
            _, event = resolve_exception(
                conn, exception_id, action=action, by="tester", note=None, now=time.time()
            )
            insert_events(conn, [event], self.engine.partitions)

        await self.engine.writer.submit(write, appends=True)

    async def accepted_without_event(self, order: Order) -> str:
        """An order the hub accepted whose `order.accepted` never reached the flow (lost to the
        dead letters, say): the projection row only."""
        order_id = new_order_id()
        await self.engine.writer.submit(
            lambda c: insert_accepted(
                c, order_id=order_id, order=order, now=time.time(), event_id=None
            )
        )
        return order_id

    async def positions(
        self, warehouse: str, quantities: dict[str, str], *, age_s: float = 3600
    ) -> None:
        """The warehouse's view of its stock, written as a count is (the inventory flow's own
        position writer): one location per SKU, changed ``age_s`` ago."""
        now = time.time()
        rows = [
            (warehouse, f"{warehouse}/A-{n}", sku, to_units(Decimal(q)), "unit", None, now - age_s)
            for n, (sku, q) in enumerate(quantities.items())
        ]
        await self.engine.writer.submit(lambda c: set_positions(c, rows, now - age_s))

    async def append(self, *events: NewEvent) -> None:
        await self.engine.append(list(events))


def recon_config(
    uid: str,
    *,
    orders_owner: str = "odoo",
    stock_owner: str = "odoo",
    invoices_owner: str = "odoo",
    auto_correct: bool = False,
    **reconciliation: Any,
) -> Config:
    settings: dict[str, Any] = {
        "orders": {"missing_after_s": 0, "auto_correct": auto_correct},
        "invoices": {"invoice_after_s": 0, "auto_correct": auto_correct},
        "stock": {"settle_s": 60, "auto_correct": auto_correct},
        "payments": {"settle_s": 0, "schedule": "off"},
    }
    for kind, values in reconciliation.items():
        settings[kind] = {**settings[kind], **values}
    return Config(
        channels={
            "default": ChannelPolicy(),
            f"r{uid}": ChannelPolicy(),
            f"p{uid}": ChannelPolicy(pricing="pricelist"),
        },
        ownership=Ownership(orders=orders_owner, stock=stock_owner, invoices=invoices_owner),
        reconciliation=ReconciliationConfig.model_validate(settings),
        engine=EngineConfig(
            batch_size=100, max_attempts=20, backoff_base_s=0.05, backoff_max_s=1.0
        ),
    )


@pytest.fixture
async def make_recon(
    odoo: Target,
    db_url: str,
    uid: str,
) -> AsyncIterator[MakeRecon]:
    """``await make_recon(orders_owner="shop", auto_correct=True, hub=True)``: the flow and the
    reconciliation service on one engine; ``hub`` also registers reconciliation's consumer group
    and schedules (as the hub does)."""
    started: list[tuple[Engine, OdooOperations]] = []

    async def make(*, hub: bool = False, **options: Any) -> Recon:
        config = recon_config(uid, **options)
        ops = OdooOperations(OdooClient(odoo.settings(breaker_reset_s=0.2, retry_base_s=0.01)))
        engine = Engine(
            db_url,
            settings=EngineSettings(partitions=8, poll_interval_s=0.02),
            lanes=[Lane("orders", 10, 2), Lane("default", 0, 1), Lane("batch", -10, 1)],
        )
        [subscription] = register_flow(engine, ops, config)
        service = (
            reconciliation.register(engine, ops, config)
            if hub
            else Reconciliation(engine, ops, config)
        )
        await engine.start(scheduler=False)  # tests fire schedules themselves
        started.append((engine, ops))
        flow = Flow(engine, ops, subscription, odoo.kind)
        return Recon(flow, service, config, f"r{uid}", f"p{uid}", uid)

    yield make
    for engine, ops in started:
        await engine.stop()
        await ops.aclose()


@pytest.fixture
def uid() -> str:
    import uuid

    return uuid.uuid4().hex[:8]
