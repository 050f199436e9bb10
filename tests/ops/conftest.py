"""A hub observed end to end: in-memory span exporter, the API on a real uvicorn server on
127.0.0.1, an Odoo sandbox over HTTP, and a small test flow on `order.accepted` that calls Odoo,
records steps and exceptions, emits an event, retries once and dead-letters on request."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
import uvicorn
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import Connection

from crossdock.api.auth import create_token
from crossdock.app import create_app
from crossdock.commands.serve import _Server
from crossdock.config import validate_config
from crossdock.connectors.odoo import OdooClient, OdooSettings
from crossdock.engine import Backoff, Batch, NewEvent, Reject, Subscription
from crossdock.flows.exceptions import open_exception
from crossdock.flows.orders import step_row, write_changes
from crossdock.hub import Hub, build_hub, migrate
from crossdock.sandbox.odoo import SandboxServer, SandboxSettings
from tests.support.waiting import until

TOKENS = {
    "writer": ["orders:write", "orders:read"],
    "ops": ["ops:read", "ops:write"],
    "viewer": ["ops:read"],
}


class RecordingTransport(httpx.AsyncBaseTransport):
    """Forwards to the network and keeps each request's headers (what Odoo received)."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.headers: list[httpx.Headers] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.headers.append(request.headers)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


@dataclass
class Observed:
    hub: Hub
    client: httpx.AsyncClient
    tokens: dict[str, str]
    spans: InMemorySpanExporter
    odoo: OdooClient
    odoo_wire: RecordingTransport
    handled: list[str] = field(default_factory=list)
    entered: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def auth(self, who: str = "writer") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def finished(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())

    async def idle(self) -> None:
        await until(self.hub.engine.idle, timeout=30, what="the engine to be idle")


def order_body(ref: str) -> dict[str, Any]:
    return {
        "channel": "webshop",
        "external_ref": ref,
        "currency": "USD",
        "customer": {
            "external_ref": "C-42",
            "name": "Jane Doe",
            "email": "jane.doe@example.com",
            "address": {
                "street": "1 Main St",
                "city": "Springfield",
                "postal_code": "12345",
                "country": "US",
            },
        },
        "lines": [{"sku": "DESK-1", "quantity": "2", "unit_price": "120.00"}],
    }


@pytest.fixture(autouse=True)
def keep_logging() -> Iterator[None]:
    """Commands run through CliRunner configure logging onto the runner's stream, closed once
    the command returns: put the configuration back after each test."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


@pytest.fixture(scope="session")
def odoo_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    path: Path = tmp_path_factory.mktemp("ops-odoo") / "odoo.db"
    with SandboxServer(SandboxSettings(latency_call_s=0, latency_record_s=0, path=path)) as server:
        yield server


def _odoo_client(server: SandboxServer, hub: Hub, wire: RecordingTransport) -> OdooClient:
    s = server.settings
    settings = OdooSettings(
        url=server.url,
        database=s.database,
        login=s.login,
        password=s.password,
        retry_base_s=0.001,
    )
    http = httpx.AsyncClient(transport=wire)
    return OdooClient(settings, http=http, observer=hub.ops.connectors)


def _hold(conn: Connection, order_id: str, now: float) -> None:
    open_exception(
        conn,
        type="credit_hold",
        owner="finance",
        subject=f"order:{order_id}",
        reason="over the credit limit",
        actions=["release", "cancel"],
        now=now,
    )


def _flow(observed: list[Observed]) -> Subscription:
    """`ops.test` on `order.accepted`: one Odoo read per batch, a step per order; external refs
    starting with FAIL- fail once (then succeed), DEAD- are rejected, HOLD- open a credit hold,
    BAD- call an unknown Odoo model (a connector error) and record a failed step; SLOW- wait for
    `release`."""

    async def handle(batch: Batch) -> None:
        me = observed[0]
        await me.odoo.search_read("res.partner", [], ["id"], limit=1)
        for event in batch.events:
            order_id = event.data["order_id"]
            ref = event.data["order"]["external_ref"]
            if ref.startswith("SLOW-"):  # hold the batch until the test releases it
                me.entered.set()
                await me.release.wait()
            if ref.startswith("DEAD-"):
                batch.fail(event, Reject("no price list for channel webshop"))
                continue
            if ref.startswith("FAIL-") and batch.attempt == 1:  # until retried from parking
                raise ConnectionError("warehouse system unreachable")
            status, detail = "done", {}
            if ref.startswith("BAD-"):
                try:
                    await me.odoo.search_read("x.unknown.model", [], ["id"])
                except Exception as exc:
                    status, detail = "failed", {"error_type": type(exc).__name__}
            now = time.time()
            batch.write(
                lambda c, o=order_id, s=status, d=detail, t=now: write_changes(
                    c, [], [step_row(o, "credit_check", s, t, d)]
                )
            )
            if ref.startswith("HOLD-"):
                batch.write(lambda c, o=order_id, t=now: _hold(c, o, t))
            batch.emit(
                NewEvent("order.checked", "crossdock.test", event.subject, {"order_id": order_id})
            )
            me.handled.append(order_id)

    return Subscription(
        "ops.test",
        ["order.accepted"],
        handle,
        lane="orders",
        max_attempts=3,
        backoff=Backoff(base_s=0.01, max_s=0.02, jitter=0),
    )


@pytest.fixture
async def observed(db_url: str, odoo_sandbox: SandboxServer) -> AsyncIterator[Observed]:
    cfg = validate_config(
        {
            "database": {"url": db_url},
            "api": {"port": 0},
            "engine": {"poll_interval_ms": 20, "partitions": 8},
        }
    )
    migrate(cfg)
    hub = build_hub(cfg)
    spans = InMemorySpanExporter()
    assert hub.ops.tracing is not None
    hub.ops.tracing.provider.add_span_processor(SimpleSpanProcessor(spans))
    holder: list[Observed] = []
    hub.engine.subscribe(_flow(holder))
    await hub.engine.start()
    tokens = {
        name: await hub.engine.writer.submit(lambda c, n=name, s=scopes: create_token(c, n, s))
        for name, scopes in TOKENS.items()
    }
    wire = RecordingTransport()
    odoo = _odoo_client(odoo_sandbox, hub, wire)
    server = _Server(uvicorn.Config(create_app(hub), host="127.0.0.1", port=0, log_config=None))
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return bool(server.started)

    await until(started, what="the API server")
    port = server.servers[0].sockets[0].getsockname()[1]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        holder.append(Observed(hub, client, tokens, spans, odoo, wire))
        yield holder[0]
    holder[0].release.set()
    server.should_exit = True
    await task
    await hub.engine.stop()
    await odoo.aclose()
    hub.ops.shutdown()
