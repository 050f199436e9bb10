"""Missed Stripe webhooks caught up end to end: a card payment is captured while the hub's
webhook receiver is down, so the Stripe sandbox gives its deliveries up; the catch-up asked for
over the API lists the event from Stripe, the payments flow registers it in Odoo (the sandbox,
and a real Odoo when ``CROSSDOCK_ODOO_*`` is set) and the invoice is paid, once; then Stripe's
late delivery of the same event arrives and is recognised as a duplicate."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select

from crossdock.api.auth import create_token
from crossdock.app import create_app
from crossdock.commands.serve import _Server
from crossdock.config import validate_config
from crossdock.connectors.odoo import OdooClient, OdooOperations
from crossdock.connectors.stripe.inbound import sign
from crossdock.engine import events_table
from crossdock.hub import Hub, build_hub, migrate
from crossdock.sandbox.odoo.server import free_port
from crossdock.sandbox.stripe import StripeSandboxServer, StripeSandboxSettings
from crossdock.webhooks.catchup_tables import stripe_catchup_runs
from tests.contract.odoo import conftest as odoo_contract
from tests.contract.odoo.conftest import Target
from tests.flows.payments.test_flow_sandbox import invoices
from tests.support.waiting import until, until_sync

target = odoo_contract.target  # the Odoo of the contract suite: the sandbox, and a real one if set

SECRET = "whsec_catchup_e2e"
KEY = "sk_test_catchup_e2e"


@dataclass
class HubDown:
    hub: Hub
    port: int
    stripe: StripeSandboxServer
    ops: OdooOperations

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def post_stripe(self, path: str, data: dict[str, str]) -> httpx.Response:
        return httpx.post(
            self.stripe.url + path, data=data, headers={"Authorization": f"Bearer {KEY}"}
        )

    async def count(self, type_: str) -> int:
        query = select(func.count()).where(events_table.c.type == type_)
        return int(await self.hub.engine.db.read(lambda c: c.execute(query).scalar_one()))


@pytest.fixture
async def stopped(
    target: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[HubDown]:
    """The hub running its flows, its API not served yet: Stripe's webhooks find no one."""
    monkeypatch.setenv("E2E_STRIPE_SECRET", SECRET)
    monkeypatch.setenv("E2E_STRIPE_KEY", KEY)
    monkeypatch.setenv("E2E_ODOO_SECRET", target.password or target.api_key or "")
    secret_name = "password" if target.password else "api_key"
    port = free_port()
    stripe = StripeSandboxServer(
        StripeSandboxSettings(
            api_key=KEY,
            webhook_url=f"http://127.0.0.1:{port}/v1/payments/gateways/stripe",
            webhook_secret=SECRET,
            attempts=2,
            retry_base_s=0.05,
        )
    ).start()
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
            },
            "payments": {
                "gateways": {
                    "stripe": {
                        "secrets": ["${E2E_STRIPE_SECRET}"],
                        "catch_up": {
                            "enabled": True,
                            "api_url": stripe.url,
                            "api_key": "${E2E_STRIPE_KEY}",
                            "cron": "0 0 1 1 *",  # this test asks for its runs
                        },
                    },
                    "other": {"secrets": ["${E2E_STRIPE_SECRET}"]},
                }
            },
            "engine": {"partitions": 8, "poll_interval_ms": 20},
            "api": {"port": port},
            "observability": {"log_level": "warning"},
        }
    )
    migrate(cfg)
    hub = build_hub(cfg, flows=True)
    await hub.start()
    ops = OdooOperations(OdooClient(target.settings()))
    await ops.client.connect()
    try:
        yield HubDown(hub, port, stripe, ops)
    finally:
        await ops.aclose()
        stripe.stop()
        await hub.stop()


async def test_a_payment_missed_by_the_webhooks_is_caught_up_once(stopped: HubDown) -> None:
    customer = f"web:{uuid.uuid4().hex[:8]}"
    [invoice] = await invoices(stopped.ops, customer, ["120"])
    intent = await asyncio.to_thread(
        stopped.post_stripe,
        "/v1/payment_intents",
        {
            "amount": "12000",
            "currency": "usd",
            "confirm": "true",
            "payment_method": "pm_card_visa",
            "metadata[invoice]": invoice,
            "metadata[customer_ref]": customer,
        },
    )
    assert intent.status_code == 200, intent.text
    [succeeded] = [
        e for e in stopped.stripe.account.events if e["type"] == "payment_intent.succeeded"
    ]
    webhooks = stopped.stripe.webhooks
    await asyncio.to_thread(until_sync, webhooks.idle, 30, "Stripe to give its deliveries up")
    attempts = webhooks.attempts_of(succeeded["id"])
    assert len(attempts) == 2 and not any(a.ok for a in attempts)  # nobody answered
    assert await stopped.count("payment.reported") == 0

    # the hub's API comes up; finance asks for a catch-up
    server = _Server(
        uvicorn.Config(
            create_app(stopped.hub),
            host="127.0.0.1",
            port=stopped.port,
            log_config=None,
            access_log=False,
        )
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        token = await stopped.hub.engine.writer.submit(
            lambda c: create_token(c, "finance", ["admin"])
        )
        auth = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=stopped.url, timeout=30) as client:
            unknown = await client.post("/v1/payments/gateways/nope/catch-up", headers=auth)
            assert unknown.status_code == 404
            off = await client.post("/v1/payments/gateways/other/catch-up", headers=auth)
            assert off.status_code == 409
            assert off.headers["content-type"].startswith("application/problem+json")
            assert "catch_up is not enabled" in off.json()["detail"]
            asked = await client.post("/v1/payments/gateways/stripe/catch-up", headers=auth)
            assert asked.status_code == 202, asked.text

            async def paid() -> bool:
                [found] = await stopped.ops.find_invoices([invoice])
                return found.paid

            await until(paid, timeout=120, what="the invoice paid by the caught-up event")
            runs = await stopped.hub.engine.db.read(
                lambda c: c.execute(select(stripe_catchup_runs)).all()
            )
            assert [(r.trigger, r.listed, r.new, r.cursor) for r in runs] == [
                ("token:finance", 1, 1, succeeded["created"])
            ]

            # Stripe's late delivery (the endpoint's resend) and a replay: both recognised
            [endpoint] = webhooks.endpoints
            webhooks.resend(succeeded, endpoint)
            await asyncio.to_thread(
                until_sync,
                lambda: any(a.ok for a in webhooks.attempts_of(succeeded["id"])),
                30,
                "the late delivery acknowledged",
            )
            body = json.dumps(succeeded).encode()
            now = int(time.time())
            late = await client.post(
                "/v1/payments/gateways/stripe",
                content=body,
                headers={
                    "Stripe-Signature": f"t={now},v1={sign(SECRET, now, body)}",
                    "Content-Type": "application/json",
                },
            )
            assert late.status_code == 200, late.text
            assert late.json()["duplicate"] is True
    finally:
        server.should_exit = True
        await serving
    assert await stopped.count("payment.reported") == 1
    payments = await stopped.ops.client.search_read(
        "account.payment", [["partner_id.ref", "=", customer]], ["amount"]
    )
    assert [p["amount"] for p in payments] == [120.0]
