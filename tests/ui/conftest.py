"""The dashboard in a real browser: one hub for the module — SQLite, the Odoo sandbox seeded like
the demo, webhooks to two receivers on 127.0.0.1 (one answering 200, one 500), a downstream
consumer group that rejects orders while "its system" is broken (dead letters on demand), the API
and the dashboard on uvicorn — running on its own event loop in a thread, while the tests drive
Debian's Chromium with Playwright's sync API. Screenshots go to `test-artifacts/ui/`.

Skipped (with the reason) when `/usr/bin/chromium` or the `playwright` package is missing:
`scripts/ensure-test-servers.sh` (run by `make test` as root) installs Chromium with apt.
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn

from crossdock.api.auth import create_token
from crossdock.app import create_app
from crossdock.commands.serve import _Server
from crossdock.config import validate_config
from crossdock.demo import SECOND_WAREHOUSE, SKUS, seed_erp
from crossdock.engine import Batch, Reject, Subscription
from crossdock.hub import Hub, build_hub, migrate
from tests.support.postgres import free_port
from tests.support.waiting import until_sync
from tests.webhooks.receiver import Receiver, Reply

T = TypeVar("T")
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKENS = {
    "shop": ["orders:write", "orders:read"],
    "ops": ["ops:read", "ops:write"],
    "viewer": ["ops:read"],
    "hooks": ["webhooks:admin"],
    "outsider": ["orders:read"],
    "buyer": ["ops:read", "ops:write", "purchasing:read", "purchasing:write"],
    "buyer2": ["ops:read", "ops:write", "purchasing:read", "purchasing:write"],
}


def order_body(ref: str, customer: str = "C-UI-1", quantity: str = "2") -> dict[str, Any]:
    return {
        "channel": "webshop",
        "external_ref": ref,
        "currency": "USD",
        "customer": {
            "external_ref": customer,
            "name": f"Customer {customer}",
            "email": f"{customer.lower()}@example.com",
            "address": {
                "street": "1 Main St",
                "city": "Springfield",
                "postal_code": "12345",
                "country": "US",
            },
        },
        "lines": [{"sku": SKUS[0], "quantity": quantity, "unit_price": "25.00"}],
    }


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


DOWNSTREAM = "ui.test.downstream"
BROKEN_PREFIX = "UI-DEAD"


@dataclass
class Downstream:
    """A consumer of `order.accepted` standing for a downstream system: while `broken`, it rejects
    orders whose reference starts with `BROKEN_PREFIX` (straight to the dead letters)."""

    broken: bool = False
    seen: list[str] = field(default_factory=list)

    async def handle(self, batch: Batch) -> None:
        for event in batch.events:
            ref = str(event.data.get("order", {}).get("external_ref", ""))
            if self.broken and ref.startswith(BROKEN_PREFIX):
                batch.fail(event, Reject("the downstream system refused the order"))
            else:
                self.seen.append(str(event.data.get("order_id")))

    def subscription(self) -> Subscription:
        return Subscription(DOWNSTREAM, ["order.accepted"], self.handle, max_attempts=1)


@dataclass
class LiveHub:
    """The hub, its HTTP server and the receivers, on an event loop of their own."""

    directory: Path
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    hub: Hub | None = None
    url: str = ""
    tokens: dict[str, str] = field(default_factory=dict)
    receivers: list[Receiver] = field(default_factory=list)
    odoo_url: str = ""
    downstream: Downstream = field(default_factory=Downstream)
    _server: _Server | None = None
    _serving: asyncio.Task[None] | None = None
    _thread: threading.Thread | None = None

    def call(self, work: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(work, self.loop)
        return future.result(timeout)

    def start(self) -> LiveHub:
        self.odoo_url = f"http://127.0.0.1:{free_port()}"
        cfg = validate_config(
            {
                "database": {"url": f"sqlite:///{self.directory / 'hub.db'}"},
                "systems": {
                    "odoo": {
                        "kind": "odoo",
                        "url": self.odoo_url,
                        "sandbox": True,
                        "username": "admin",
                        "options": {
                            "database": "crossdock",
                            "sandbox_latency_call_s": 0,
                            "sandbox_latency_record_s": 0,
                            "retry_attempts": 1,
                            "breaker_failures": 2,
                            "breaker_reset_s": 0.5,
                        },
                    }
                },
                "channels": {
                    "default": {
                        "warehouses": ["WH", SECOND_WAREHOUSE],
                        "fulfilment": ["preferred", "any_warehouse", "split", "backorder"],
                    }
                },
                "engine": {
                    "partitions": 8,
                    "poll_interval_ms": 20,
                    "max_attempts": 2,
                    "backoff_base_s": 0.05,
                    "backoff_max_s": 0.2,
                },
                "webhooks": {
                    "retry_schedule_s": [0, 0.05],
                    "jitter": 0,
                    "timeout_s": 2,
                    "poll_interval_ms": 20,
                    "allow_private": ["127.0.0.1/32"],
                },
                "api": {"port": 0},
                "procurement": {"second_approver_above": "100"},
                "observability": {"log_level": "warning"},
            }
        )
        migrate(cfg)
        self._thread = threading.Thread(target=self.loop.run_forever, name="ui-hub", daemon=True)
        self._thread.start()
        self.call(self._start(cfg))
        return self

    async def _start(self, cfg: Any) -> None:
        hub = self.hub = build_hub(cfg, flows=True)
        hub.engine.subscribe(self.downstream.subscription())
        await hub.start()
        assert hub.erp is not None
        self.odoo_url = hub.erp.sandbox.url  # where it listens (a taken port moves it)
        await seed_erp(hub.erp.operations)
        for name, scopes in TOKENS.items():
            self.tokens[name] = await hub.engine.writer.submit(
                lambda c, n=name, s=scopes: create_token(c, n, s)
            )
        self._server = _Server(
            uvicorn.Config(
                create_app(hub), host="127.0.0.1", port=0, log_config=None, access_log=False
            )
        )
        self._serving = asyncio.create_task(self._server.serve())
        while not self._server.started:
            await asyncio.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        healthy = await Receiver().start()
        failing = await Receiver(script=lambda _r, _n: Reply(status=500, body="broken")).start()
        self.receivers = [healthy, failing]

    def stop(self) -> None:
        self.call(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.loop.close()

    async def _stop(self) -> None:
        if self._server is not None and self._serving is not None:
            self._server.should_exit = True
            await self._serving
        if self.hub is not None:
            await self.hub.stop()
        for receiver in self.receivers:
            await receiver.stop()

    # -- helpers over HTTP, like any client ---------------------------------------------------

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def post_order(self, body: dict[str, Any]) -> str:
        with self.http() as client:
            answer = client.post("/v1/orders", json=body, headers=self.auth("shop"))
        assert answer.status_code == 202, answer.text
        order_id: str = answer.json()["id"]
        return order_id

    def order(self, order_id: str) -> dict[str, Any]:
        with self.http() as client:
            answer = client.get(f"/v1/orders/{order_id}", headers=self.auth("shop"))
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found

    def wait_state(self, order_id: str, *states: str, timeout: float = 30) -> dict[str, Any]:
        until_sync(
            lambda: self.order(order_id)["state"] in states,
            timeout,
            f"order {order_id} in {states}",
        )
        return self.order(order_id)

    def open_exception(self, order_id: str, type: str, timeout: float = 30) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            for item in self.order(order_id)["exceptions"]:
                if item["type"] == type and item["state"] == "open":
                    return dict(item)
            return None

        until_sync(lambda: found() is not None, timeout, f"{type} on {order_id}")
        result = found()
        assert result is not None
        return result

    def audit(self, subject: str) -> list[dict[str, Any]]:
        with self.http() as client:
            answer = client.get("/v1/audit", params={"subject": subject}, headers=self.auth("ops"))
        assert answer.status_code == 200, answer.text
        items: list[dict[str, Any]] = answer.json()["items"]
        return items

    def odoo_faults(self, **faults: Any) -> None:
        answer = httpx.post(f"{self.odoo_url}/sandbox/faults", json=faults, timeout=10)
        assert answer.status_code == 200, answer.text


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is missing: run `bash scripts/ensure-test-servers.sh` as root "
            "(apt-get install chromium) to run the dashboard's browser tests"
        )
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    return CHROMIUM


@pytest.fixture(scope="module")
def live(chromium_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    hub = LiveHub(tmp_path_factory.mktemp("ui-hub")).start()
    try:
        with hub.http() as client:  # webhooks: one healthy receiver, one failing
            healthy, failing = hub.receivers
            for receiver, types in ((healthy, ["order.*"]), (failing, ["order.released"])):
                answer = client.post(
                    "/v1/subscriptions",
                    json={"url": receiver.url, "event_types": types},
                    headers=hub.auth("hooks"),
                )
                assert answer.status_code == 201, answer.text
        yield hub
    finally:
        hub.stop()


@pytest.fixture(scope="module")
def browser(chromium_path: Path) -> Iterator[Any]:
    """Module-scoped on purpose: Playwright's sync API keeps an event loop running in this thread
    while it is open, which async tests of later modules could not start under."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Screen:
    """A browser page on the dashboard that records console errors and uncaught page errors,
    and writes screenshots as test artifacts."""

    page: Any
    base: str
    test: str
    errors: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)

    def go(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.test}-{name}.png"
        # written whole under a name of this process, then renamed: a run of the suite beside
        # this one writes the same artifact, and neither leaves the other a torn file
        partial = path.with_name(f"{path.name}.{os.getpid()}")
        partial.write_bytes(self.page.screenshot(full_page=True))
        partial.replace(path)
        return path

    def sign_in(self, token: str) -> None:
        self.go("/ui/sign-in")
        self.page.fill("#token", token)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{self.base}/ui/")

    def unexpected_errors(self) -> list[str]:
        return [e for e in self.errors if not any(a in e for a in self.allowed)]


@pytest.fixture
def screen(browser: Any, live: LiveHub, request: pytest.FixtureRequest) -> Iterator[Screen]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    shown = Screen(page, live.url, request.node.name)
    page.on(
        "console",
        lambda message: (
            shown.errors.append(f"console: {message.text}") if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: shown.errors.append(f"page error: {error}"))
    try:
        yield shown
        assert not shown.unexpected_errors(), shown.unexpected_errors()
    finally:
        context.close()
