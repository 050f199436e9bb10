"""Fixtures of the Stripe contract suite: Stripe's events, as the gateway sends them, verified
and mapped by the Stripe connector (:mod:`crossdock.connectors.stripe.inbound`).

Every test runs against the Stripe sandbox (a real HTTP server on 127.0.0.1 whose webhooks go to
a receiver started here) and, when ``CROSSDOCK_STRIPE_API_KEY`` (a ``sk_test_…`` key) is set,
against Stripe's test mode too: there the events are read back with ``GET /v1/events`` (Stripe
cannot reach 127.0.0.1), so the signature checks run on the sandbox only."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

import crossdock.sandbox.stripe.connector  # noqa: F401 - registers the sandboxed kind
from crossdock.sandbox.stripe import StripeSandboxServer, StripeSandboxSettings
from tests.contract.base import Contract, Env
from tests.support.waiting import until_sync

SECRET = "whsec_contract_secret"


@dataclass
class Delivery:
    body: bytes
    signature: str
    user_agent: str

    @property
    def event(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.body)
        return loaded


@dataclass
class Receiver:
    """The merchant's webhook endpoint: records every delivery, answers as ``statuses`` say
    (by ``<event type>:<object id>``: the statuses of its successive deliveries; then 200)."""

    deliveries: list[Delivery] = field(default_factory=list)
    statuses: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def answer(self, delivery: Delivery) -> int:
        with self.lock:
            self.deliveries.append(delivery)
            event = delivery.event
            script = self.statuses.get(f"{event['type']}:{event['data']['object']['id']}")
            return script.pop(0) if script else 200

    def of(self, event_id: str) -> list[Delivery]:
        with self.lock:
            return [d for d in self.deliveries if d.event["id"] == event_id]


@contextmanager
def serve_receiver() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = receiver.answer(
                Delivery(
                    body,
                    self.headers.get("Stripe-Signature", ""),
                    self.headers.get("User-Agent", ""),
                )
            )
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/stripe"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class StripeTarget:
    kind: str
    url: str
    api_key: str
    receiver: Receiver | None = None
    server: StripeSandboxServer | None = None

    def post(self, path: str, data: dict[str, str], key: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.api_key}"}
        if key:
            headers["Idempotency-Key"] = key
        return httpx.post(self.url + path, data=data, headers=headers, timeout=30)

    def get(self, path: str, params: dict[str, str] | None = None) -> httpx.Response:
        return httpx.get(
            self.url + path,
            params=params,
            headers={"Authorization": f"Bearer {self.api_key}"},
            timeout=30,
        )

    def event(self, type_: str, about: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The event of ``type_`` whose object ``about`` accepts, once Stripe has it (the
        delivered one on the sandbox, the listed one on Stripe)."""
        found: list[dict[str, Any]] = []

        def seen() -> bool:
            if self.receiver is not None:
                events = [d.event for d in list(self.receiver.deliveries)]
            else:
                events = self.get("/v1/events", {"type": type_, "limit": "20"}).json()["data"]
            found[:] = [e for e in events if e["type"] == type_ and about(e["data"]["object"])]
            return bool(found)

        until_sync(seen, timeout=60, what=f"a {type_} event")
        return found[0]

    def delivery(self, event_id: str) -> Delivery:
        if self.receiver is None:
            pytest.skip("Stripe's own deliveries cannot reach 127.0.0.1: sandbox only")
        until_sync(
            lambda: bool(self.receiver and self.receiver.of(event_id)),
            timeout=30,
            what="a delivery",
        )
        return self.receiver.of(event_id)[0]


STRIPE_ENV = Env(required=("CROSSDOCK_STRIPE_API_KEY",))


class StripeContract(Contract[StripeTarget]):
    kind = "stripe"
    ports: ClassVar[Mapping[str, type]] = {}
    env = STRIPE_ENV

    @contextmanager
    def sandbox(self, tmp: Path) -> Iterator[StripeTarget]:
        with serve_receiver() as receiver:
            settings = StripeSandboxSettings(
                webhook_url=receiver.url, webhook_secret=SECRET, attempts=3, retry_base_s=0.05
            )
            with StripeSandboxServer(settings) as server:
                yield StripeTarget("sandbox", server.url, settings.api_key, receiver, server)

    def real(self, values: Mapping[str, str]) -> StripeTarget:
        key = values["CROSSDOCK_STRIPE_API_KEY"]
        if not key.startswith("sk_test_"):
            pytest.skip("CROSSDOCK_STRIPE_API_KEY must be a test-mode key (sk_test_…)")
        return StripeTarget("real", "https://api.stripe.com", key)


target = StripeContract().fixture()


def unique() -> str:
    return f"{time.time_ns()}"
