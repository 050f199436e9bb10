"""Shopify's webhooks: ``POST /v1/channels/shopify/{system}/webhooks``.

Authenticated by Shopify's signature, not a token: ``X-Shopify-Hmac-Sha256`` is the base64
HMAC-SHA256 of the raw body with the shop's webhook secret, compared in constant time
(:mod:`crossdock.webhooks.inbound`); a forged or altered request is answered 401 and stores
nothing. A shop that is not configured (or whose ``X-Shopify-Shop-Domain`` is not the system's)
is 404. ``X-Shopify-Webhook-Id`` de-duplicates: a re-delivery answers the first one's event.
The order (or the refund, ``refunds/create``) is stored (event and raw body, one transaction)
and answered at once; the
``shopify_orders`` consumer works it later (:mod:`crossdock.flows.shopify.orders`), so the answer
comes well within Shopify's 5-second limit whatever the ERP is doing.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import Connection

from crossdock.api.problems import Problem
from crossdock.api.query import StrictQueryRoute
from crossdock.config.webhooks import WebhookSource
from crossdock.connectors.shopify.records import TOPICS
from crossdock.engine import Batched, Engine, NewEvent, Prepared, prepare
from crossdock.flows.shopify.orders import received_event
from crossdock.flows.shopify.refunds_in import received_refund_event
from crossdock.webhooks import inbound
from crossdock.webhooks.signing import SignatureError

router = APIRouter(prefix="/v1", route_class=StrictQueryRoute)

TOLERANCE_S = 2 * 86400.0
"""Shopify retries a failed delivery for up to 48 hours with its first trigger time."""


@dataclass(frozen=True, slots=True)
class _Received:
    source: str
    verified: inbound.Verified
    body: bytes
    prepared: Prepared


def _store_all(conn: Connection, items: list[_Received]) -> list[inbound.Stored]:
    # in order, set-based: a second delivery of one webhook id in the same batch is its duplicate
    return inbound.store_prepared_many(
        conn, [(i.source, i.verified, i.body, i.prepared) for i in items]
    )


STORE: Batched[_Received, inbound.Stored] = Batched("shopify.webhooks", _store_all, appends=True)
"""Concurrent webhooks are stored in one transaction (group commit), as orders are."""


class ShopifyAccepted(BaseModel):
    event_id: str | None
    duplicate: bool
    ignored: bool = False


_SOURCES: dict[int, tuple[Any, WebhookSource]] = {}
"""The verification settings of each configured shop, made once (the configuration does not
change while the process runs; the system is kept beside its id so the id stays its own)."""


def _source(system: Any) -> WebhookSource:
    known = _SOURCES.get(id(system))
    if known is not None and known[0] is system:
        return known[1]
    source = _make_source(system)
    _SOURCES[id(system)] = (system, source)
    return source


def _make_source(system: Any) -> WebhookSource:
    return WebhookSource(
        verification="hmac",
        secret=system.webhook_secret,
        signature_header="X-Shopify-Hmac-Sha256",
        encoding="base64",
        id_header="X-Shopify-Webhook-Id",
        timestamp_header="X-Shopify-Triggered-At",
        tolerance_s=TOLERANCE_S,
        event_types=["shopify.*"],
    )


def _invalid(pointer: str, rule: str, detail: str) -> Problem:
    return Problem(
        422,
        "Invalid request",
        f"{pointer}: {detail}",
        kind="validation",
        errors=[{"pointer": pointer, "rule": rule, "detail": detail}],
    )


@router.post(
    "/channels/shopify/{system}/webhooks",
    response_model=ShopifyAccepted,
    tags=["channels"],
    responses={
        401: {"description": "X-Shopify-Hmac-Sha256 does not verify; nothing stored"},
        404: {"description": "No Shopify shop of that name or domain"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "Shopify's webhook body (an order for the orders/* topics, a "
            "refund for refunds/create).",
            "content": {
                "application/json": {
                    "schema": {"type": "object"},
                    "example": {
                        "id": 450789469,
                        "name": "#1001",
                        "currency": "USD",
                        "updated_at": "2008-01-10T11:00:00-05:00",
                        "customer": {"id": 207119551, "email": "bob.norman@hostmail.com"},
                        "line_items": [
                            {
                                "id": 466157049,
                                "sku": "IPOD2008GREEN",
                                "quantity": 1,
                                "price": "199.00",
                            }
                        ],
                    },
                }
            },
        }
    },
)
async def receive_shopify_webhook(system: str, request: Request) -> ShopifyAccepted:
    """An order or refund webhook from a Shopify shop: verified, de-duplicated, stored, worked
    later."""
    hub = request.app.state.hub
    configured = hub.config.systems.get(system)
    if configured is None or configured.kind != "shopify" or configured.webhook_secret is None:
        raise Problem(404, "Not found", f"no Shopify shop {system!r}", kind="not-found")
    body = await request.body()
    try:
        verified = inbound.verify(_source(configured), request.headers, body, time.time())
    except SignatureError as exc:
        raise Problem(
            401, "Unauthorized", f"webhook not verified: {exc}", kind="signature"
        ) from None
    except inbound.InboundInvalid as exc:
        raise _invalid(exc.pointer, exc.rule, exc.detail) from None
    domain = (
        str(configured.options.get("shop_domain") or "")
        or (configured.url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0])
    )
    sent_domain = request.headers.get("X-Shopify-Shop-Domain", "")
    if sent_domain.lower() != domain.lower():
        raise Problem(
            404, "Not found", f"shop {sent_domain!r} is not the shop of {system}", kind="not-found"
        )
    topic = request.headers.get("X-Shopify-Topic", "")
    if topic not in TOPICS:
        return ShopifyAccepted(event_id=None, duplicate=False, ignored=True)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise _invalid("/", "json", "the body is not a JSON object") from None
    if not isinstance(payload, dict):
        raise _invalid("/", "object", "the body is not a JSON object")
    if topic == "refunds/create":
        event = received_refund_event(system, payload)
    else:
        event = received_event(system, topic, payload, via="webhook")
    engine: Engine = hub.engine
    keyed = NewEvent(
        event.type, event.source, event.subject, event.data, idempotency_key=verified.message_id
    )
    [prepared] = prepare([keyed], engine.partitions)  # encoded here: the writer only inserts
    received = _Received(f"shopify:{system}", verified, body, prepared)
    stored = await engine.writer.submit_batched(STORE, received)
    return ShopifyAccepted(event_id=stored.event_id, duplicate=stored.duplicate)
