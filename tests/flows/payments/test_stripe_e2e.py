"""A card payment end to end: the Stripe sandbox captures a payment for an invoice and sends
its signed events to the hub's gateway endpoint; the hub verifies and stores them, the payments
flow registers the payment in Odoo (the sandbox, and a real Odoo when ``CROSSDOCK_ODOO_*`` is
set), the invoice is paid, and ``payment.received`` and ``invoice.paid`` go out through the
outbound webhooks to a subscriber. The same event sent again lands once; a declined card is
``payment.failed``; a dispute opens a chargeback exception naming the invoice."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select

import crossdock.sandbox.stripe.connector  # noqa: F401 - registers the sandboxed kind
from crossdock.api.auth import create_token
from crossdock.app import create_app
from crossdock.commands.serve import _Server
from crossdock.config import validate_config
from crossdock.connectors.odoo import OdooClient, OdooOperations
from crossdock.connectors.registry import Connected, connect
from crossdock.engine import events_table
from crossdock.hub import Hub, build_hub, migrate
from crossdock.sandbox.odoo.server import free_port
from crossdock.sandbox.stripe import StripeSandboxServer
from tests.contract.odoo import conftest as odoo_contract
from tests.contract.odoo.conftest import Target
from tests.flows.payments.test_flow_sandbox import invoices
from tests.support.waiting import until
from tests.webhooks.receiver import Receiver

target = odoo_contract.target  # the Odoo of the contract suite: the sandbox, and a real one if set

SECRET = "whsec_e2e_stripe_secret"


@dataclass
class Running:
    hub: Hub
    url: str
    stripe: StripeSandboxServer
    receiver: Receiver
    ops: OdooOperations

    def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        key = self.stripe.settings.api_key
        return httpx.post(
            self.stripe.url + path, data=data, headers={"Authorization": f"Bearer {key}"}
        )

    async def count(self, type_: str) -> int:
        query = select(func.count()).where(events_table.c.type == type_)
        return int(await self.hub.engine.db.read(lambda c: c.execute(query).scalar_one()))


@pytest.fixture
async def running(
    target: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Running]:
    monkeypatch.setenv("E2E_STRIPE_SECRET", SECRET)
    monkeypatch.setenv("E2E_ODOO_SECRET", target.password or target.api_key or "")
    secret_name = "password" if target.password else "api_key"
    port = free_port()
    cfg = validate_config(
        {
            "database": {"url": f"sqlite:///{tmp_path / 'hub.db'}"},
            "systems": {
                "odoo": {
                    "kind": "odoo",
                    "url": target.url,
                    "username": target.login,
                    "credentials": {secret_name: "${E2E_ODOO_SECRET}"},
                    "options": {"database": target.database, "retry_attempts": 2},
                },
                "stripe": {
                    "kind": "stripe",
                    "url": "http://127.0.0.1:0",
                    "sandbox": True,
                    "options": {
                        "gateway": "stripe",
                        "sandbox_webhooks_to": f"http://127.0.0.1:{port}/v1/payments/gateways/stripe",
                        "sandbox_retry_base_s": 0.05,
                    },
                },
            },
            "payments": {"gateways": {"stripe": {"secrets": ["${E2E_STRIPE_SECRET}"]}}},
            "engine": {"partitions": 8, "poll_interval_ms": 20},
            "webhooks": {
                "retry_schedule_s": [0, 0.05],
                "jitter": 0,
                "poll_interval_ms": 20,
                "allow_private": ["127.0.0.1/32"],
            },
            "api": {"port": port},
            "observability": {"log_level": "warning"},
        }
    )
    migrate(cfg)
    hub = build_hub(cfg, flows=True)
    await hub.start()
    admin = await hub.engine.writer.submit(lambda c: create_token(c, "admin", ["admin"]))
    server = _Server(
        uvicorn.Config(
            create_app(hub), host="127.0.0.1", port=port, log_config=None, access_log=False
        )
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    receiver = await Receiver().start()
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        made = await client.post(
            "/v1/subscriptions",
            json={"url": receiver.url, "event_types": ["payment.*", "invoice.paid"]},
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert made.status_code == 201, made.text
        receiver.secrets.append(made.json()["secret"])
    stripe: Connected = connect(cfg, "stripe")
    ops = OdooOperations(OdooClient(target.settings()))
    await ops.client.connect()
    try:
        yield Running(hub, url, stripe.port, receiver, ops)
    finally:
        await ops.aclose()
        await stripe.close()
        server.should_exit = True
        await serving
        await receiver.stop()
        await hub.stop()


def _received(receiver: Receiver, type_: str) -> list[dict[str, Any]]:
    return [r.event for r in receiver.verified() if r.event.get("type") == type_]


async def test_a_card_payment_pays_its_invoice(running: Running) -> None:
    uid = uuid.uuid4().hex[:8]
    customer = f"web:{uid}"
    [invoice] = await invoices(running.ops, customer, ["150"])
    intent = await asyncio.to_thread(
        running.post,
        "/v1/payment_intents",
        {
            "amount": "15000",
            "currency": "usd",
            "confirm": "true",
            "payment_method": "pm_card_visa",
            "metadata[invoice]": invoice,
            "metadata[customer_ref]": customer,
        },
    )
    assert intent.status_code == 200 and intent.json()["status"] == "succeeded", intent.text

    async def settled() -> bool:
        return bool(_received(running.receiver, "invoice.paid"))

    await until(settled, timeout=120, what="invoice.paid at the subscriber")
    [found] = await running.ops.find_invoices([invoice])
    assert found.paid and found.amount_residual == 0
    [paid] = _received(running.receiver, "invoice.paid")
    assert paid["data"]["invoice"] == invoice
    assert paid["data"]["payment_ids"] == [f"stripe:{intent.json()['id']}"]
    [received] = _received(running.receiver, "payment.received")
    assert (received["data"]["amount"], received["data"]["state"]) == ("150.00", "registered")

    # Stripe sends the same event again (a retry the hub answered before): one payment in Odoo
    event = next(
        e for e in running.stripe.account.events if e["type"] == "payment_intent.succeeded"
    )
    [endpoint] = running.stripe.webhooks.endpoints
    running.stripe.webhooks.resend(event, endpoint)
    await until(
        lambda: _async(
            len([a for a in running.stripe.webhooks.attempts_of(event["id"]) if a.ok]) == 2
        ),
        what="the resent event acknowledged",
    )
    assert await running.count("payment.reported") == 1
    payments = await running.ops.client.search_read(
        "account.payment", [["partner_id.ref", "=", customer]], ["amount"]
    )
    assert len(payments) == 1


async def test_a_declined_card_and_a_dispute(running: Running) -> None:
    uid = uuid.uuid4().hex[:8]
    customer = f"web:{uid}"
    [invoice] = await invoices(running.ops, customer, ["99"])
    declined = await asyncio.to_thread(
        running.post,
        "/v1/payment_intents",
        {
            "amount": "9900",
            "currency": "usd",
            "confirm": "true",
            "payment_method": "pm_card_chargeDeclined",
            "metadata[invoice]": invoice,
        },
    )
    assert declined.status_code == 402
    await until(
        lambda: _async(bool(_received(running.receiver, "payment.failed"))),
        timeout=120,
        what="payment.failed",
    )
    disputed = await asyncio.to_thread(
        running.post,
        f"/v1/payment_intents/{declined.json()['error']['payment_intent']['id']}/confirm",
        {"payment_method": "pm_card_createDispute"},
    )
    assert disputed.json()["status"] == "succeeded"

    async def chargeback_open() -> bool:
        async with httpx.AsyncClient(base_url=running.url) as client:
            token = await running.hub.engine.writer.submit(
                lambda c: create_token(c, f"r{uuid.uuid4().hex[:6]}", ["admin"])
            )
            listed = await client.get(
                "/v1/exceptions?type=chargeback", headers={"Authorization": f"Bearer {token}"}
            )
        return any(invoice in e["reason"] for e in listed.json().get("items", []))

    await until(chargeback_open, timeout=120, what="the chargeback exception")
    [found] = await running.ops.find_invoices([invoice])
    assert found.paid  # paid by the disputed charge; the dispute is finance's to handle


async def _async(value: bool) -> bool:
    return value
