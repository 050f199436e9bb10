"""Fixtures of the inventory tests: the Odoo sandbox on a real HTTP server, and a hub built the
way ``serve`` builds it (engine, flows, API on 127.0.0.1) whose warehouse system owns stock."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import Connection

from crossdock.api.auth import create_token
from crossdock.app import create_app
from crossdock.commands.serve import _Server
from crossdock.config import validate_config
from crossdock.connectors.odoo import OdooClient, OdooOperations, OdooSettings
from crossdock.engine import Event
from crossdock.hub import Hub, build_hub, migrate
from crossdock.model import Money, Product
from crossdock.sandbox.odoo import SandboxServer, SandboxSettings
from tests.support.waiting import until

SECOND = "W2"
PASSWORD_ENV = "CROSSDOCK_TEST_INVENTORY_ODOO_PASSWORD"


@pytest.fixture(scope="session")
def inventory_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    path: Path = tmp_path_factory.mktemp("inventory-sandbox") / "odoo.db"
    settings = SandboxSettings(latency_call_s=0, latency_record_s=0, path=path)
    with SandboxServer(settings) as server:
        asyncio.run(_second_warehouse(server))
        yield server


def sandbox_settings(server: SandboxServer) -> OdooSettings:
    s = server.settings
    return OdooSettings(
        url=server.url, database=s.database, login=s.login, password=s.password, retry_base_s=0.01
    )


async def _second_warehouse(server: SandboxServer) -> None:
    async with OdooClient(sandbox_settings(server)) as client:
        company = client.info.company_id
        context = {"allowed_company_ids": [company]}
        found = await client.search_read(
            "stock.warehouse", [["code", "=", SECOND]], ["id"], context=context
        )
        if not found:
            await client.create(
                "stock.warehouse",
                [{"name": "Second", "code": SECOND, "company_id": company}],
                context=context,
            )


async def create_products(server: SandboxServer, skus: list[str]) -> None:
    async with OdooClient(sandbox_settings(server)) as client:
        outcome = await OdooOperations(client).upsert_products(
            [
                Product(
                    external_ref=sku,
                    source="test",
                    sku=sku,
                    name=f"Product {sku}",
                    list_price=Money(amount="10", currency="USD"),
                    cost_price=Money(amount="4", currency="USD"),
                )
                for sku in skus
            ]
        )
        assert outcome.ok, outcome.failed


@pytest.fixture
def uid() -> str:
    return uuid.uuid4().hex[:8]


def delta(
    sku: str,
    sequence: int,
    quantity: int | str,
    *,
    kind: str | None = None,
    warehouse: str = "WH",
    location: str = "A-01",
    unit: str = "unit",
    at: str = "2026-11-22T10:00:00Z",
    **extra: Any,
) -> dict[str, Any]:
    q = Decimal(str(quantity))
    return {
        "kind": kind or ("receipt" if q > 0 else "pick"),
        "warehouse": warehouse,
        "location": location,
        "sku": sku,
        "quantity": str(quantity),
        "unit": unit,
        "occurred_at": at,
        "sequence": sequence,
        **extra,
    }


@dataclass
class InvHub:
    hub: Hub
    client: httpx.AsyncClient
    tokens: dict[str, str]
    sandbox: SandboxServer
    published: list[Event] = field(default_factory=list)

    def auth(self, who: str = "wms") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    async def events(self, *events: dict[str, Any], expect: int = 202) -> dict[str, Any]:
        answer = await self.client.post(
            "/v1/inventory/events", json={"events": list(events)}, headers=self.auth()
        )
        assert answer.status_code == expect, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def snapshot(
        self,
        warehouse: str,
        body: str,
        *,
        media: str = "application/x-ndjson",
        expect: int = 200,
        **params: Any,
    ) -> dict[str, Any]:
        answer = await self.client.put(
            f"/v1/inventory/snapshots/{warehouse}",
            content=body.encode(),
            headers={**self.auth(), "Content-Type": media},
            params=params,
        )
        assert answer.status_code == expect, answer.text
        result: dict[str, Any] = answer.json()
        return result

    async def status(self) -> dict[str, Any]:
        answer = await self.client.get("/v1/inventory/status", headers=self.auth("reader"))
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def settled(self, timeout: float = 30.0) -> dict[str, Any]:
        """Wait until the sync loop has nothing left: ERP written, channels told."""

        async def done() -> bool:
            return bool((await self.status())["settled"])

        await until(done, timeout=timeout, what="the inventory sync to settle")
        return await self.status()

    async def positions(self, **params: Any) -> dict[tuple[str, str, str], str]:
        answer = await self.client.get(
            "/v1/inventory/positions", params=params, headers=self.auth("reader")
        )
        assert answer.status_code == 200, answer.text
        return {
            (p["warehouse"], p["location"], p["sku"]): p["quantity"] for p in answer.json()["items"]
        }

    async def availability(self, channel: str) -> dict[str, str]:
        answer = await self.client.get(
            "/v1/inventory/availability",
            params={"channel": channel, "limit": 5000},
            headers=self.auth("reader"),
        )
        assert answer.status_code == 200, answer.text
        return {item["sku"]: item["available"] for item in answer.json()["items"]}

    async def odoo_on_hand(self, skus: list[str], warehouse: str = "WH") -> dict[str, Decimal]:
        assert self.hub.erp is not None
        levels = await self.hub.erp.operations.stock_levels(skus, warehouse=warehouse)
        return {level.sku: level.on_hand for level in levels}

    async def inventory_events(self, types: tuple[str, ...] = ()) -> list[Event]:
        wanted = types or ("inventory.available", "inventory.low", "inventory.restored")
        out: list[Event] = []
        after = 0
        while True:
            page = await self.hub.engine.events_after(after, 1000, types=wanted)
            if not page:
                return out
            out += page
            after = page[-1].position

    def quant_writes(self, skus: list[str]) -> int:
        """Inventory moves the sandbox made for ``skus``: one per quant written with a new
        quantity."""
        store = self.sandbox.sandbox.store
        wanted = set(skus)
        ids = {
            pid
            for pid, p in list(store.table("product.product").items())
            if p.get("default_code") in wanted
        }
        moves = list(store.table("stock.move").values())
        return sum(1 for m in moves if m.get("is_inventory") and m.get("product_id") in ids)


MakeHub = Callable[..., Awaitable[InvHub]]


def _token(name: str, scopes: list[str]) -> Callable[[Connection], str]:
    return lambda conn: create_token(conn, name, scopes, rate_per_s=1e6)


def hub_config(
    db_url: str, sandbox: SandboxServer, *, inventory: dict[str, Any] | None = None, **more: Any
) -> dict[str, Any]:
    s = sandbox.settings
    config: dict[str, Any] = {
        "database": {"url": db_url},
        "api": {"port": 0},
        "systems": {
            "odoo": {
                "kind": "odoo",
                "url": sandbox.url,
                "username": s.login,
                "credentials": {"password": "${" + PASSWORD_ENV + "}"},
                "options": {"database": s.database, "breaker_reset_s": 0.3},
            },
            "wms": {"kind": "wms", "url": "http://127.0.0.1:9"},
        },
        "ownership": {"stock": "wms"},
        "channels": {
            "default": {"warehouses": ["WH"]},
            "web": {"warehouses": ["WH"]},
            "both": {"warehouses": ["WH", SECOND]},
        },
        "inventory": {
            "warehouses": ["WH", SECOND],
            "coalescing": {"quiet_ms": 100, "erp_max_delay_s": 5, "publish_max_delay_s": 2},
            **(inventory or {}),
        },
        "engine": {
            "partitions": 8,
            "poll_interval_ms": 20,
            "max_attempts": 3,
            "backoff_base_s": 0.05,
            "backoff_max_s": 0.2,
        },
        "observability": {"log_level": "warning", "tracing": False},
    }
    config.update(more)
    return config


@pytest.fixture
async def make_hub(
    db_url: str, inventory_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[MakeHub]:
    """``await make_hub(inventory={...}, ownership={...})``: a started hub with its API."""
    monkeypatch.setenv(PASSWORD_ENV, inventory_sandbox.settings.password)
    started: list[tuple[Hub, _Server, asyncio.Task[None], httpx.AsyncClient]] = []

    async def make(*, inventory: dict[str, Any] | None = None, **more: Any) -> InvHub:
        cfg = validate_config(hub_config(db_url, inventory_sandbox, inventory=inventory, **more))
        migrate(cfg)
        hub = build_hub(cfg, flows=True)
        await hub.start()
        tokens = {
            name: await hub.engine.writer.submit(_token(name, scopes))
            for name, scopes in {
                "wms": ["inventory:write"],
                "reader": ["inventory:read"],
                "shop": ["orders:write", "orders:read"],
                "ops": ["ops:read", "ops:write"],
            }.items()
        }
        server = _Server(
            uvicorn.Config(
                create_app(hub), host="127.0.0.1", port=0, log_config=None, access_log=False
            )
        )
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60)
        started.append((hub, server, task, client))
        return InvHub(hub, client, tokens, inventory_sandbox)

    yield make
    for hub, server, task, client in started:
        await client.aclose()
        server.should_exit = True
        await task
        await hub.stop()
