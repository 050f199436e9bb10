"""``GET /v1/events`` as Stripe documents it, read by the Stripe connector's ``list_events``:
Stripe's list shape (``object: list``, ``url``, ``has_more``, ``data`` newest first), the window
(``created[gte]``), the types (``types[]``), pages walked with ``starting_after``, and Stripe's
errors (a wrong key, a wrong parameter) and its absence, each as the connector's own error."""

from __future__ import annotations

import socket
import time

import pytest

from crossdock.connectors.stripe.api import StripeApi, StripeRefused
from crossdock.errors import Unavailable
from tests.contract.stripe.conftest import StripeTarget, unique
from tests.support.waiting import until, until_sync


def _pay(target: StripeTarget, amount: int) -> str:
    answer = target.post(
        "/v1/payment_intents",
        {
            "amount": str(amount),
            "currency": "eur",
            "confirm": "true",
            "payment_method": "pm_card_visa",
            "payment_method_types[]": "card",
            "metadata[invoice]": f"INV/L/{unique()}",
        },
        key=f"list-{unique()}",
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


async def _listed(api: StripeApi, since: int, types: list[str], limit: int) -> list[list[dict]]:
    return [page async for page in api.list_events(created_gte=since, types=types, limit=limit)]


async def test_pages_of_the_window_and_types(target: StripeTarget) -> None:
    since = int(time.time()) - 300  # a margin for Stripe's clock against ours
    intents = {_pay(target, 1000 + i) for i in range(3)}
    api = StripeApi(target.url, target.api_key)
    types = ["payment_intent.succeeded", "charge.refunded"]
    pages: list[list[dict]] = []

    async def all_listed() -> bool:
        pages[:] = await _listed(api, since, types, 2)
        seen = {e["data"]["object"]["id"] for page in pages for e in page}
        return intents <= seen

    try:
        await until(all_listed, timeout=60, what="the three payments listed")
    finally:
        await api.aclose()
    events = [e for page in pages for e in page]
    assert all(1 <= len(page) <= 2 for page in pages) and len(pages) >= 2
    assert len({e["id"] for e in events}) == len(events)  # no event twice across pages
    assert all(e["type"] in types and e["created"] >= since for e in events)
    stamps = [e["created"] for e in events]
    assert stamps == sorted(stamps, reverse=True)  # newest first
    ours = [e for e in events if e["data"]["object"]["id"] in intents]
    assert {e["data"]["object"]["amount_received"] for e in ours} == {1000, 1001, 1002}


def test_the_list_answers_in_stripes_shape(target: StripeTarget) -> None:
    _pay(target, 500)
    answer = target.get("/v1/events", {"limit": "1", "types[]": "payment_intent.succeeded"})
    assert answer.status_code == 200
    body = answer.json()
    assert (body["object"], body["url"]) == ("list", "/v1/events")
    assert isinstance(body["has_more"], bool) and len(body["data"]) == 1
    assert body["data"][0]["object"] == "event"
    assert body["data"][0]["type"] == "payment_intent.succeeded"

    too_many = target.get("/v1/events", {"limit": "101"})
    assert too_many.status_code == 400
    assert too_many.json()["error"]["type"] == "invalid_request_error"
    both = target.get("/v1/events", {"type": "charge.refunded", "types[]": "charge.refunded"})
    assert both.status_code == 400


async def test_a_wrong_key_is_refused_not_retried(target: StripeTarget) -> None:
    api = StripeApi(target.url, "sk_test_not_a_key")
    try:
        with pytest.raises(StripeRefused) as refused:
            await _listed(api, 0, [], 10)
    finally:
        await api.aclose()
    assert refused.value.status == 401
    assert refused.value.kind == "invalid_request_error"
    assert "sk_test_not_a_key" not in str(refused.value)


async def test_no_answer_is_unavailable() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    api = StripeApi(f"http://127.0.0.1:{port}", "sk_test_x", system="stripe")
    try:
        with pytest.raises(Unavailable) as down:
            await _listed(api, 0, [], 10)
    finally:
        await api.aclose()
    assert down.value.system == "stripe"


def test_a_disabled_endpoint_and_failed_deliveries(target: StripeTarget) -> None:
    if target.server is None or target.receiver is None:
        pytest.skip("our endpoint is disabled and made to fail: sandbox only")
    webhooks = target.server.webhooks
    [endpoint] = webhooks.endpoints
    disabled = target.post(f"/v1/webhook_endpoints/{endpoint}", {"disabled": "true"})
    assert disabled.status_code == 200 and disabled.json()["status"] == "disabled"
    try:
        quiet = _pay(target, 777)
    finally:
        enabled = target.post(f"/v1/webhook_endpoints/{endpoint}", {"disabled": "false"})
    assert enabled.json()["status"] == "enabled"
    [sent_nothing] = [
        e
        for e in target.server.account.events
        if e["type"] == "payment_intent.succeeded" and e["data"]["object"]["id"] == quiet
    ]
    assert sent_nothing["pending_webhooks"] == 0  # no endpoint wanted it
    assert target.receiver.of(sent_nothing["id"]) == []

    # an endpoint that never answers 2xx: the event stays pending, delivery_success=false
    pid = target.post("/v1/payment_intents", {"amount": "888", "currency": "eur"}).json()["id"]
    target.receiver.statuses[f"payment_intent.succeeded:{pid}"] = [500] * 5
    target.post(f"/v1/payment_intents/{pid}/confirm", {"payment_method": "pm_card_visa"})
    until_sync(webhooks.idle, timeout=30, what="the sender to give up")
    query = {"types[]": "payment_intent.succeeded", "limit": "100"}
    pending = target.get("/v1/events", {**query, "delivery_success": "false"}).json()["data"]
    [failed] = [e for e in pending if e["data"]["object"]["id"] == pid]
    assert failed["pending_webhooks"] == 1
    done = target.get("/v1/events", {**query, "delivery_success": "true"}).json()["data"]
    assert pid not in {e["data"]["object"]["id"] for e in done}
    assert quiet in {e["data"]["object"]["id"] for e in done}
