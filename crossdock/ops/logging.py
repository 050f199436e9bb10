"""Structured logs (structlog) on standard error: JSON for machines, or readable for a terminal.

Every line carries the current trace and span ids (when inside a span) and the business keys
bound with `structlog.contextvars` (the engine's handler scope binds `order_id`, `group`…);
personal data is masked before rendering (`crossdock.ops.masking`).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import MutableMapping
from typing import Any

import structlog
from opentelemetry import trace

from crossdock.ops.masking import mask_processor
from crossdock.ops.tracing import trace_ids


class StderrLogger:
    """Writes each line to the *current* `sys.stderr` (not the stream of configuration time, which
    a test runner or a daemoniser may have closed since)."""

    _lock = threading.Lock()

    def msg(self, message: str) -> None:
        with self._lock:
            stream = sys.stderr
            stream.write(message + "\n")
            stream.flush()

    log = debug = info = warn = warning = error = critical = exception = fatal = msg


def _stderr_logger(*args: Any) -> StderrLogger:
    return StderrLogger()


def add_trace_ids(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: `trace_id` and `span_id` of the current span, if any."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict["trace_id"], event_dict["span_id"] = trace_ids(context)
    return event_dict


def processors() -> list[Any]:
    """The processing chain before rendering (shared with tests)."""
    return [
        structlog.contextvars.merge_contextvars,
        add_trace_ids,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        mask_processor,
    ]


def configure_logging(level: str = "info", *, json: bool | None = None) -> None:
    """Send every structlog line to stderr; JSON unless stderr is a terminal (or `json` says)."""
    as_json = not sys.stderr.isatty() if json is None else json
    renderer: Any = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[*processors(), renderer],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=True,
    )
