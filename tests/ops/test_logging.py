"""Logs are JSON with trace ids and business keys; personal data never reaches them. Notable
events are one line each: the ERP unreachable and back, a circuit opened and closed, a webhook
delivery failed or dead-lettered, an engine dead letter, an exception opened."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import create_engine

from crossdock.config import validate_config
from crossdock.connectors.odoo import OdooClient, OdooSettings, OdooTransientError
from crossdock.connectors.resilience import CircuitBreaker
from crossdock.errors import Unavailable
from crossdock.flows.exceptions import open_exception
from crossdock.hub import build_hub
from crossdock.migrations import upgrade
from crossdock.ops.connector_observer import ConnectorObserver
from crossdock.ops.engine_observer import EngineMetricsObserver
from crossdock.ops.logging import configure_logging
from crossdock.ops.masking import MASK, mask_text
from crossdock.ops.webhook_observer import log_delivery
from crossdock.sandbox.odoo import SandboxServer, SandboxSettings
from crossdock.webhooks.claims import Claimed, Recorded, Result

PERSONAL = {
    "name": "Jane Doe",
    "email": "jane.doe@example.com",
    "phone": "+32 2 555 01 23",
    "address": {
        "name": "Jane Doe",
        "street": "12 Rue de la Loi",
        "street2": "Building B",
        "city": "Brussels",
        "postal_code": "1040",
        "country": "BE",
    },
}
LEAKS = ("Jane", "Doe", "jane.doe", "555 01 23", "Rue de la Loi", "Building B", "1040")


class Captured:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys
        self._text = ""

    def getvalue(self) -> str:
        self._text += self._capsys.readouterr().err
        return self._text


@pytest.fixture
def log_lines(capsys: pytest.CaptureFixture[str]) -> Iterator[Captured]:
    saved = structlog.get_config()
    configure_logging("debug", json=True)
    try:
        yield Captured(capsys)
    finally:
        structlog.configure(**saved)


def _lines(stream: Captured) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_personal_data_is_masked_at_any_depth(log_lines: Captured) -> None:
    log = structlog.get_logger("test.masking")
    log.info(
        "order.received",
        order_id="0195f3a2-7c3b-7d40-8123-456789abcdef",
        customer=PERSONAL,
        total="240.00",
        at="2026-11-22T10:15:30Z",
        lines=[{"sku": "DESK-1", "quantity": 2}],
    )
    log.warning(
        "odoo.rejected",
        error="ValidationError: partner jane.doe@example.com (+32 2 555 01 23) "
        "or call 030 1234567 has no VAT",
        contacts=[{"email": "jane.doe@example.com"}],
    )
    text = log_lines.getvalue()
    for leak in LEAKS:
        assert leak not in text, f"{leak!r} leaked into the log"
    assert "1234567" not in text
    first, second = _lines(log_lines)
    assert first["customer"]["address"] == {
        "name": MASK,
        "street": MASK,
        "street2": MASK,
        "city": "Brussels",
        "postal_code": MASK,
        "country": "BE",
    }
    # Business data stays readable.
    assert first["order_id"] == "0195f3a2-7c3b-7d40-8123-456789abcdef"
    assert first["total"] == "240.00" and first["at"] == "2026-11-22T10:15:30Z"
    assert first["lines"] == [{"sku": "DESK-1", "quantity": 2}]
    assert second["error"].startswith("ValidationError: partner [masked] ([masked])")


def test_trace_ids_and_bound_business_keys(log_lines: Captured) -> None:
    tracer = TracerProvider().get_tracer("test")
    log = structlog.get_logger("test.trace")
    with (
        tracer.start_as_current_span("handle") as span,
        structlog.contextvars.bound_contextvars(order_id="O-1"),
    ):
        log.info("step.done")
    log.info("outside")
    inside, outside = _lines(log_lines)
    context = span.get_span_context()
    assert inside["trace_id"] == format(context.trace_id, "032x")
    assert inside["span_id"] == format(context.span_id, "016x")
    assert inside["order_id"] == "O-1" and inside["level"] == "info"
    assert "trace_id" not in outside and "order_id" not in outside


@pytest.mark.parametrize(
    "kept",
    [
        "2026-11-22 10:15:30",
        "0195f3a2-7c3b-7d40-8123-456789abcdef",
        "amount 1234.56 USD",
        "order WS-1001 line 3",
        "sale.order 42, 17 lines",
        "http://127.0.0.1:8069/jsonrpc",
    ],
)
def test_ordinary_text_is_left_alone(kept: str) -> None:
    assert mask_text(kept) == kept


# -- one line per notable event --------------------------------------------------------------


def _events(stream: Captured) -> list[dict[str, Any]]:
    return [line for line in _lines(stream) if line["event"].split(".")[0] != "test"]


async def test_erp_outage_and_circuit_are_logged_once_per_change(log_lines: Captured) -> None:
    clock = [0.0]
    server = SandboxServer(SandboxSettings(latency_call_s=0, latency_record_s=0))
    observer = ConnectorObserver(None)
    client = OdooClient(
        OdooSettings(url=server.url, database="crossdock", login="admin", password="admin"),
        breaker=CircuitBreaker(
            "odoo", failure_threshold=2, reset_timeout_s=30, clock=lambda: clock[0]
        ),
        retry_attempts=1,
        observer=observer,
    )
    try:
        for error in (OdooTransientError, OdooTransientError, Unavailable):
            with pytest.raises(error):  # refused, refused (the circuit opens), circuit open
                await client.connect()
        down = _events(log_lines)
        assert [(e["event"], e["level"]) for e in down] == [
            ("connector.unreachable", "warning"),
            ("connector.circuit_opened", "error"),
        ]
        assert down[0]["system"] == "odoo" and "cannot connect" in down[0]["error"]
        assert down[1]["system"] == "odoo"
        server.start()
        clock[0] += 31  # the breaker lets its probe through
        await client.connect()
        await client.search_read("res.company", [], ["name"])
        up = _events(log_lines)[len(down) :]
        assert [(e["event"], e["level"]) for e in up] == [
            ("connector.reachable", "info"),
            ("connector.circuit_closed", "info"),
        ]
    finally:
        await client.aclose()
        server.stop()


def test_dead_letters_are_logged(log_lines: Captured) -> None:
    observer = EngineMetricsObserver(None)
    observer.settled("order_to_cash", "orders", handled=3, failed=0, dead_lettered=0, retried=0)
    observer.settled("order_to_cash", "orders", handled=1, failed=0, dead_lettered=2, retried=0)
    [line] = _events(log_lines)
    assert line["event"] == "engine.dead_lettered" and line["level"] == "error"
    assert line["group"] == "order_to_cash" and line["events"] == 2


def _claimed(attempt: int) -> Claimed:
    return Claimed(
        message_id=7,
        endpoint_id="ep_1",
        url="https://crm.example/hooks",
        secrets=["whsec_x"],
        attempt=attempt,
        msg_id="evt-1",
        body=b"{}",
        traceparent=None,
        token="lease",
        event_recorded_at=0.0,
    )


def test_webhook_failures_and_dead_letters_are_logged(log_lines: Captured) -> None:
    log_delivery(_claimed(1), Result(200, 12.0), Recorded("delivered"))
    log_delivery(_claimed(1), Result(500, 30.0, "oops"), Recorded("retry", next_at=1_796_440_845.0))
    log_delivery(
        _claimed(4),
        Result(None, 1000.0, error="timed out after 1 s"),
        Recorded("dead"),
    )
    failing, dead = _events(log_lines)
    assert failing["event"] == "webhooks.delivery_failed" and failing["level"] == "warning"
    assert failing["endpoint_id"] == "ep_1" and failing["status"] == 500
    assert failing["attempt"] == 1 and failing["next_attempt_at"] == "2026-12-05T03:20:45Z"
    assert dead["event"] == "webhooks.dead_lettered" and dead["level"] == "error"
    assert dead["message_id"] == 7 and dead["error"] == "timed out after 1 s"


def test_the_hub_logs_its_webhook_deliveries(tmp_path: Path) -> None:
    cfg = validate_config({"database": {"url": f"sqlite:///{tmp_path / 'hub.db'}"}})
    hub = build_hub(cfg)
    assert hub.webhooks is not None and hub.webhooks.worker.on_result is log_delivery


def test_an_opened_exception_is_logged_once(log_lines: Captured, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    upgrade(url)
    db = create_engine(url)
    for _ in range(2):  # the second finds the open one: nothing new, nothing logged
        with db.begin() as conn:
            open_exception(
                conn,
                type="credit_hold",
                owner="finance",
                subject="order:O-1",
                reason="jane.doe@example.com is over the credit limit",
                actions=["approve", "reject"],
                now=1.0,
            )
    db.dispose()
    [line] = _events(log_lines)
    assert line["event"] == "exception.opened" and line["level"] == "warning"
    assert line["type"] == "credit_hold" and line["subject"] == "order:O-1"
    assert line["owner"] == "finance" and line["reason"] == f"{MASK} is over the credit limit"
