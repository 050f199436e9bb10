"""Stripe's events, as the gateway produces and sends them, pass the Stripe connector: the
signature verifies (and a forged or stale one does not), and each event a payment's life makes
maps to the payment report the flow expects. A delivery answered with an error is retried with
the same event id and a fresh signature, until the attempts are spent."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from crossdock.connectors.gateway.report import Unverified
from crossdock.connectors.stripe import inbound
from tests.contract.stripe.conftest import SECRET, StripeTarget, unique
from tests.support.waiting import until_sync


def _intent(target: StripeTarget, amount: int, method: str, **meta: str) -> dict[str, str]:
    data = {
        "amount": str(amount),
        "currency": "eur",
        "confirm": "true",
        "payment_method": method,
        "payment_method_types[]": "card",
    }
    data.update({f"metadata[{k}]": v for k, v in meta.items()})
    answer = target.post("/v1/payment_intents", data, key=f"contract-{unique()}")
    assert answer.status_code in (200, 402), answer.text
    body = answer.json()
    intent: dict[str, str] = body["error"]["payment_intent"] if "error" in body else body
    return intent


def test_a_captured_payment_verifies_and_maps(target: StripeTarget) -> None:
    invoice = f"INV/C/{unique()}"
    intent = _intent(target, 125000, "pm_card_visa", invoice=invoice, customer_ref="web:C1")
    assert intent["status"] == "succeeded"
    event = target.event("payment_intent.succeeded", lambda o: o["id"] == intent["id"])
    report = inbound.map_event("stripe", event)
    assert report is not None
    assert (report.kind, report.amount, report.currency) == ("captured", Decimal("1250"), "EUR")
    assert (report.reference, report.customer) == (invoice, "web:C1")
    assert report.payment_id == f"stripe:{intent['id']}"

    delivery = target.delivery(event["id"])
    assert delivery.user_agent.startswith("Stripe/1.0")
    inbound.verify(delivery.signature, delivery.body, [SECRET], 300, time.time())
    assert inbound.map_event("stripe", delivery.event) == report
    with pytest.raises(Unverified):
        inbound.verify(delivery.signature, delivery.body, ["whsec_other"], 300, time.time())
    with pytest.raises(Unverified):
        inbound.verify(delivery.signature, delivery.body, [SECRET], 300, time.time() + 3600)
    with pytest.raises(Unverified):
        inbound.verify(delivery.signature, delivery.body + b" ", [SECRET], 300, time.time())


def test_a_declined_card_maps_to_a_failed_payment(target: StripeTarget) -> None:
    invoice = f"INV/D/{unique()}"
    intent = _intent(target, 5000, "pm_card_chargeDeclined", invoice=invoice)
    assert intent["status"] == "requires_payment_method"
    event = target.event("payment_intent.payment_failed", lambda o: o["id"] == intent["id"])
    report = inbound.map_event("stripe", event)
    assert report is not None
    assert (report.kind, report.amount, report.reference) == ("failed", Decimal("50"), invoice)
    assert report.detail == "Your card was declined."


def test_a_partial_refund_names_its_credit_note_and_payment(target: StripeTarget) -> None:
    intent = _intent(target, 20000, "pm_card_visa", invoice=f"INV/R/{unique()}")
    note = f"RINV/R/{unique()}"
    refund = target.post(
        "/v1/refunds",
        {"payment_intent": intent["id"], "amount": "7500", "metadata[credit_note]": note},
    )
    assert refund.status_code == 200, refund.text
    event = target.event("charge.refunded", lambda o: o["payment_intent"] == intent["id"])
    report = inbound.map_event("stripe", event)
    assert report is not None
    assert (report.kind, report.amount) == ("refunded", Decimal("75"))
    assert report.original == f"stripe:{intent['id']}"
    if target.kind == "sandbox":  # Stripe lists a charge's refunds in older API versions only
        assert report.reference == note
    too_much = target.post("/v1/refunds", {"payment_intent": intent["id"], "amount": "20000"})
    assert too_much.status_code == 400
    assert too_much.json()["error"]["param"] == "amount"


def test_a_dispute_maps_to_a_chargeback_of_the_payment(target: StripeTarget) -> None:
    intent = _intent(target, 9900, "pm_card_createDispute", invoice=f"INV/X/{unique()}")
    event = target.event("charge.dispute.created", lambda o: o["payment_intent"] == intent["id"])
    report = inbound.map_event("stripe", event)
    assert report is not None
    assert (report.kind, report.amount, report.detail) == (
        "chargeback",
        Decimal("99"),
        "fraudulent",
    )
    assert report.original == f"stripe:{intent['id']}"


def test_an_idempotent_request_answers_the_same(target: StripeTarget) -> None:
    key = f"idem-{unique()}"
    data = {"amount": "1000", "currency": "eur"}
    first = target.post("/v1/payment_intents", data, key=key)
    again = target.post("/v1/payment_intents", data, key=key)
    assert first.json()["id"] == again.json()["id"]
    other = target.post("/v1/payment_intents", {**data, "amount": "2000"}, key=key)
    assert other.status_code == 400
    assert other.json()["error"]["type"] == "idempotency_error"


def test_a_refused_delivery_is_retried_with_the_same_event(target: StripeTarget) -> None:
    if target.receiver is None or target.server is None:
        pytest.skip("retries are watched at our receiver: sandbox only")
    webhooks = target.server.webhooks
    created = target.post("/v1/payment_intents", {"amount": "3000", "currency": "eur"})
    pid = created.json()["id"]
    [made] = [e for e in target.server.account.events if e["data"]["object"]["id"] == pid]
    assert target.delivery(made["id"])  # delivered once, answered 200

    # the intent's success: the receiver fails twice, then takes it
    target.receiver.statuses[f"payment_intent.succeeded:{pid}"] = [500, 503]
    confirmed = target.post(
        f"/v1/payment_intents/{pid}/confirm", {"payment_method": "pm_card_visa"}
    )
    assert confirmed.json()["status"] == "succeeded"
    succeeded = target.event("payment_intent.succeeded", lambda o: o["id"] == pid)
    until_sync(lambda: webhooks.delivered(succeeded["id"]), timeout=30, what="the third attempt")
    attempts = webhooks.attempts_of(succeeded["id"])
    assert [a.outcome for a in attempts] == [500, 503, 200]
    assert [a.number for a in attempts] == [1, 2, 3]
    bodies = target.receiver.of(succeeded["id"])
    assert len({d.body for d in bodies}) == 1 and len(bodies) == 3
    for delivery in bodies:
        inbound.verify(delivery.signature, delivery.body, [SECRET], 300, time.time())

    # never answered 2xx: given up after the endpoint's three attempts
    other = target.post("/v1/payment_intents", {"amount": "100", "currency": "eur"}).json()["id"]
    target.receiver.statuses[f"payment_intent.canceled:{other}"] = [500] * 5
    target.post(f"/v1/payment_intents/{other}/cancel", {})
    canceled = target.server.account.events[-1]
    assert canceled["type"] == "payment_intent.canceled"
    until_sync(webhooks.idle, timeout=30, what="the sender to give up")
    assert [a.outcome for a in webhooks.attempts_of(canceled["id"])] == [500, 500, 500]
