"""The ``engine``, ``api`` and ``observability`` sections: how the hub runs."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from crossdock.config.base import ConfigModel
from crossdock.retry import Backoff


class EngineConfig(ConfigModel):
    """Event log and dispatch tuning."""

    partitions: int | None = Field(default=None, ge=1, le=1024)
    """Partitions of the log; events of one business key always land in the same one. Unset:
    16 on SQLite, 32 on PostgreSQL. Fixed when the database is first used."""
    lease_seconds: float = Field(default=8.0, gt=0)
    """How long a worker owns a batch before another may take it over: renewed every third of
    it while the worker lives, so a node that dies (or loses the database) has its work taken
    over by the others within this bound (and the claim that follows: within 10 s)."""
    poll_interval_ms: int = Field(default=100, ge=1)
    """Idle polling interval when no notification arrives."""
    batch_size: int = Field(default=200, ge=1, le=10_000)
    """Events handed to a handler at once."""
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    """SQLite ``PRAGMA synchronous``: ``FULL`` survives power loss; ``NORMAL`` is faster in WAL
    mode but may lose the last commits on power loss."""
    max_attempts: int = Field(default=8, ge=1)
    """Attempts before an event is dead-lettered."""
    backoff_base_s: float = Field(default=1.0, gt=0)
    """First retry delay; doubled on each attempt (with jitter)."""
    backoff_max_s: float = Field(default=3600.0, gt=0)
    """Longest retry delay."""

    @property
    def backoff(self) -> Backoff:
        """The retry delays of a consumer group: from ``backoff_base_s``, doubled up to
        ``backoff_max_s``."""
        return Backoff(base_s=self.backoff_base_s, max_s=self.backoff_max_s)

    @field_validator("sqlite_synchronous", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("backoff_max_s")
    @classmethod
    def _max_above_base(cls, value: float, info: ValidationInfo) -> float:
        base = info.data.get("backoff_base_s")
        if base is not None and value < base:
            raise PydanticCustomError("backoff", "must be >= backoff_base_s")
        return value


_MIB = 1024 * 1024


class ApiLimits(ConfigModel):
    """What one request may carry: larger bodies are refused with 413, more order lines or deeper
    JSON with 422 (``crossdock/api/limits.py``), before anything is parsed or stored."""

    body_bytes: int = Field(default=1 * _MIB, ge=1024)
    """Any request body not named below: orders, shipments, webhooks, subscriptions, forms."""
    stock_events_bytes: int = Field(default=32 * _MIB, ge=1024)
    """``POST /v1/inventory/events``: a batch of up to ``inventory.max_events_per_request``."""
    snapshot_bytes: int = Field(default=256 * _MIB, ge=1024)
    """``PUT /v1/inventory/snapshots/{warehouse}``: a full count, streamed line by line."""
    statement_bytes: int = Field(default=256 * _MIB, ge=1024)
    """``POST /v1/payments/statements``: a bank statement file, streamed to a temporary file."""
    as2_message_bytes: int = Field(default=64 * _MIB, ge=1024)
    """``POST /v1/edi/as2/{partner}``: one AS2 message (decrypted and verified in memory)."""
    order_lines: int = Field(default=1000, ge=1, le=100_000)
    """Lines of one order (``POST /v1/orders``)."""
    json_depth: int = Field(default=64, ge=2, le=200)
    """Nesting of arrays and objects in a JSON body."""


class ApiConfig(ConfigModel):
    """Where the HTTP API listens. Port 0 picks a free port (tests)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    limits: ApiLimits = Field(default_factory=ApiLimits)


class ObservabilityConfig(ConfigModel):
    """Logs, metrics and tracing (``crossdock/ops``). Metrics are always on at ``/metrics``."""

    service_name: str = Field(default="crossdock", min_length=1, max_length=100)
    """``service.name`` of the spans."""
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    tracing: bool = True
    """Create spans (request, handler batch, connector call) and carry W3C ``traceparent``
    through events; trace ids appear in the logs. ``false``: no spans at all."""
    sample_ratio: float = Field(default=1.0, ge=0, le=1)
    """Share of new traces recorded (a trace started elsewhere follows its parent's decision)."""
    otlp_endpoint: str | None = None
    """OTLP/HTTP traces endpoint, e.g. ``http://collector:4318/v1/traces``; none: spans are
    not exported."""

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("otlp_endpoint")
    @classmethod
    def _check_endpoint(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parts = urlsplit(value.strip())
        except ValueError:
            raise PydanticCustomError("url", "not a URL") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PydanticCustomError("url", "not an http(s) URL")
        return value.strip()
