"""The sandbox catalogue `serve` seeds: its products, stock and customers reach the ERP once; a
sandbox that has them already (kept from an earlier run) is left as it is."""

from __future__ import annotations

from decimal import Decimal

from crossdock.connectors.odoo import OdooOperations
from crossdock.connectors.odoo.client import OdooClient
from crossdock.connectors.odoo.settings import OdooSettings
from crossdock.sandbox.odoo.app import SandboxSettings
from crossdock.sandbox.odoo.server import SandboxServer
from crossdock.sandbox.seed import SANDBOX_CATALOGUE, seed_once


async def test_the_sandbox_catalogue_is_seeded_once() -> None:
    simulated = SandboxSettings(latency_call_s=0, latency_record_s=0)
    with SandboxServer(simulated) as server:
        settings = OdooSettings(
            url=server.url,
            database=simulated.database,
            login=simulated.login,
            password=simulated.password,
        )
        ops = OdooOperations(OdooClient(settings))
        try:
            skus = [p.sku for p in SANDBOX_CATALOGUE.products]
            assert (await ops.resolve_products(skus)).found == {}
            assert await seed_once(ops, SANDBOX_CATALOGUE) is True
            assert set((await ops.resolve_products(skus)).found) == set(skus)
            levels = await ops.stock_levels(["CHAIR-ERGO", "TONER-BK"])
            on_hand = {level.sku: level.on_hand for level in levels}
            assert on_hand == {"CHAIR-ERGO": Decimal(120), "TONER-BK": Decimal(0)}
            assert await seed_once(ops, SANDBOX_CATALOGUE) is False
        finally:
            await ops.aclose()
