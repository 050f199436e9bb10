"""A simulated Stripe account in test mode: PaymentIntents, their charges, refunds and disputes,
and the events each change produces, as Stripe's API documents them.

Objects start from Stripe's published fixtures (``fixtures.json``) and are filled in by the
operations. Stripe's test payment methods decide what a confirmation does:

* ``pm_card_visa`` (and any other ``pm_card_…`` not below) — the charge succeeds;
* ``pm_card_chargeDeclined`` — declined, ``card_declined`` / ``generic_decline``;
* ``pm_card_chargeDeclinedInsufficientFunds`` — declined, ``insufficient_funds``;
* ``pm_card_createDispute`` — succeeds, then a ``fraudulent`` dispute is opened on the charge;
* ``pm_card_createDisputeProductNotReceived`` — the same with ``product_not_received``.

Events per operation (what Stripe sends for them): creating an intent →
``payment_intent.created``; a successful automatic capture → ``charge.succeeded``,
``payment_intent.succeeded``; manual capture → ``charge.succeeded`` and
``payment_intent.amount_capturable_updated``, then on capture ``charge.captured`` and
``payment_intent.succeeded``; a decline → ``charge.failed``, ``payment_intent.payment_failed``;
a refund → ``refund.created``, ``charge.refunded`` (with ``previous_attributes``); a dispute →
``charge.dispute.created``; a cancel → ``payment_intent.canceled``.
"""

from __future__ import annotations

import copy
import json
import secrets
import threading
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

from crossdock.errors import CrossdockError

__all__ = ["API_VERSION", "CardError", "RequestError", "StripeAccount"]

API_VERSION = "2024-06-20"
_DECLINES = {
    "pm_card_chargeDeclined": ("card_declined", "generic_decline", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
}
_DISPUTES = {
    "pm_card_createDispute": "fraudulent",
    "pm_card_createDisputeProductNotReceived": "product_not_received",
}


def _templates() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("fixtures.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


_TEMPLATES = _templates()


def new_id(prefix: str) -> str:
    """An id shaped like Stripe's (``pi_`` + 24 characters)."""
    return f"{prefix}_{secrets.token_hex(12)}"


class RequestError(CrossdockError):
    """An ``invalid_request_error`` (400, or ``status``), naming the parameter."""

    def __init__(
        self, message: str, param: str | None = None, status: int = 400, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.status = status
        self.code = code

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": "invalid_request_error", "message": self.message}
        if self.param:
            error["param"] = self.param
        if self.code:
            error["code"] = self.code
        return {"error": error}


class CardError(CrossdockError):
    """A declined card (402), carrying the PaymentIntent as Stripe's error does."""

    def __init__(
        self, code: str, decline_code: str, message: str, intent: dict[str, Any], charge: str
    ) -> None:
        super().__init__(message)
        self.error = {
            "type": "card_error",
            "code": code,
            "decline_code": decline_code,
            "message": message,
            "charge": charge,
            "payment_intent": intent,
        }

    def body(self) -> dict[str, Any]:
        return {"error": self.error}


Publish = Callable[[dict[str, Any]], None]


class StripeAccount:
    """The account's objects and events; every operation is atomic under one lock."""

    def __init__(self, publish: Publish | None = None, clock: Callable[[], float] = time.time):
        self.intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.disputes: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.publish = publish
        self.clock = clock
        self.lock = threading.RLock()

    # ------------------------------------------------------------------ events

    def _event(
        self,
        type_: str,
        obj: dict[str, Any],
        previous: dict[str, Any] | None = None,
        request: tuple[str | None, str | None] = (None, None),
    ) -> dict[str, Any]:
        event: dict[str, Any] = copy.deepcopy(_TEMPLATES["event"])
        event.update(
            id=new_id("evt"),
            created=int(self.clock()),
            type=type_,
            api_version=API_VERSION,
            livemode=False,
            pending_webhooks=0,
            request={"id": request[0], "idempotency_key": request[1]},
        )
        event["data"] = {"object": copy.deepcopy(obj)}
        if previous is not None:
            event["data"]["previous_attributes"] = previous
        self.events.append(event)
        if self.publish is not None:
            self.publish(event)
        return event

    # ------------------------------------------------------------------ payment intents

    def create_intent(
        self, params: dict[str, Any], request: tuple[str | None, str | None]
    ) -> dict[str, Any]:
        amount = _amount(params.get("amount"), "amount")
        if amount < 1:
            raise RequestError("This value must be greater than or equal to 1.", "amount")
        currency = _currency(params.get("currency"))
        with self.lock:
            intent = copy.deepcopy(_TEMPLATES["payment_intent"])
            pid = new_id("pi")
            intent.update(
                id=pid,
                amount=amount,
                amount_capturable=0,
                amount_received=0,
                currency=currency,
                created=int(self.clock()),
                client_secret=f"{pid}_secret_{secrets.token_hex(8)}",
                capture_method=_choice(
                    params.get("capture_method", "automatic"),
                    ("automatic", "automatic_async", "manual"),
                    "capture_method",
                ),
                customer=params.get("customer"),
                description=params.get("description"),
                metadata=_metadata(params.get("metadata")),
                payment_method=params.get("payment_method"),
                receipt_email=params.get("receipt_email"),
                status="requires_confirmation"
                if params.get("payment_method")
                else "requires_payment_method",
                latest_charge=None,
                last_payment_error=None,
            )
            self.intents[pid] = intent
            self._event("payment_intent.created", intent, request=request)
            if _truthy(params.get("confirm")):
                return self._confirm(intent, params, request)
            return copy.deepcopy(intent)

    def intent(self, pid: str) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self._intent(pid))

    def _intent(self, pid: str) -> dict[str, Any]:
        try:
            return self.intents[pid]
        except KeyError:
            raise RequestError(
                f"No such payment_intent: '{pid}'", "intent", 404, "resource_missing"
            ) from None

    def update_intent(self, pid: str, params: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            intent = self._intent(pid)
            if "metadata" in params:
                intent["metadata"] = {**intent["metadata"], **_metadata(params["metadata"])}
                intent["metadata"] = {k: v for k, v in intent["metadata"].items() if v != ""}
            for key in ("description", "receipt_email", "customer", "payment_method"):
                if key in params:
                    intent[key] = params[key] or None
            return copy.deepcopy(intent)

    def confirm_intent(
        self, pid: str, params: dict[str, Any], request: tuple[str | None, str | None]
    ) -> dict[str, Any]:
        with self.lock:
            return self._confirm(self._intent(pid), params, request)

    def _confirm(
        self, intent: dict[str, Any], params: dict[str, Any], request: tuple[str | None, str | None]
    ) -> dict[str, Any]:
        if intent["status"] not in ("requires_payment_method", "requires_confirmation"):
            raise RequestError(
                "You cannot confirm this PaymentIntent because it has a status of "
                f"{intent['status']}.",
                code="payment_intent_unexpected_state",
            )
        method = params.get("payment_method") or intent.get("payment_method")
        if not method:
            raise RequestError(
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
                "payment_method",
                code="payment_intent_unexpected_state",
            )
        intent["payment_method"] = method
        charge = self._charge(intent, method)
        intent["latest_charge"] = charge["id"]
        if method in _DECLINES:
            code, decline, message = _DECLINES[method]
            charge.update(
                status="failed",
                paid=False,
                captured=False,
                amount_captured=0,
                failure_code=code,
                failure_message=message,
            )
            charge["outcome"] = {
                **charge["outcome"],
                "type": "issuer_declined",
                "reason": decline,
                "seller_message": message,
            }
            intent["status"] = "requires_payment_method"
            intent["last_payment_error"] = {
                "type": "card_error",
                "code": code,
                "decline_code": decline,
                "message": message,
                "charge": charge["id"],
            }
            self._event("charge.failed", charge, request=request)
            self._event("payment_intent.payment_failed", intent, request=request)
            raise CardError(code, decline, message, copy.deepcopy(intent), charge["id"])
        intent["last_payment_error"] = None
        if intent["capture_method"] == "manual":
            charge.update(captured=False, amount_captured=0)
            intent.update(status="requires_capture", amount_capturable=intent["amount"])
            self._event("charge.succeeded", charge, request=request)
            self._event("payment_intent.amount_capturable_updated", intent, request=request)
            return copy.deepcopy(intent)
        intent.update(status="succeeded", amount_received=intent["amount"])
        self._event("charge.succeeded", charge, request=request)
        self._event("payment_intent.succeeded", intent, request=request)
        if method in _DISPUTES:
            self._dispute(charge, _DISPUTES[method])
        return copy.deepcopy(intent)

    def capture_intent(
        self, pid: str, params: dict[str, Any], request: tuple[str | None, str | None]
    ) -> dict[str, Any]:
        with self.lock:
            intent = self._intent(pid)
            if intent["status"] != "requires_capture":
                raise RequestError(
                    "This PaymentIntent could not be captured because it has a status of "
                    f"{intent['status']}. Only a PaymentIntent with one of the following "
                    "statuses may be captured: requires_capture.",
                    code="payment_intent_unexpected_state",
                )
            wanted = params.get("amount_to_capture")
            amount = intent["amount"] if wanted is None else _amount(wanted, "amount_to_capture")
            if not 0 < amount <= intent["amount_capturable"]:
                raise RequestError(
                    "The amount to capture is greater than the amount capturable.",
                    "amount_to_capture",
                )
            charge = self.charges[intent["latest_charge"]]
            previous = {"amount_captured": 0, "captured": False}
            charge.update(captured=True, amount_captured=amount)
            if amount < charge["amount"]:
                charge["amount_refunded"] = charge["amount"] - amount  # the rest is released
            intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
            self._event("charge.captured", charge, previous, request=request)
            self._event("payment_intent.succeeded", intent, request=request)
            method = intent.get("payment_method")
            if method in _DISPUTES:
                self._dispute(charge, _DISPUTES[method])
            return copy.deepcopy(intent)

    def cancel_intent(
        self, pid: str, params: dict[str, Any], request: tuple[str | None, str | None]
    ) -> dict[str, Any]:
        with self.lock:
            intent = self._intent(pid)
            if intent["status"] in ("succeeded", "canceled"):
                raise RequestError(
                    "You cannot cancel this PaymentIntent because it has a status of "
                    f"{intent['status']}.",
                    code="payment_intent_unexpected_state",
                )
            intent.update(
                status="canceled",
                canceled_at=int(self.clock()),
                cancellation_reason=params.get("cancellation_reason") or "requested_by_customer",
                amount_capturable=0,
            )
            self._event("payment_intent.canceled", intent, request=request)
            return copy.deepcopy(intent)

    # ------------------------------------------------------------------ charges, refunds

    def _charge(self, intent: dict[str, Any], method: str) -> dict[str, Any]:
        charge: dict[str, Any] = copy.deepcopy(_TEMPLATES["charge"])
        cid = new_id("ch")
        charge.update(
            id=cid,
            amount=intent["amount"],
            amount_captured=intent["amount"],
            amount_refunded=0,
            balance_transaction=new_id("txn"),
            captured=True,
            created=int(self.clock()),
            currency=intent["currency"],
            customer=intent.get("customer"),
            description=intent.get("description"),
            disputed=False,
            failure_code=None,
            failure_message=None,
            metadata=dict(intent["metadata"]),
            paid=True,
            payment_intent=intent["id"],
            payment_method=method,
            receipt_email=intent.get("receipt_email"),
            refunded=False,
            status="succeeded",
        )
        charge["outcome"] = {
            **charge["outcome"],
            "type": "authorized",
            "reason": None,
            "network_status": "approved_by_network",
            "seller_message": "Payment complete.",
        }
        charge["refunds"] = {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/charges/{cid}/refunds",
        }
        self.charges[cid] = charge
        return charge

    def charge(self, cid: str) -> dict[str, Any]:
        with self.lock:
            if cid not in self.charges:
                raise RequestError(f"No such charge: '{cid}'", "id", 404, "resource_missing")
            return copy.deepcopy(self.charges[cid])

    def create_refund(
        self, params: dict[str, Any], request: tuple[str | None, str | None]
    ) -> dict[str, Any]:
        with self.lock:
            if params.get("payment_intent"):
                intent = self._intent(str(params["payment_intent"]))
                cid = intent.get("latest_charge")
                if intent["status"] != "succeeded" or not cid:
                    raise RequestError(
                        f"This PaymentIntent ({intent['id']}) does not have a successful charge "
                        "to refund.",
                        "payment_intent",
                    )
            elif params.get("charge"):
                cid = str(params["charge"])
                if cid not in self.charges:
                    raise RequestError(
                        f"No such charge: '{cid}'", "charge", 404, "resource_missing"
                    )
            else:
                raise RequestError(
                    "One of the following params should be provided for this "
                    "request: payment_intent or charge."
                )
            charge = self.charges[cid]
            left = charge["amount_captured"] - charge["amount_refunded"]
            amount = left if params.get("amount") is None else _amount(params["amount"], "amount")
            if charge["refunded"] or left <= 0:
                raise RequestError(
                    f"Charge {cid} has already been refunded.", code="charge_already_refunded"
                )
            if not 0 < amount <= left:
                raise RequestError(
                    f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                    f"({left})",
                    "amount",
                )
            reason = params.get("reason")
            if reason is not None:
                _choice(reason, ("duplicate", "fraudulent", "requested_by_customer"), "reason")
            refund = copy.deepcopy(_TEMPLATES["refund"])
            refund.update(
                id=new_id("re"),
                amount=amount,
                balance_transaction=new_id("txn"),
                charge=cid,
                created=int(self.clock()),
                currency=charge["currency"],
                metadata=_metadata(params.get("metadata")),
                payment_intent=charge["payment_intent"],
                reason=reason,
                status="succeeded",
            )
            self.refunds[refund["id"]] = refund
            previous = {"amount_refunded": charge["amount_refunded"], "refunded": False}
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
            charge["refunds"]["data"].insert(0, copy.deepcopy(refund))
            self._event("refund.created", refund, request=request)
            self._event("charge.refunded", charge, previous, request=request)
            return copy.deepcopy(refund)

    def refund(self, rid: str) -> dict[str, Any]:
        with self.lock:
            if rid not in self.refunds:
                raise RequestError(f"No such refund: '{rid}'", "id", 404, "resource_missing")
            return copy.deepcopy(self.refunds[rid])

    # ------------------------------------------------------------------ disputes

    def _dispute(self, charge: dict[str, Any], reason: str) -> dict[str, Any]:
        dispute: dict[str, Any] = copy.deepcopy(_TEMPLATES["dispute"])
        dispute.update(
            id=new_id("dp"),
            amount=charge["amount_captured"],
            charge=charge["id"],
            created=int(self.clock()),
            currency=charge["currency"],
            metadata={},
            payment_intent=charge["payment_intent"],
            reason=reason,
            status="needs_response",
        )
        dispute["evidence_details"] = {
            **dispute["evidence_details"],
            "due_by": int(self.clock()) + 7 * 86400,
        }
        charge["disputed"] = True
        self.disputes[dispute["id"]] = dispute
        self._event("charge.dispute.created", dispute)
        return dispute

    def dispute(self, did: str) -> dict[str, Any]:
        with self.lock:
            if did not in self.disputes:
                raise RequestError(f"No such dispute: '{did}'", "id", 404, "resource_missing")
            return copy.deepcopy(self.disputes[did])

    # ------------------------------------------------------------------ events

    def event(self, eid: str) -> dict[str, Any]:
        with self.lock:
            for event in self.events:
                if event["id"] == eid:
                    return copy.deepcopy(event)
        raise RequestError(f"No such event: '{eid}'", "id", 404, "resource_missing")

    def list_events(self, params: dict[str, Any]) -> dict[str, Any]:
        """``GET /v1/events``: newest first, the last 30 days only; ``type`` (one name or a
        ``*`` pattern) or ``types`` (up to 20 names), not both; ``created[gt|gte|lt|lte]``;
        ``delivery_success`` (false: events some endpoint has not acknowledged yet, still
        pending or given up); ``starting_after``/``ending_before`` and ``limit`` (1 to 100)."""
        limit = _amount(params.get("limit", 10), "limit")
        if not 1 <= limit <= 100:
            raise RequestError("This value must be less than or equal to 100.", "limit")
        if params.get("type") and params.get("types"):
            raise RequestError("You may pass either `type` or `types`, but not both.", "types")
        types = params.get("types") or ([params["type"]] if params.get("type") else [])
        if not isinstance(types, list) or len(types) > MAX_LIST_TYPES:
            raise RequestError(
                f"Invalid array: types must be an array of up to {MAX_LIST_TYPES} strings", "types"
            )
        created = params.get("created")
        oldest = int(self.clock()) - RETENTION_S
        with self.lock:
            listed = [
                e
                for e in reversed(self.events)
                if e["created"] >= oldest and (not types or _type_in(e["type"], types))
            ]
        if "delivery_success" in params:
            delivered = str(params["delivery_success"]).lower() == "true"
            listed = [e for e in listed if (e["pending_webhooks"] == 0) is delivered]
        if isinstance(created, dict):
            for op, bound in created.items():
                value = _amount(bound, f"created[{op}]")
                keep = {
                    "gt": lambda t, v=value: t > v,
                    "gte": lambda t, v=value: t >= v,
                    "lt": lambda t, v=value: t < v,
                    "lte": lambda t, v=value: t <= v,
                }
                if op not in keep:
                    raise RequestError(f"Received unknown parameter: created[{op}]", "created")
                listed = [e for e in listed if keep[op](e["created"])]
        elif created is not None:
            value = _amount(created, "created")
            listed = [e for e in listed if e["created"] == value]
        if params.get("starting_after"):
            ids = [e["id"] for e in listed]
            after = str(params["starting_after"])
            listed = listed[ids.index(after) + 1 :] if after in ids else []
        elif params.get("ending_before"):
            ids = [e["id"] for e in listed]
            before = str(params["ending_before"])
            listed = listed[: ids.index(before)] if before in ids else []
            listed = listed[-limit:]
        page = listed[:limit]
        return {
            "object": "list",
            "url": "/v1/events",
            "has_more": len(listed) > limit,
            "data": copy.deepcopy(page),
        }


RETENTION_S = 30 * 86400
"""Stripe lists and retrieves events for 30 days."""
MAX_LIST_TYPES = 20


def _type_in(type_: str, patterns: list[str]) -> bool:
    return any(p == type_ or (p.endswith(".*") and type_.startswith(p[:-1])) for p in patterns)


def _amount(value: Any, param: str) -> int:
    if isinstance(value, bool):
        raise RequestError(f"Invalid integer: {value}", param)
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except ValueError:
        raise RequestError(f"Invalid integer: {value}", param) from None


def _currency(value: Any) -> str:
    if not isinstance(value, str) or len(value) != 3 or not value.isalpha():
        raise RequestError(f"Invalid currency: {value}", "currency")
    return value.lower()


def _choice(value: Any, allowed: tuple[str, ...], param: str) -> str:
    if value not in allowed:
        raise RequestError(f"Invalid {param}: must be one of {', '.join(allowed)}", param)
    return str(value)


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _metadata(value: Any) -> dict[str, str]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise RequestError("Invalid object", "metadata")
    if len(value) > 50:
        raise RequestError("You can specify up to 50 keys.", "metadata")
    out: dict[str, str] = {}
    for key, item in value.items():
        if len(str(key)) > 40 or len(str(item)) > 500:
            raise RequestError(
                "Metadata keys are at most 40 characters and values at most 500.", "metadata"
            )
        out[str(key)] = str(item)
    return out
