"""The payments API on a running hub: a gateway's signed webhook stored once (forged → 401,
nothing stored; the same event again → recognised), bank statements streamed in."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from crossdock.engine import events_table
from crossdock.webhooks.tables import webhook_inbound
from tests.api.conftest import Api, serve_api
from tests.flows.payments.conftest import DATA
from tests.flows.payments.test_inbound import SECRET, stripe_event, stripe_headers

URL = "/v1/payments/gateways/stripe"


@pytest.fixture
async def api(db_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Api]:
    monkeypatch.setenv("STRIPE_TEST_SECRET", SECRET)
    config = {
        "database": {"url": db_url},
        "api": {"port": 0},
        "payments": {"gateways": {"stripe": {"secrets": ["${STRIPE_TEST_SECRET}"]}}},
    }
    async with serve_api(config) as running:
        yield running


async def stored(api: Api) -> tuple[int, int]:
    def count(conn: object) -> tuple[int, int]:
        inbound = conn.execute(select(func.count()).select_from(webhook_inbound))  # type: ignore[attr-defined]
        reported = conn.execute(  # type: ignore[attr-defined]
            select(func.count()).where(events_table.c.type == "payment.reported")
        )
        return int(inbound.scalar_one()), int(reported.scalar_one())

    return await api.hub.engine.db.read(count)


async def test_a_stripe_webhook_is_stored_once_and_a_forged_one_not_at_all(api: Api) -> None:
    body = stripe_event("payment_intent.succeeded")
    forged = await api.client.post(URL, content=body, headers=stripe_headers(body, "whsec_x"))
    assert forged.status_code == 401
    assert forged.headers["content-type"].startswith("application/problem+json")
    stale = stripe_headers(body, SECRET, at=int(time.time()) - 3600)
    assert (await api.client.post(URL, content=body, headers=stale)).status_code == 401
    assert await stored(api) == (0, 0)

    first = await api.client.post(URL, content=body, headers=stripe_headers(body, SECRET))
    assert first.status_code == 200, first.text
    assert first.json()["duplicate"] is False
    again = await api.client.post(URL, content=body, headers=stripe_headers(body, SECRET))
    assert again.json() == {**first.json(), "duplicate": True}
    assert await stored(api) == (1, 1)

    unknown = await api.client.post(
        "/v1/payments/gateways/nope", content=body, headers=stripe_headers(body, SECRET)
    )
    assert unknown.status_code == 404
    broken = b'{"id": "evt_1", "type": "payment_intent.succeeded", "data": {}}'
    refused = await api.client.post(URL, content=broken, headers=stripe_headers(broken, SECRET))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["pointer"] == "/data/object"


async def test_statements_are_imported_once(api: Api) -> None:
    body = (DATA / "camt053_statement.xml").read_bytes()
    headers = {**api.auth("admin"), "Content-Type": "application/xml"}
    first = await api.client.post("/v1/payments/statements", content=body, headers=headers)
    assert first.status_code == 202, first.text
    assert {k: first.json()[k] for k in ("entries", "credits", "debits", "skipped", "new")} == {
        "entries": 4, "credits": 2, "debits": 1, "skipped": 1, "new": 3,
    }  # fmt: skip
    again = await api.client.post("/v1/payments/statements", content=body, headers=headers)
    assert (again.json()["new"], again.json()["duplicates"]) == (0, 3)

    bad = body.replace(b">45.50<", b">4x5<")
    refused = await api.client.post("/v1/payments/statements", content=bad, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["pointer"] == "/Stmt/Ntry[2]/Amt"
    odd = await api.client.post("/v1/payments/statements", content=b"hello", headers=headers)
    assert odd.status_code == 422
    anonymous = await api.client.post(
        "/v1/payments/statements", content=body, headers={"Content-Type": "application/xml"}
    )
    assert anonymous.status_code == 401

    listed = await api.client.get("/v1/payments?state=nonsense", headers=api.auth("admin"))
    assert listed.status_code == 422
