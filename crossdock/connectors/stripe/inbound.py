"""Stripe's webhooks: the ``Stripe-Signature`` scheme and the events a payment flow needs.

Signature (Stripe's published scheme): the header is ``t=<unix time>,v1=<hex>[,v1=<hex>…]``;
each ``v1`` is HMAC-SHA256, keyed with the endpoint's signing secret (the ``whsec_…`` string as
it is), of ``"<t>.<raw body>"``. Any ``v1`` matching any of our secrets verifies (a secret being
rolled has both); ``t`` must be within the tolerance of our clock (replay protection).

Events mapped (others are acknowledged and ignored):

* ``payment_intent.succeeded`` → ``captured`` (``amount_received``)
* ``payment_intent.payment_failed`` → ``failed`` (``last_payment_error``)
* ``charge.refunded`` → ``refunded`` (the amount refunded by this event: ``amount_refunded`` less
  ``previous_attributes.amount_refunded``)
* ``charge.dispute.created`` → ``chargeback``

Amounts are in the currency's minor unit (Stripe's zero-decimal and three-decimal currencies
are respected). The invoice is named by ``metadata.invoice`` (or ``invoice_number``,
``reference``), a credit note by ``metadata.credit_note`` (of the charge, or of the newest refund
the charge lists), the customer by
``metadata.customer_ref`` (or the Stripe customer id).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from crossdock.connectors.gateway.report import (
    GatewayError,
    PaymentReport,
    Unverified,
    minor_to_decimal,
)

__all__ = ["EVENT_KINDS", "map_event", "minor_to_decimal", "sign", "verify"]

SIGNATURE_HEADER = "Stripe-Signature"
EVENT_KINDS = {
    "payment_intent.succeeded": "captured",
    "payment_intent.payment_failed": "failed",
    "charge.refunded": "refunded",
    "charge.dispute.created": "chargeback",
}
REFERENCE_KEYS = ("invoice", "invoice_number", "reference")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex ``v1`` signature of ``body`` sent at ``timestamp``."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify(
    header: str | None, body: bytes, secrets: Sequence[str], tolerance_s: float, now: float
) -> None:
    """Raise :class:`Unverified` unless the header carries a fresh, matching ``v1``."""
    if not header:
        raise Unverified(f"the {SIGNATURE_HEADER} header is required")
    stamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                stamp = int(value)
            except ValueError:
                raise Unverified("t= is not epoch seconds") from None
        elif key == "v1":
            candidates.append(value)
    if stamp is None or not candidates:
        raise Unverified("the header needs t= and at least one v1=")
    if abs(now - stamp) > tolerance_s:
        raise Unverified(
            f"the timestamp is {now - stamp:+.0f} s from ours (tolerance {tolerance_s:g} s)"
        )
    for secret in secrets:
        expected = sign(secret, stamp, body)
        if any(hmac.compare_digest(expected, given) for given in candidates):
            return
    raise Unverified("no v1 signature matches")


def _object(event: Mapping[str, Any]) -> dict[str, Any]:
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise GatewayError("/data/object", "object", "required: the event's object")
    return obj


def _text(obj: Mapping[str, Any], key: str, pointer: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise GatewayError(f"{pointer}/{key}", "string", "required")
    return value


def _metadata(obj: Mapping[str, Any]) -> dict[str, str]:
    meta = obj.get("metadata")
    return {k: v for k, v in meta.items() if isinstance(v, str)} if isinstance(meta, dict) else {}


def _refund_note(charge: Mapping[str, Any]) -> str | None:
    """The credit note named by the newest refund's metadata (the charge lists its refunds,
    newest first, in the API versions that include ``refunds``)."""
    refunds = charge.get("refunds")
    listed = refunds.get("data") if isinstance(refunds, dict) else None
    if not isinstance(listed, list) or not listed or not isinstance(listed[0], dict):
        return None
    note = _metadata(listed[0]).get("credit_note")
    return note or None


def map_event(gateway: str, event: Mapping[str, Any]) -> PaymentReport | None:
    """The payment report of a verified Stripe event; None for an event type not mapped."""
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise GatewayError("/id", "string", "required: the event id")
    kind = EVENT_KINDS.get(str(event.get("type")))
    if kind is None:
        return None
    obj = _object(event)
    pointer = "/data/object"
    currency = _text(obj, "currency", pointer).upper()
    meta = _metadata(obj)
    created = event.get("created")
    when = (
        datetime.fromtimestamp(created, UTC)
        if isinstance(created, int) and not isinstance(created, bool)
        else datetime.now(UTC)
    )
    customer = meta.get("customer_ref") or (
        obj["customer"] if isinstance(obj.get("customer"), str) else None
    )
    reference = next((meta[k] for k in REFERENCE_KEYS if meta.get(k)), None)
    detail = None
    if kind == "captured":
        amount = minor_to_decimal(
            obj.get("amount_received"), currency, pointer + "/amount_received"
        )
        payment_id = _text(obj, "id", pointer)
    elif kind == "failed":
        amount = minor_to_decimal(obj.get("amount"), currency, pointer + "/amount")
        payment_id = event_id
        error = obj.get("last_payment_error")
        if isinstance(error, dict):
            detail = str(error.get("message") or error.get("code") or error.get("type") or "")
    elif kind == "refunded":
        data = event.get("data")
        previous = data.get("previous_attributes") if isinstance(data, dict) else None
        before = previous.get("amount_refunded", 0) if isinstance(previous, dict) else 0
        total = obj.get("amount_refunded")
        if not isinstance(before, int) or not isinstance(total, int) or total < before:
            raise GatewayError(
                pointer + "/amount_refunded", "integer", "cumulative, in minor units"
            )
        amount = minor_to_decimal(total - before, currency, pointer + "/amount_refunded")
        payment_id = event_id
        reference = meta.get("credit_note") or _refund_note(obj) or reference
    else:
        amount = minor_to_decimal(obj.get("amount"), currency, pointer + "/amount")
        payment_id = _text(obj, "id", pointer)
        detail = str(obj.get("reason") or "")
    origin = obj.get("payment_intent") if kind in ("refunded", "chargeback") else None
    return PaymentReport(
        payment_id=f"{gateway}:{payment_id}",
        source=gateway,
        kind=kind,
        amount=amount,
        currency=currency,
        reference=reference,
        customer=customer,
        occurred_at=when,
        provider_ref=obj.get("id") if isinstance(obj.get("id"), str) else None,
        original=f"{gateway}:{origin}" if isinstance(origin, str) else None,
        detail=detail or None,
    )
