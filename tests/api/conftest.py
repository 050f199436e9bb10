"""A running hub (engine + API on a real HTTP server on 127.0.0.1) and tokens for it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

from crossdock.api.auth import create_token
from crossdock.app import create_app
from crossdock.commands.serve import _Server
from crossdock.config import validate_config
from crossdock.hub import Hub, build_hub, migrate


@dataclass
class Api:
    hub: Hub
    client: httpx.AsyncClient
    tokens: dict[str, str]

    def auth(self, who: str = "writer") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


TOKENS = {
    "writer": ["orders:write", "orders:read", "shipments:write"],
    "reader": ["orders:read"],
    "ops": ["ops:read", "ops:write"],
    "viewer": ["ops:read"],
    "admin": ["admin"],
}


@pytest.fixture
async def api(db_url: str) -> AsyncIterator[Api]:
    async with serve_api({"database": {"url": db_url}, "api": {"port": 0}}) as running:
        yield running


@asynccontextmanager
async def serve_api(config: dict[str, Any]) -> AsyncIterator[Api]:
    """A hub of ``config`` with the API on a free port of 127.0.0.1, and a token per role."""
    cfg = validate_config(config)
    migrate(cfg)
    hub = build_hub(cfg)
    await hub.engine.start()
    tokens = {
        name: await hub.engine.writer.submit(lambda c, n=name, s=scopes: create_token(c, n, s))
        for name, scopes in TOKENS.items()
    }
    tokens["slow"] = await hub.engine.writer.submit(
        lambda c: create_token(c, "slow", ["orders:read"], rate_per_s=0.5)
    )
    server = _Server(uvicorn.Config(create_app(hub), host="127.0.0.1", port=0, log_config=None))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        yield Api(hub, client, tokens)
    server.should_exit = True
    await task
    await hub.engine.stop()
