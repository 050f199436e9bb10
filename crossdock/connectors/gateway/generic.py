"""The generic gateway mapping: a verified JSON webhook read by configured field paths.

A gateway that is not Stripe is described in configuration (``payments.gateways.<name>`` with
``kind: generic``): where its event id, type, amount, currency, reference and customer are
(dotted paths such as ``data.object.amount``), which of its event types mean ``captured``,
``failed``, ``refunded`` or ``chargeback``, and whether amounts are in minor units. Its
signature is verified by the project's inbound webhook verification (HMAC or Standard Webhooks).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from crossdock.config.payments import GatewayConfig
from crossdock.connectors.gateway.report import GatewayError, PaymentReport, minor_to_decimal

__all__ = ["event_id", "map_event"]


def _at(payload: Mapping[str, Any], path: str) -> Any:
    value: Any = payload
    for key in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _pointer(path: str) -> str:
    return "/" + path.replace(".", "/")


def _required_text(payload: Mapping[str, Any], path: str) -> str:
    value = _at(payload, path)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value or len(value) > 255:
        raise GatewayError(_pointer(path), "string", "required (1 to 255 characters)")
    return value


def _optional_text(payload: Mapping[str, Any], path: str | None) -> str | None:
    if path is None:
        return None
    value = _at(payload, path)
    return value if isinstance(value, str) and value else None


def event_id(gateway: GatewayConfig, payload: Mapping[str, Any]) -> str:
    return _required_text(payload, gateway.id_path)


def map_event(
    name: str, gateway: GatewayConfig, payload: Mapping[str, Any]
) -> PaymentReport | None:
    """The report of a verified event; None for an event type the gateway's ``types`` omit."""
    ident = event_id(gateway, payload)
    kind = gateway.types.get(str(_at(payload, gateway.type_path)))
    if kind is None:
        return None
    currency = _required_text(payload, gateway.currency_path).upper()
    if len(currency) != 3 or not currency.isalpha():
        raise GatewayError(_pointer(gateway.currency_path), "currency", "an ISO 4217 code")
    raw = _at(payload, gateway.amount_path)
    pointer = _pointer(gateway.amount_path)
    if gateway.minor_units:
        amount = minor_to_decimal(raw, currency, pointer)
    else:
        try:
            amount = Decimal(str(raw)) if isinstance(raw, (str, int, float)) else Decimal("NaN")
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite() or amount < 0 or isinstance(raw, bool):
            raise GatewayError(pointer, "amount", "a non-negative decimal amount")
    payment = _optional_text(payload, gateway.payment_id_path) or ident
    return PaymentReport(
        payment_id=f"{name}:{payment}",
        source=name,
        kind=kind,
        amount=amount,
        currency=currency,
        reference=_optional_text(payload, gateway.reference_path),
        customer=_optional_text(payload, gateway.customer_path),
        occurred_at=datetime.now(UTC),
        provider_ref=payment,
    )
