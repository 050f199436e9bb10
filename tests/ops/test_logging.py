"""Logs are JSON with trace ids and business keys; personal data never reaches them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from opentelemetry.sdk.trace import TracerProvider

from crossdock.ops.logging import configure_logging
from crossdock.ops.masking import MASK, mask_text

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
