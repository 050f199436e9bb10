"""Fixtures of the order-to-cash tests: the Odoo sandbox on a real HTTP server (zero latency) and,
with ``CROSSDOCK_ODOO_URL``/``_DB``/``_USER``/``_PASSWORD`` set, a real Odoo too; a hub on a fresh
SQLite file per test running the flow in-process."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from crossdock.config.schema import ChannelPolicy
from crossdock.connectors.odoo import OdooClient, OdooOperations
from crossdock.engine import Engine, EngineSettings, Lane
from crossdock.flows.order_to_cash import register
from crossdock.migrations import upgrade
from crossdock.sandbox.odoo import SandboxServer, SandboxSettings
from tests.contract.odoo.conftest import ODOO_ENV, OdooContract, Target
from tests.flows.harness import SECOND_WAREHOUSE, Flow, flow_config

MakeFlow = Callable[..., Awaitable[Flow]]


@pytest.fixture(scope="session")
def flow_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    path: Path = tmp_path_factory.mktemp("flow-sandbox") / "odoo.db"
    with SandboxServer(SandboxSettings(latency_call_s=0, latency_record_s=0, path=path)) as server:
        yield server


@pytest.fixture(scope="session", params=["sandbox", "real"])
def odoo(request: pytest.FixtureRequest) -> Target:
    if request.param == "sandbox":
        server: SandboxServer = request.getfixturevalue("flow_sandbox")
        s = server.settings
        target = Target("sandbox", server.url, s.database, s.login, s.password, None, server)
    else:
        values = ODOO_ENV.values()
        if values is None:
            pytest.skip(ODOO_ENV.skip_reason())
        target = OdooContract().real(values)
    asyncio.run(_second_warehouse(target))
    return target


async def _second_warehouse(target: Target) -> None:
    """A second warehouse in the default company (created once per database)."""
    async with OdooClient(target.settings()) as client:
        company = client.info.company_id
        context = {"allowed_company_ids": [company]}
        rows = await client.search_read(
            "stock.warehouse",
            [["code", "=", SECOND_WAREHOUSE], ["company_id", "=", company]],
            ["id"],
            context=context,
        )
        if not rows:
            await client.create(
                "stock.warehouse",
                [
                    {
                        "name": "Crossdock second warehouse",
                        "code": SECOND_WAREHOUSE,
                        "company_id": company,
                    }
                ],
                context=context,
            )


@pytest.fixture
def uid() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
async def make_flow(odoo: Target, tmp_path: Path) -> AsyncIterator[MakeFlow]:
    """Start a hub: ``await make_flow(workers=False, customers_owned=False, channels={...})``
    (``channels``: policies added to the harness's own)."""
    started: list[tuple[Engine, OdooOperations]] = []

    async def make(
        *,
        workers: bool = True,
        customers_owned: bool = True,
        channels: dict[str, ChannelPolicy] | None = None,
    ) -> Flow:
        url = f"sqlite:///{tmp_path / f'hub-{len(started)}.db'}"
        upgrade(url)
        ops = OdooOperations(
            OdooClient(
                odoo.settings(
                    customers_owned=customers_owned, breaker_reset_s=0.2, retry_base_s=0.01
                )
            )
        )
        engine = Engine(
            url,
            settings=EngineSettings(partitions=8, poll_interval_s=0.02),
            lanes=[Lane("orders", 10, 2), Lane("default", 0, 1)],
        )
        [subscription] = register(engine, ops, flow_config(**(channels or {})))
        await engine.start(workers=workers)
        started.append((engine, ops))
        return Flow(engine, ops, subscription, odoo.kind)

    yield make
    for engine, ops in started:
        await engine.stop()
        await ops.aclose()


@pytest.fixture
async def flow(make_flow: MakeFlow) -> Flow:
    return await make_flow()
