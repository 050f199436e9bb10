"""A hub served as in production for the tests that need a whole one: `crossdock serve` in its own
process against an Odoo the test controls, and a shop POSTing orders to it over HTTP."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from crossdock.api.auth import create_token
from crossdock.connectors.odoo import OdooClient, OdooOperations, OdooSettings
from crossdock.demo import SKUS, seed_erp
from crossdock.engine.database import Database
from crossdock.migrations import upgrade

ROOT = Path(__file__).resolve().parents[2]


def order(n: int) -> dict[str, Any]:
    return {
        "channel": "shop",
        "external_ref": f"K-{n}",
        "currency": "USD",
        "customer": {
            "external_ref": f"C-{n % 40}",
            "name": "Crash Test Customer",
            "address": {
                "street": "1 Main St",
                "city": "Springfield",
                "postal_code": "12345",
                "country": "US",
            },
        },
        "lines": [{"sku": SKUS[n % len(SKUS)], "quantity": "1", "unit_price": "25.00"}],
    }


def start_hub(config: Path, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "crossdock", "serve", "--config", str(config), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "HUB_ODOO_PASSWORD": "admin"},
    )


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


SENDERS = 16


async def send_all(base: str, token: str, numbers: list[int]) -> set[int]:
    """POST orders until the hub stops answering; the numbers it acknowledged."""
    accepted: set[int] = set()
    queue = list(numbers)
    async with httpx.AsyncClient(
        base_url=base, timeout=10, headers={"Authorization": f"Bearer {token}"}
    ) as client:

        async def worker() -> None:
            while queue:
                n = queue.pop()
                try:
                    response = await client.post("/v1/orders", json=order(n))
                except httpx.HTTPError:
                    return
                if response.status_code == 202:
                    accepted.add(n)

        await asyncio.gather(*(worker() for _ in range(SENDERS)))
    return accepted


def write_config(path: Path, database_url: str, odoo_url: str, extra: str = "") -> Path:
    """A hub configuration on `database_url` whose ERP is the Odoo at `odoo_url` (not started by
    the hub: the test owns it), plus `extra` YAML."""
    path.write_text(
        f"database:\n  url: {database_url}\n"
        f"systems:\n  odoo:\n    kind: odoo\n    url: {odoo_url}\n    username: admin\n"
        "    credentials:\n      password: ${HUB_ODOO_PASSWORD}\n"
        "    options:\n      database: crossdock\n" + extra
    )
    return path


def seeded(odoo_url: str) -> OdooSettings:
    """Seed the demo's products, customers and stock into the Odoo at `odoo_url`; its settings."""
    settings = OdooSettings(url=odoo_url, database="crossdock", login="admin", password="admin")

    async def seed() -> None:
        async with OdooClient(settings) as client:
            await seed_erp(OdooOperations(client))

    asyncio.run(seed())
    return settings


def hub_files(directory: Path, odoo_url: str, extra: str = "") -> tuple[Path, str, str]:
    """A migrated hub database in `directory`, its configuration (see :func:`write_config`) and
    an admin token: (configuration path, database URL, token)."""
    url = f"sqlite:///{directory / 'hub.db'}"
    config = write_config(directory / "crossdock.yaml", url, odoo_url, extra)
    upgrade(url)
    db = Database(url)
    token = db.write_sync(lambda c: create_token(c, "shop", ["admin"], rate_per_s=1e6))
    db.close()
    return config, url, token


def sale_orders_per_ref(settings: OdooSettings, refs: list[str]) -> Counter[str]:
    """How many sale orders the ERP holds for each `client_order_ref` of `refs`."""

    async def read() -> Counter[str]:
        async with OdooClient(settings) as client:
            rows = await client.search_read(
                "sale.order", [["client_order_ref", "in", refs]], ["client_order_ref"]
            )
        return Counter(r["client_order_ref"] for r in rows)

    return asyncio.run(read())
