"""Inbound webhooks: verified per source (Standard Webhooks, HMAC hex/base64), replay-protected
by timestamp, deduplicated by the sender's id, raw body kept; forgeries store nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from standardwebhooks import Webhook

from crossdock.engine.tables import events
from crossdock.webhooks import inbound
from crossdock.webhooks.tables import webhook_inbound
from tests.webhooks.conftest import INBOUND_SECRET, SHOP_SECRET, WebhookHub

BODY = json.dumps(
    {"type": "order.cancel_requested", "subject": "order:IN-1", "data": {"order_id": "IN-1"}}
).encode()


def standard_headers(body: bytes, msg_id: str, at: float | None = None) -> dict[str, str]:
    moment = datetime.fromtimestamp(at if at is not None else time.time(), UTC)
    signature = Webhook(INBOUND_SECRET).sign(msg_id, moment, body.decode())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }


async def counts(hooks: WebhookHub) -> tuple[int, int]:
    def read(conn: Any) -> tuple[int, int]:
        stored = conn.execute(select(func.count()).select_from(webhook_inbound)).scalar_one()
        appended = conn.execute(
            select(func.count()).select_from(events).where(events.c.source.like("webhook:%"))
        ).scalar_one()
        return int(stored), int(appended)

    result: tuple[int, int] = await hooks.hub.engine.db.read(read)
    return result


async def test_standard_webhook_is_stored_once_with_its_raw_body(hooks: WebhookHub) -> None:
    headers = standard_headers(BODY, "msg_1")
    first = await hooks.client.post("/v1/webhooks/in/partner", content=BODY, headers=headers)
    assert first.status_code == 200, first.text
    again = await hooks.client.post("/v1/webhooks/in/partner", content=BODY, headers=headers)
    assert again.json() == {"event_id": first.json()["event_id"], "duplicate": True}
    assert await counts(hooks) == (1, 1)
    [event] = await hooks.hub.engine.events_after(0, 10, types=["order.cancel_requested"])
    assert event.source == "webhook:partner" and event.idempotency_key == "msg_1"
    assert event.subject == "order:IN-1" and event.data == {"order_id": "IN-1"}
    raw = await hooks.hub.engine.db.read(
        lambda c: c.execute(select(webhook_inbound.c.body)).scalar_one()
    )
    assert raw == BODY.decode()


async def test_forged_and_replayed_webhooks_are_refused(lite: WebhookHub) -> None:
    forged = standard_headers(BODY, "msg_f")
    forged["webhook-signature"] = "v1," + base64.b64encode(b"x" * 32).decode()
    tampered = standard_headers(BODY, "msg_t")
    old = standard_headers(BODY, "msg_old", at=time.time() - 3600)
    missing = {"content-type": "application/json"}
    for headers, body in ((forged, BODY), (tampered, BODY + b" "), (old, BODY), (missing, BODY)):
        answer = await lite.client.post("/v1/webhooks/in/partner", content=body, headers=headers)
        assert answer.status_code == 401, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
    assert "tolerance" in answer.text or "required" in answer.text
    assert await counts(lite) == (0, 0)


async def test_shopify_style_hmac_base64_and_hex_with_timestamp(lite: WebhookHub) -> None:
    digest = hmac.new(SHOP_SECRET.encode(), BODY, hashlib.sha256).digest()
    shop = {
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "X-Shopify-Webhook-Id": "s1",
    }
    answer = await lite.client.post("/v1/webhooks/in/shop", content=BODY, headers=shop)
    assert answer.status_code == 200, answer.text
    bad = {**shop, "X-Shopify-Hmac-Sha256": base64.b64encode(b"y" * 32).decode()}
    assert (
        await lite.client.post("/v1/webhooks/in/shop", content=BODY, headers=bad)
    ).status_code == 401
    hexed = {"X-Signature": digest.hex(), "X-Delivery": "h1", "X-Sent-At": str(int(time.time()))}
    answer = await lite.client.post("/v1/webhooks/in/hexshop", content=BODY, headers=hexed)
    assert answer.status_code == 200, answer.text
    stale = {**hexed, "X-Delivery": "h2", "X-Sent-At": str(int(time.time()) - 120)}
    assert (
        await lite.client.post("/v1/webhooks/in/hexshop", content=BODY, headers=stale)
    ).status_code == 401
    assert await counts(lite) == (2, 2)


async def test_verified_but_unusable_payloads_are_422(lite: WebhookHub) -> None:
    cases = {
        "/type": {"type": "invoice.posted", "subject": "order:1", "data": {"order_id": "1"}},
        "/data/order_id": {"type": "order.cancel_requested", "subject": "order:1", "data": {}},
        "/subject": {"type": "order.cancel_requested", "data": {"order_id": "1"}},
    }
    for n, (pointer, payload) in enumerate(cases.items()):
        body = json.dumps(payload).encode()
        answer = await lite.client.post(
            "/v1/webhooks/in/partner", content=body, headers=standard_headers(body, f"m{n}")
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["pointer"].startswith(pointer)
    unknown = await lite.client.post("/v1/webhooks/in/nobody", content=BODY)
    assert unknown.status_code == 404
    assert await counts(lite) == (0, 0)


async def test_signed_json_nested_too_deep_is_422_and_never_parsed(lite: WebhookHub) -> None:
    deep = b'{"type": "order.cancel_requested", "subject": "order:1", "data": {"x": '
    body = deep + b"[" * 100_000 + b"]" * 100_000 + b"}}"
    answer = await lite.client.post(
        "/v1/webhooks/in/partner", content=body, headers=standard_headers(body, "m-deep")
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["limit"] == "api.limits.json_depth" and answer.json()["max"] == 64
    assert await counts(lite) == (0, 0)


async def test_the_generic_mapping_refuses_json_its_parser_cannot_nest(lite: WebhookHub) -> None:
    source = lite.hub.config.webhooks.sources["partner"]
    body = b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(inbound.InboundInvalid) as refused:
        inbound.map_envelope("partner", source, body)
    assert refused.value.rule == "max_depth"
