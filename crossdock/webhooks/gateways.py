"""Payment gateways' webhooks: verified by the gateway's scheme, mapped to a payment report,
stored once with the inbound machinery (:func:`crossdock.webhooks.inbound.store`: the gateway's
event id is the idempotency key, the raw body is kept for audit in the same transaction).

``stripe`` gateways verify ``Stripe-Signature`` (:mod:`crossdock.connectors.stripe.inbound`);
``generic`` ones an HMAC of the body in one header, or Standard Webhooks, with the event id read
from the body. Every configured secret is tried (a secret being rolled). Nothing is stored when
verification fails; an event type the gateway's mapping ignores is acknowledged, not stored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from crossdock.config.payments import GatewayConfig
from crossdock.connectors.gateway import generic
from crossdock.connectors.gateway.report import GatewayError, PaymentReport, Unverified
from crossdock.connectors.stripe import inbound as stripe
from crossdock.engine import NewEvent
from crossdock.flows.payments.events import REPORTED, STREAM
from crossdock.webhooks import inbound
from crossdock.webhooks.inbound import Stored, Verified
from crossdock.webhooks.signing import (
    SignatureError,
    secret_key,
    verify_hmac,
    verify_standard,
)

__all__ = ["GatewayMessage", "inbox_name", "receive", "store", "stripe_message"]

MAX_ID = 150


def inbox_name(gateway: str) -> str:
    """The ``webhook_inbound.source`` of a gateway's messages."""
    return f"payments.{gateway}"


@dataclass(frozen=True, slots=True)
class GatewayMessage:
    verified: Verified
    report: PaymentReport | None
    """None: an event type the gateway's mapping does not use (acknowledged, not stored)."""

    def event(self, gateway: str) -> NewEvent:
        assert self.report is not None
        return NewEvent(REPORTED, f"gateway:{gateway}", STREAM, {"payment": self.report.data()})


def _payload(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise GatewayError("/", "json", "the body is not JSON") from None
    if not isinstance(payload, dict):
        raise GatewayError("/", "object", "the body must be a JSON object")
    return payload


def _check_time(sent: float, tolerance_s: float, now: float) -> None:
    if abs(now - sent) > tolerance_s:
        raise Unverified(
            f"the timestamp is {now - sent:+.0f} s from ours (tolerance {tolerance_s:g} s)"
        )


def _verify_generic(
    config: GatewayConfig, headers: Mapping[str, str], body: bytes, now: float
) -> dict[str, str]:
    lower = {k.lower(): v for k, v in headers.items()}
    secrets = [s.resolve() for s in config.secrets]
    if config.verification == "standard":
        msg_id = lower.get("webhook-id", "")
        stamp = lower.get("webhook-timestamp", "")
        signature = lower.get("webhook-signature", "")
        if not (msg_id and stamp and signature):
            raise Unverified("webhook-id, webhook-timestamp and webhook-signature are required")
        try:
            sent = int(stamp)
        except ValueError:
            raise Unverified("webhook-timestamp is not epoch seconds") from None
        _check_time(sent, config.tolerance_s, now)
        for secret in secrets:
            try:
                verify_standard(secret_key(secret), msg_id, sent, body, signature)
                return {"webhook-id": msg_id, "webhook-timestamp": stamp}
            except SignatureError:
                continue
        raise Unverified("no matching signature")
    signature = lower.get(config.signature_header.lower(), "")
    if not signature:
        raise Unverified(f"the {config.signature_header} header is required")
    kept: dict[str, str] = {}
    if config.timestamp_header:
        stamp = lower.get(config.timestamp_header.lower(), "")
        try:
            sent_at = float(stamp)
        except ValueError:
            raise Unverified(f"the {config.timestamp_header} header is not epoch seconds") from None
        _check_time(sent_at, config.tolerance_s, now)
        kept[config.timestamp_header] = stamp
    for secret in secrets:
        try:
            verify_hmac(secret.encode(), body, signature, config.encoding)
            return kept
        except SignatureError:
            continue
    raise Unverified("signature does not match")


def stripe_message(name: str, payload: Mapping[str, Any], kept: dict[str, str]) -> GatewayMessage:
    """A Stripe event, authenticated (its signature verified, or listed by Stripe's API with
    our key), as the message the gateway's inbox stores; ``kept``: the headers kept for audit."""
    event_id = payload.get("id")
    if not isinstance(event_id, str) or not 0 < len(event_id) <= MAX_ID:
        raise GatewayError("/id", "string", f"required: the event id (1 to {MAX_ID} chars)")
    return GatewayMessage(Verified(event_id, kept), stripe.map_event(name, payload))


def store(
    conn: Connection, gateway: str, message: GatewayMessage, body: bytes, partitions: int
) -> Stored:
    """Store a gateway's message once (the gateway's event id is the key in its inbox)."""
    return inbound.store(
        conn, inbox_name(gateway), message.verified, body, message.event(gateway), partitions
    )


def receive(
    name: str, config: GatewayConfig, headers: Mapping[str, str], body: bytes, now: float
) -> GatewayMessage:
    """Verify (``Unverified`` → 401) and map (``GatewayError`` → 422) one gateway request."""
    if config.kind == "stripe":
        header = next((v for k, v in headers.items() if k.lower() == "stripe-signature"), None)
        stripe.verify(header, body, [s.resolve() for s in config.secrets], config.tolerance_s, now)
        return stripe_message(name, _payload(body), {"Stripe-Signature": header or ""})
    kept = _verify_generic(config, headers, body, now)
    payload = _payload(body)
    event_id = generic.event_id(config, payload)
    if len(event_id) > MAX_ID:
        raise GatewayError("/" + config.id_path.replace(".", "/"), "max_length", "too long")
    return GatewayMessage(Verified(event_id, kept), generic.map_event(name, config, payload))
