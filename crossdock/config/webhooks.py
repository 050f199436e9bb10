"""The ``webhooks`` section of ``crossdock.yaml``: outbound delivery tuning, the server-side request
forgery allow-list, and the inbound sources with their verification.

.. code-block:: yaml

    webhooks:
      retry_schedule_s: [0, 5, 300, 1800, 7200, 18000, 36000, 36000]   # attempt n waits entry n
      jitter: 0.1                 # +/- 10 % on every delay
      timeout_s: 15
      failing_days: 5             # an endpoint failing this long is disabled
      rotation_overlap_s: 86400   # both signatures are sent this long after a rotation
      allow_private: [127.0.0.1/32]
      sources:
        shop:
          verification: hmac
          secret: ${SHOP_WEBHOOK_SECRET}
          signature_header: X-Shopify-Hmac-Sha256
          encoding: base64
          id_header: X-Shopify-Webhook-Id
          event_types: [order.received]
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from crossdock.config.base import ConfigModel
from crossdock.config.secrets import SecretRef

__all__ = ["DEFAULT_RETRY_SCHEDULE_S", "WebhookSource", "WebhooksConfig"]

DEFAULT_RETRY_SCHEDULE_S = (0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
"""At once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: about 27.6 hours in all."""

_NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_HEADER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,99}$")
_TYPE_RE = re.compile(r"^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$")


def _check_network(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise PydanticCustomError(
            "network", "not an IP address or network (e.g. 10.0.0.0/8 or 127.0.0.1)"
        ) from None
    return value


def _check_header(value: str) -> str:
    if not _HEADER_RE.match(value):
        raise PydanticCustomError("header", "not an HTTP header name")
    return value


def _check_type_pattern(value: str) -> str:
    if not _TYPE_RE.match(value):
        raise PydanticCustomError(
            "type_pattern", "must be an event type (order.accepted), a prefix (order.*) or *"
        )
    return value


def _check_source_name(value: str) -> str:
    if not _NAME_RE.match(value):
        raise PydanticCustomError(
            "invalid_name", "invalid name (lowercase letters, digits, '_' and '-')"
        )
    return value


SourceName = Annotated[str, AfterValidator(_check_source_name)]
Network = Annotated[str, AfterValidator(_check_network)]
Header = Annotated[str, AfterValidator(_check_header)]
TypePattern = Annotated[str, AfterValidator(_check_type_pattern)]


class WebhookSource(ConfigModel):
    """A system that sends us webhooks, and how its requests are verified and mapped."""

    verification: Literal["standard", "hmac"] = "standard"
    """``standard``: Standard Webhooks (``webhook-id``, ``webhook-timestamp``,
    ``webhook-signature``); ``hmac``: an HMAC-SHA256 of the raw body in one header (Shopify)."""
    secret: SecretRef
    """The shared secret (``whsec_…`` base64 for ``standard``; the raw key for ``hmac``)."""
    signature_header: Header = "X-Hmac-Sha256"
    """``hmac`` only: the header carrying the signature."""
    encoding: Literal["hex", "base64"] = "base64"
    """``hmac`` only: how the signature is encoded."""
    id_header: Header | None = Field(default=None, validate_default=True)
    """``hmac`` only: the header with the sender's message id (deduplication); ``standard`` uses
    ``webhook-id``."""
    timestamp_header: Header | None = None
    """``hmac`` only: a header with the send time (epoch seconds or RFC 3339), checked against
    ``tolerance_s``; ``standard`` uses ``webhook-timestamp``."""
    tolerance_s: float = Field(default=300.0, gt=0)
    """How far the sender's timestamp may be from our clock (replay protection)."""
    mapping: Literal["envelope"] = "envelope"
    """``envelope``: the body is a canonical-shaped event ``{type, subject, data}``."""
    event_types: list[TypePattern] = Field(min_length=1)
    """The event types this source may send (``order.received``, ``order.*``)."""

    @field_validator("id_header")
    @classmethod
    def _hmac_needs_id(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.data.get("verification") == "hmac":
            raise PydanticCustomError("id_header", "required with verification hmac (dedupe)")
        return value


class WebhooksConfig(ConfigModel):
    """Outbound delivery and inbound sources (see the module documentation)."""

    retry_schedule_s: list[float] = Field(
        default_factory=lambda: list(DEFAULT_RETRY_SCHEDULE_S), min_length=1, max_length=50
    )
    """Delay before each attempt (the first is normally 0: at once); exhausted → dead letter."""
    jitter: float = Field(default=0.1, ge=0, le=0.5)
    """Random spread of each delay, as a fraction."""
    timeout_s: float = Field(default=15.0, gt=0, le=300)
    """Timeout of one delivery request."""
    failing_days: float = Field(default=5.0, gt=0)
    """An endpoint failing without a success for this many days is disabled."""
    rotation_overlap_s: float = Field(default=86400.0, ge=0)
    """After a secret rotation, deliveries carry the old signature too for this long."""
    max_in_flight: int = Field(default=50, ge=1, le=10_000)
    """Default per-endpoint concurrency cap (a subscription may set its own)."""
    concurrency: int = Field(default=256, ge=1, le=10_000)
    """Deliveries in flight per hub process."""
    lease_s: float = Field(default=60.0, gt=0)
    """How long a worker owns a claimed message; must exceed ``timeout_s``."""
    poll_interval_ms: int = Field(default=50, ge=1, le=60_000)
    """How often an idle delivery worker looks for due messages."""
    allow_private: list[Network] = Field(default_factory=list)
    """Private, loopback or link-local destinations allowed despite the SSRF guard."""
    sources: dict[SourceName, WebhookSource] = Field(default_factory=dict)
    """Inbound sources by name: ``POST /v1/webhooks/in/<name>``."""

    @field_validator("retry_schedule_s")
    @classmethod
    def _non_negative(cls, value: list[float]) -> list[float]:
        if any(delay < 0 for delay in value):
            raise PydanticCustomError("schedule", "delays must be >= 0")
        return value

    @field_validator("lease_s")
    @classmethod
    def _lease_outlasts_timeout(cls, value: float, info: ValidationInfo) -> float:
        timeout = info.data.get("timeout_s")
        if timeout is not None and value <= timeout:
            raise PydanticCustomError("lease", "must be greater than timeout_s")
        return value
