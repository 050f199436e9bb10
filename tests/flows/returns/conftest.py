"""Fixtures of the fast returns tests: order to cash and the returns flow on an in-memory ERP
(:class:`~crossdock.connectors.memory.MemoryErp`) and an engine on a SQLite file, without
workers: each test delivers the events to the handlers itself, so nothing waits."""

from __future__ import annotations

import shutil
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from crossdock.config.returns import CategoryRule, ReturnPolicy, ReturnsConfig
from crossdock.config.schema import Config
from crossdock.connectors.memory import MemoryErp
from crossdock.connectors.odoo import StockSetting
from crossdock.engine import Batch, Engine, EngineSettings, Event, Lane, Subscription
from crossdock.engine.log import insert_events
from crossdock.flows.exceptions import ExceptionRecord, list_exceptions, resolve_exception
from crossdock.flows.order_to_cash import register as register_o2c
from crossdock.flows.order_to_cash.accept import Answer
from crossdock.flows.returns import register as register_returns
from crossdock.flows.returns.intake import categories_for, confirm_receipt, request_return
from crossdock.flows.returns.request import ReturnReceipt, ReturnRequest
from crossdock.flows.returns.store import ReturnRecord, get_return, return_subject, steps_of_return
from crossdock.migrations import upgrade
from tests.flows.harness import Flow, flow_config, make_order, shipment_confirmed

RETURNS = ReturnsConfig(
    channels={
        "default": ReturnPolicy(),
        "cut": ReturnPolicy(window_days=0),
        "bo": ReturnPolicy(approval_above=Decimal(15)),
        "priced": ReturnPolicy(not_returnable=["NR-*"]),
        "bycat": ReturnPolicy(
            window_days=0,
            categories={
                "All / Food": CategoryRule(returnable=False),
                "All / Electronics": CategoryRule(window_days=0),
                "All / Tools": CategoryRule(window_days=30),
            },
        ),
    },
    quarantine_location="WH/Quarantine",
)


def returns_config() -> Config:
    return flow_config().model_copy(update={"returns": RETURNS})


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("unit-returns") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@dataclass
class Hub:
    """Both flows over one engine and one in-memory ERP, driven by hand."""

    engine: Engine
    erp: MemoryErp
    orders: Flow
    returns: Subscription

    async def deliver_all(self, *, commit: bool = True) -> None:
        """Deliver every event to both flows until nothing new is appended."""
        seen: set[str] = set()
        while True:
            fresh = [e for e in await self.engine.events_after(0, 100_000) if e.id not in seen]
            if not fresh:
                return
            seen |= {e.id for e in fresh}
            await self.orders.deliver(
                [e for e in fresh if e.type in self.orders.subscription.types], commit=commit
            )
            await self.deliver_returns([e for e in fresh if e.type in self.returns.types], commit)

    async def deliver_returns(self, events: Sequence[Event], commit: bool = True) -> Batch:
        batch = Batch(self.returns.group, list(events))
        await self.returns.handler(batch)
        if commit:

            def apply(conn: Any) -> None:
                for fn in batch.writes:
                    fn(conn)
                if batch.emitted:
                    insert_events(conn, batch.emitted, self.engine.partitions)

            await self.engine.writer.submit(apply, appends=True)
        return batch

    async def invoiced(self, ref: str, lines: Sequence[tuple[str, str]], **kw: Any) -> str:
        """An order taken through order to cash to invoiced; its id."""
        for sku, _ in lines:
            if sku not in self.erp.products:
                self.erp.add_product(sku, price="10")
                await self.erp.set_stock([StockSetting(sku=sku, quantity=Decimal(100))])
        [order_id] = await self.orders.accept(make_order(ref, "c-1", lines, **kw))
        await self.deliver_all()
        await self.engine.append([shipment_confirmed(order_id, lines)])
        await self.deliver_all()
        assert (await self.orders.order(order_id)).state == "invoiced"
        return order_id

    async def ask(self, **body: Any) -> Answer:
        request = ReturnRequest.model_validate(body)
        categories = await categories_for(self.erp, request, RETURNS)
        return await self.engine.writer.submit(
            lambda conn: request_return(
                conn,
                request,
                RETURNS,
                actor="tester",
                partitions=self.engine.partitions,
                now=time.time(),
                categories=categories,
            ),
            appends=True,
        )

    async def receive(self, rma: str, lines: list[dict[str, Any]]) -> Answer:
        payload = ReturnReceipt.model_validate({"lines": lines}).model_dump(mode="json")
        return await self.engine.writer.submit(
            lambda conn: confirm_receipt(
                conn,
                rma,
                payload,
                key=f"receipt:{rma}",
                actor="tester",
                partitions=self.engine.partitions,
            ),
            appends=True,
        )

    async def record(self, rma: str) -> ReturnRecord:
        found = await self.engine.db.read(lambda c: get_return(c, rma))
        assert found is not None
        return found

    async def steps(self, rma: str) -> list[str]:
        return [s.step for s in await self.engine.db.read(lambda c: steps_of_return(c, rma))]

    async def emitted(self, rma: str) -> list[str]:
        found = await self.engine.events_after(0, 10_000, subject=return_subject(rma))
        return [e.type for e in found if e.source == "crossdock.returns"]

    async def exceptions(self, rma: str) -> list[ExceptionRecord]:
        subject = return_subject(rma)
        return await self.engine.db.read(lambda c: list_exceptions(c, subject=subject))

    async def resolve(self, exception_id: str, action: str) -> None:
        def write(conn: Any) -> None:
            _, event = resolve_exception(
                conn, exception_id, action=action, by="tester", note=None, now=time.time()
            )
            insert_events(conn, [event], self.engine.partitions)

        await self.engine.writer.submit(write, appends=True)


@pytest.fixture
def erp() -> MemoryErp:
    return MemoryErp()


@pytest.fixture
async def hub(erp: MemoryErp, migrated: Path, tmp_path: Path) -> AsyncIterator[Hub]:
    database = tmp_path / "hub.db"
    shutil.copyfile(migrated, database)
    engine = Engine(
        f"sqlite:///{database}",
        settings=EngineSettings(partitions=8),
        lanes=[Lane("orders", 10, 2), Lane("default", 0, 1)],
    )
    config = returns_config()
    [orders] = register_o2c(engine, erp, config)
    [returns] = register_returns(engine, erp, config)
    await engine.start(workers=False)
    try:
        yield Hub(engine, erp, Flow(engine, erp, orders, "memory"), returns)  # type: ignore[arg-type]
    finally:
        await engine.stop()
