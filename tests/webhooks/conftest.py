"""A hub with webhooks (short retry schedule, 127.0.0.1 allow-listed) and its API on a real HTTP
server, tokens, and receivers on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from crossdock.api.auth import create_token
from crossdock.app import create_app
from crossdock.commands.serve import _Server
from crossdock.config import validate_config
from crossdock.engine import Event, NewEvent
from crossdock.hub import Hub, build_hub, migrate
from tests.webhooks.receiver import Receiver, Script

INBOUND_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SHOP_SECRET = "shpss_test_shared_secret"


def webhooks_config(**overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "retry_schedule_s": [0, 0.05, 0.05, 0.05],
        "jitter": 0,
        "timeout_s": 1,
        "lease_s": 3,
        "poll_interval_ms": 20,
        "allow_private": ["127.0.0.1/32"],
        "rotation_overlap_s": 60,
        "sources": {
            "partner": {
                "secret": "${CROSSDOCK_TEST_PARTNER_SECRET}",
                "event_types": ["order.*", "shipment.confirmed"],
                "tolerance_s": 300,
            },
            "shop": {
                "verification": "hmac",
                "secret": "${CROSSDOCK_TEST_SHOP_SECRET}",
                "signature_header": "X-Shopify-Hmac-Sha256",
                "encoding": "base64",
                "id_header": "X-Shopify-Webhook-Id",
                "event_types": ["order.cancel_requested"],
            },
            "hexshop": {
                "verification": "hmac",
                "secret": "${CROSSDOCK_TEST_SHOP_SECRET}",
                "signature_header": "X-Signature",
                "encoding": "hex",
                "id_header": "X-Delivery",
                "timestamp_header": "X-Sent-At",
                "tolerance_s": 60,
                "event_types": ["order.cancel_requested"],
            },
        },
    }
    settings.update(overrides)
    return settings


@dataclass
class WebhookHub:
    hub: Hub
    client: httpx.AsyncClient
    tokens: dict[str, str]
    receivers: list[Receiver]

    def auth(self, who: str = "hooks") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    async def receiver(self, script: Script | None = None) -> Receiver:
        receiver = await Receiver(script=script).start()
        self.receivers.append(receiver)
        return receiver

    async def subscribe(self, receiver: Receiver, types: list[str], **extra: Any) -> dict[str, Any]:
        answer = await self.client.post(
            "/v1/subscriptions",
            json={"url": receiver.url, "event_types": types, **extra},
            headers=self.auth(),
        )
        assert answer.status_code == 201, answer.text
        body: dict[str, Any] = answer.json()
        receiver.secrets.append(body["secret"])
        return body

    async def emit(self, type: str, subject: str, **data: Any) -> Event:
        return await self.hub.engine.append_one(
            NewEvent(type, "test", subject, data, traceparent=data.pop("traceparent", None))
        )


HubFactory = Callable[..., Awaitable[WebhookHub]]


@pytest.fixture
def inbound_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSDOCK_TEST_PARTNER_SECRET", INBOUND_SECRET)
    monkeypatch.setenv("CROSSDOCK_TEST_SHOP_SECRET", SHOP_SECRET)


async def _start(db_url: str, **overrides: Any) -> tuple[WebhookHub, Callable[[], Awaitable[None]]]:
    cfg = validate_config(
        {"database": {"url": db_url}, "api": {"port": 0}, "webhooks": webhooks_config(**overrides)}
    )
    migrate(cfg)
    hub = build_hub(cfg)
    await hub.start()
    tokens = {
        "hooks": await hub.engine.writer.submit(
            lambda c: create_token(c, "hooks", ["webhooks:admin"])
        ),
        "writer": await hub.engine.writer.submit(lambda c: create_token(c, "w", ["orders:write"])),
    }
    server = _Server(uvicorn.Config(create_app(hub), host="127.0.0.1", port=0, log_config=None))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30)
    handle = WebhookHub(hub, client, tokens, [])

    async def stop() -> None:
        await client.aclose()
        server.should_exit = True
        await task
        await hub.stop()
        for receiver in handle.receivers:
            await receiver.stop()

    return handle, stop


@pytest.fixture
async def make_hub(inbound_secrets: None) -> AsyncIterator[Callable[..., Awaitable[WebhookHub]]]:
    stops: list[Callable[[], Awaitable[None]]] = []

    async def make(db_url: str, **overrides: Any) -> WebhookHub:
        handle, stop = await _start(db_url, **overrides)
        stops.append(stop)
        return handle

    yield make
    for stop in reversed(stops):
        await stop()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    from crossdock.migrations import upgrade

    url = f"sqlite:///{tmp_path / 'hooks.db'}"
    upgrade(url)
    return url


@pytest.fixture
async def hooks(db_url: str, make_hub: HubFactory) -> WebhookHub:
    """On both backends."""
    return await make_hub(db_url)


@pytest.fixture
async def lite(sqlite_url: str, make_hub: HubFactory) -> WebhookHub:
    """On SQLite only (behaviour that does not depend on the database)."""
    return await make_hub(sqlite_url)
