"""A hub whose procurement consumer runs on a :class:`MemoryErp`, with the API on a real HTTP
server on 127.0.0.1 (uvicorn) and tokens for two buyers and a viewer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
import uvicorn

from crossdock.api.auth import create_token
from crossdock.app import create_app
from crossdock.commands.serve import _Server
from crossdock.config import validate_config
from crossdock.connectors.memory import MemoryErp
from crossdock.connectors.odoo.port import ErpPort
from crossdock.connectors.odoo.replenishment_records import ReorderRule, SupplierTerm
from crossdock.flows.procurement import Procurement, register
from crossdock.flows.procurement.demand import Sink
from crossdock.flows.procurement.forecasting import Forecasting, register_forecasting
from crossdock.hub import Hub, build_hub, migrate
from crossdock.webhooks.push import demand_sink

TOKENS = {
    "buyer": ["purchasing:read", "purchasing:write"],
    "buyer2": ["purchasing:read", "purchasing:write"],
    "viewer": ["purchasing:read"],
}


@dataclass
class Buying:
    hub: Hub
    erp: MemoryErp
    """The memory ERP (seeded with :func:`seed`), unless another ERP was given."""
    service: Procurement
    client: httpx.AsyncClient
    tokens: dict[str, str]
    forecasting: Forecasting

    def auth(self, who: str = "buyer") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def seed(erp: MemoryErp) -> None:
    """Two SKUs of supplier ACME below their minimum, one of BOLT, one covered."""
    for sku in ("A", "B", "C", "D"):
        erp.add_product(sku)
    erp.on_hand[("WH", "A")] = Decimal(2)
    erp.on_hand[("WH", "B")] = Decimal(0)
    erp.on_hand[("WH", "C")] = Decimal(1)
    erp.on_hand[("WH", "D")] = Decimal(100)
    for sku, lo, hi in (("A", 10, 40), ("B", 5, 20), ("C", 10, 30), ("D", 10, 30)):
        erp.add_reorder_rule(ReorderRule(sku, "WH", Decimal(lo), Decimal(hi)))
    erp.add_supplier_term(SupplierTerm("A", "ACME", 1, Decimal(0), Decimal("4"), "USD", 7))
    erp.add_supplier_term(SupplierTerm("B", "ACME", 1, Decimal(24), Decimal("10"), "USD", 3))
    erp.add_supplier_term(SupplierTerm("C", "BOLT", 1, Decimal(0), Decimal("1"), "USD", 2))
    erp.add_supplier_term(SupplierTerm("D", "BOLT", 1, Decimal(0), Decimal("1"), "USD", 2))


MakeBuying = Callable[..., Awaitable[Buying]]


@asynccontextmanager
async def serve(
    db_url: str,
    procurement: dict[str, Any],
    erp: ErpPort | None = None,
    *,
    forecasting: dict[str, Any] | None = None,
    sink: Sink | None = None,
) -> AsyncIterator[Buying]:
    cfg = validate_config(
        {
            "database": {"url": db_url},
            "api": {"port": 0},
            "procurement": procurement,
            "forecasting": forecasting or {},
        }
    )
    migrate(cfg)
    hub = build_hub(cfg)
    memory = MemoryErp()
    seed(memory)
    service = register(hub.engine, erp or memory, cfg)
    sink = sink or demand_sink(cfg.forecasting)
    forecasts = register_forecasting(hub.engine, erp or memory, cfg, sink=sink)
    await hub.engine.start()
    tokens = {
        name: await hub.engine.writer.submit(lambda c, n=name, s=scopes: create_token(c, n, s))
        for name, scopes in TOKENS.items()
    }
    server = _Server(uvicorn.Config(create_app(hub), host="127.0.0.1", port=0, log_config=None))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield Buying(hub, memory, service, client, tokens, forecasts)
    finally:
        server.should_exit = True
        await task
        await hub.engine.stop()


@pytest.fixture
async def buying(db_url: str) -> AsyncIterator[Buying]:
    async with serve(db_url, {}) as running:
        yield running
