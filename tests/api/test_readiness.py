"""`/readyz` asks the configured ERP as well as the database: an Odoo that does not answer makes
the hub not ready (503, the failing check named); an answering one makes it ready. The answer is
cached briefly so a probe every second does not become an ERP call every second."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn

from crossdock.api.readiness import Probe
from crossdock.app import create_app
from crossdock.commands.serve import _Server
from crossdock.config import validate_config
from crossdock.hub import build_hub, migrate
from crossdock.sandbox.odoo.app import SandboxSettings
from crossdock.sandbox.odoo.server import SandboxServer
from tests.support.postgres import free_port


@asynccontextmanager
async def served(db_url: str, odoo_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The API of a hub whose ERP is the Odoo at `odoo_url` (nothing started for it)."""
    erp = {"kind": "odoo", "url": odoo_url, "username": "admin", "options": {"database": "x"}}
    cfg = validate_config({"database": {"url": db_url}, "systems": {"odoo": erp}})
    migrate(cfg)
    hub = build_hub(cfg)
    await hub.engine.start()
    server = _Server(uvicorn.Config(create_app(hub), host="127.0.0.1", port=0, log_config=None))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client
    finally:
        server.should_exit = True
        await task
        await hub.stop()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_an_unreachable_odoo_makes_the_hub_not_ready(db_url: str) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"  # a free port: nothing listens there
    async with served(db_url, nobody) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["odoo"].startswith("failing:")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_an_answering_odoo_makes_the_hub_ready(db_url: str) -> None:
    with SandboxServer(SandboxSettings(latency_call_s=0, latency_record_s=0)) as odoo:
        async with served(db_url, odoo.url) as client:
            response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "odoo": "ok"}}


async def test_a_probe_answer_is_reused_until_it_expires() -> None:
    now = [0.0]
    calls: list[float] = []

    async def check() -> str:
        calls.append(now[0])
        return "ok" if len(calls) == 1 else "failing: ConnectError"

    clock: Callable[[], float] = lambda: now[0]  # noqa: E731
    probe = Probe(check, ttl_s=5.0, clock=clock)
    assert await probe.result() == "ok"
    now[0] = 4.9
    assert await probe.result() == "ok"  # cached
    now[0] = 5.1
    assert await probe.result() == "failing: ConnectError"
    assert calls == [0.0, 5.1]


async def test_a_probe_that_hangs_fails_on_its_timeout() -> None:
    async def hang() -> str:
        await asyncio.Event().wait()
        return "ok"

    probe = Probe(hang, ttl_s=5.0, timeout_s=0.05)
    assert await probe.result() == "failing: no answer within 0.05 s"
