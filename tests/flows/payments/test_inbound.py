"""Gateways' webhooks and bank statements read: Stripe's signature scheme and event shapes (on
Stripe's published fixtures), the generic mapping, CAMT.053 and CSV statements."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path

import pytest

from crossdock.config.payments import GatewayConfig
from crossdock.connectors.bank.statements import StatementInfo, read_camt053, read_csv, sniff
from crossdock.connectors.gateway.report import GatewayError, Unverified
from crossdock.connectors.stripe import inbound as stripe
from crossdock.webhooks import gateways
from crossdock.webhooks.signing import signature_header
from tests.flows.payments.conftest import DATA

SECRET = "whsec_test_secret_1"
OLD = "whsec_test_secret_0"


def stripe_event(name: str) -> bytes:
    return (DATA / f"stripe_{name.replace('.', '_')}.json").read_bytes()


def stripe_headers(body: bytes, *secrets: str, at: int | None = None) -> dict[str, str]:
    stamp = int(time.time()) if at is None else at
    v1 = ",".join(f"v1={stripe.sign(s, stamp, body)}" for s in secrets)
    return {"Stripe-Signature": f"t={stamp},{v1}"}


def stripe_gateway(*secrets: str) -> GatewayConfig:
    return GatewayConfig.model_validate({"kind": "stripe", "secrets": list(secrets)})


def test_stripe_signature_verifies_fresh_matching_and_rotated_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEW_SECRET", SECRET)
    monkeypatch.setenv("OLD_SECRET", OLD)
    body = stripe_event("payment_intent.succeeded")
    config = stripe_gateway("${NEW_SECRET}", "${OLD_SECRET}")
    now = time.time()
    for signed_with in ((SECRET,), (OLD,), ("whsec_other", SECRET)):
        message = gateways.receive("stripe", config, stripe_headers(body, *signed_with), body, now)
        assert message.verified.message_id == "evt_1Pgc76B7WZ01zgkWwyRHS12y"
    forged = stripe_headers(body, "whsec_other")
    stale = stripe_headers(body, SECRET, at=int(now) - 301)
    tampered = stripe_headers(body, SECRET)
    for headers, payload in ((forged, body), (stale, body), (tampered, body + b" "), ({}, body)):
        with pytest.raises(Unverified):
            gateways.receive("stripe", config, headers, payload, now)


def test_stripe_events_map_to_payment_reports() -> None:
    captured = stripe.map_event("stripe", json.loads(stripe_event("payment_intent.succeeded")))
    assert captured is not None
    assert (captured.kind, captured.amount, captured.currency) == ("captured", 1250, "EUR")
    assert captured.payment_id == "stripe:pi_1PgafyB7WZ01zgkWSjxsAJo3"
    assert (captured.reference, captured.customer) == ("INV/2026/00001", "web:C1")

    failed = stripe.map_event("stripe", json.loads(stripe_event("payment_intent.payment_failed")))
    assert failed is not None and failed.kind == "failed"
    assert failed.detail == "Your card was declined."

    refunded = stripe.map_event("stripe", json.loads(stripe_event("charge.refunded")))
    assert refunded is not None and refunded.kind == "refunded"
    assert (refunded.amount, refunded.reference) == (Decimal("250.00"), "RINV/2026/00001")

    dispute = stripe.map_event("stripe", json.loads(stripe_event("charge.dispute.created")))
    assert dispute is not None and dispute.kind == "chargeback"
    assert dispute.original == "stripe:pi_1PgafyB7WZ01zgkWSjxsAJo3"
    assert dispute.detail == "fraudulent"


def test_zero_decimal_currencies_and_ignored_types() -> None:
    event = json.loads(stripe_event("payment_intent.succeeded"))
    event["data"]["object"]["currency"] = "jpy"
    report = stripe.map_event("stripe", event)
    assert report is not None and report.amount == 125000
    event["type"] = "customer.created"
    assert stripe.map_event("stripe", event) is None
    del event["data"]
    event["type"] = "payment_intent.succeeded"
    with pytest.raises(GatewayError) as refused:
        stripe.map_event("stripe", event)
    assert refused.value.pointer == "/data/object"


def test_a_generic_gateway_is_read_by_its_field_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PSP_SECRET", "psp-key")
    config = GatewayConfig.model_validate(
        {
            "kind": "generic",
            "secrets": ["${PSP_SECRET}"],
            "signature_header": "X-Signature",
            "encoding": "hex",
            "id_path": "event.id",
            "type_path": "event.type",
            "types": {"charge.ok": "captured"},
            "amount_path": "charge.amount",
            "minor_units": True,
            "currency_path": "charge.currency",
            "reference_path": "charge.invoice",
            "customer_path": "charge.customer",
        }
    )
    body = json.dumps(
        {
            "event": {"id": "ev-9", "type": "charge.ok"},
            "charge": {"amount": 4250, "currency": "eur", "invoice": "INV/7", "customer": "web:C9"},
        }
    ).encode()
    import hashlib
    import hmac

    signature = hmac.new(b"psp-key", body, hashlib.sha256).hexdigest()
    message = gateways.receive("psp", config, {"X-Signature": signature}, body, time.time())
    assert message.verified.message_id == "ev-9"
    assert message.report is not None
    assert (message.report.amount, message.report.reference) == (Decimal("42.50"), "INV/7")
    with pytest.raises(Unverified):
        gateways.receive("psp", config, {"X-Signature": "00" * 32}, body, time.time())
    standard = config.model_copy(update={"verification": "standard"})
    monkeypatch.setenv("PSP_SECRET", "whsec_" + "QUJD" * 8)
    key = b"ABC" * 8
    stamp = int(time.time())
    headers = {
        "webhook-id": "msg-1",
        "webhook-timestamp": str(stamp),
        "webhook-signature": signature_header([key], "msg-1", stamp, body),
    }
    assert gateways.receive("psp", standard, headers, body, time.time()).report is not None


def test_camt053_entries_stream_as_reports() -> None:
    path = DATA / "camt053_statement.xml"
    assert sniff(path.read_bytes()[:4096]) == "camt053"
    info = StatementInfo("camt053")
    reports = list(read_camt053(path, info))
    assert (info.statement_id, info.account) == ("STMT-20261204-001-EUR", "BE68539007547034")
    assert (info.entries, info.credits, info.debits, info.skipped) == (4, 2, 1, 1)
    first, second, debit = reports
    assert first.payment_id == "bank:BE68539007547034:2026120400001"
    assert (first.kind, first.amount, first.customer) == ("captured", 100, "Customer C1")
    assert first.reference == "INV/00001 thank you"
    assert second.reference == "RF18539007547034"
    assert (debit.kind, debit.amount, debit.customer) == ("refunded", 12, "Customer C1")


def test_a_bad_entry_is_named(tmp_path: Path) -> None:
    text = (DATA / "camt053_statement.xml").read_text().replace(">45.50<", ">4x5<")
    bad = tmp_path / "bad.xml"
    bad.write_text(text)
    with pytest.raises(GatewayError) as refused:
        list(read_camt053(bad, StatementInfo("camt053")))
    assert refused.value.pointer == "/Stmt/Ntry[2]/Amt"
    entity = tmp_path / "entity.xml"
    entity.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')
    with pytest.raises(GatewayError):
        list(read_camt053(entity, StatementInfo("camt053")))


def test_csv_statements(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(
        "date;amount;currency;reference;name\n"
        "2026-12-04;100,00;EUR;INV/00001;Customer C1\n"
        "2026-12-04;-12.00;EUR;RINV/00003;Customer C1\n"
    )
    assert sniff(path.read_bytes()) == "csv"
    info = StatementInfo("csv")
    credit, debit = read_csv(path, info)
    assert (credit.kind, credit.amount, credit.reference) == ("captured", 100, "INV/00001")
    assert (debit.kind, debit.amount) == ("refunded", 12)
    assert credit.payment_id == f"bank:csv:{info.digest[:16]}:2"
    path.write_text("date,amount,currency\n2026-13-01,1,EUR\n")
    with pytest.raises(GatewayError) as refused:
        list(read_csv(path, StatementInfo("csv")))
    assert refused.value.pointer == "/line/2/date"
