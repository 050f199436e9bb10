"""A hub with one Shopify shop configured and the order consumer subscribed, its API on a real
HTTP server on 127.0.0.1 (uvicorn), and Shopify-signed requests."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from crossdock.app import create_app
from crossdock.commands.serve import _Server
from crossdock.config import validate_config
from crossdock.connectors.shopify.port import ShopPort
from crossdock.flows.shopify import register_shopify
from crossdock.hub import Hub, build_hub, migrate

DATA = Path(__file__).parent / "data"
SECRET = "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"
TOKEN = "shpat_test_token_0001"
DOMAIN = "crossdock-test.myshopify.com"


def published_order() -> dict[str, Any]:
    """Shopify's published order (tests/flows/shopify/data/README.md)."""
    order: dict[str, Any] = json.loads((DATA / "order_python_api.json").read_text())
    return order


def signed(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shop_config(db_url: str, **options: Any) -> dict[str, Any]:
    return {
        "database": {"url": db_url},
        "api": {"port": 0},
        "engine": {"poll_interval_ms": 20, "backoff_base_s": 0.05, "backoff_max_s": 0.2},
        "systems": {
            # the ERP is not called here: orders stop at acceptance (order-to-cash's own tests
            # carry them on)
            "odoo": {"kind": "odoo", "url": "http://127.0.0.1:9", "username": "admin"},
            "shop": {
                "kind": "shopify",
                "url": f"https://{DOMAIN}",
                "credentials": {"access_token": "${CROSSDOCK_TEST_SHOPIFY_TOKEN}"},
                "webhook_secret": "${CROSSDOCK_TEST_SHOPIFY_SECRET}",
                "options": {"locations": {"1": "WH1"}, **options},
            },
        },
    }


@dataclass
class ShopHub:
    hub: Hub
    client: httpx.AsyncClient

    async def deliver(
        self,
        payload: dict[str, Any],
        topic: str = "orders/create",
        *,
        webhook_id: str = "w-1",
        secret: str = SECRET,
        domain: str = DOMAIN,
        body: bytes | None = None,
        system: str = "shop",
    ) -> httpx.Response:
        raw = body if body is not None else json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": signed(raw, secret),
            "X-Shopify-Shop-Domain": domain,
            "X-Shopify-Webhook-Id": webhook_id,
            "X-Shopify-Triggered-At": datetime.now(UTC).isoformat(),
            "X-Shopify-API-Version": "2025-01",
        }
        return await self.client.post(
            f"/v1/channels/shopify/{system}/webhooks", content=raw, headers=headers
        )

    async def settle(self) -> None:
        """Until the consumer has worked everything appended so far."""
        async with asyncio.timeout(30):
            while not await self.hub.engine.idle():
                await asyncio.sleep(0.02)


@pytest.fixture
def shop_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSDOCK_TEST_SHOPIFY_TOKEN", TOKEN)
    monkeypatch.setenv("CROSSDOCK_TEST_SHOPIFY_SECRET", SECRET)


@pytest.fixture
async def shop(tmp_path: Path, shop_env: None) -> AsyncIterator[ShopHub]:
    async for handle in serve_hub(tmp_path, None):
        yield handle


async def serve_hub(tmp_path: Path, port: ShopPort | None) -> AsyncIterator[ShopHub]:
    """The hub on a real HTTP server; with ``port``, the shop's outbound consumers and pull."""
    cfg = validate_config(shop_config(f"sqlite:///{tmp_path / 'shop.db'}"))
    migrate(cfg)
    hub = build_hub(cfg)
    register_shopify(hub.engine, cfg, {"shop": port} if port is not None else None)
    await hub.start()
    server = _Server(uvicorn.Config(create_app(hub), host="127.0.0.1", port=0, log_config=None))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30)
    yield ShopHub(hub, client)
    await client.aclose()
    server.should_exit = True
    await task
    await hub.stop()
