"""A Stripe gateway's catch-up: ``payments.gateways.<name>.catch_up``.

Stripe's webhooks can be missed (our endpoint down longer than Stripe retries, an endpoint
disabled). The catch-up lists the events Stripe kept (``GET /v1/events``, 30 days) on a schedule
and hands each one not seen yet to the webhook path (see :mod:`crossdock.webhooks.stripe_catchup`).

.. code-block:: yaml

    payments:
      gateways:
        stripe:
          kind: stripe
          secrets: [${STRIPE_WEBHOOK_SECRET}]
          catch_up:
            enabled: true
            api_key: ${STRIPE_API_KEY}     # a restricted key with "Events: read" is enough
            cron: "*/15 * * * *"
"""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from crossdock.config.base import ConfigModel, Cron, RetryPolicy
from crossdock.config.secrets import SecretRef
from crossdock.engine import timezone_problem

__all__ = ["CatchUpRetry", "StripeCatchUpConfig"]

RETENTION_S = 30 * 86400
"""Stripe lists events for 30 days."""


class CatchUpRetry(RetryPolicy):
    """The waits between tries of a run Stripe did not answer: no longer than the schedule's
    usual interval."""

    max_s: float = Field(default=900.0, gt=0)


class StripeCatchUpConfig(ConfigModel):
    """Missed Stripe events listed and processed on a schedule (off unless ``enabled``)."""

    enabled: bool = False
    """List the missed events on ``cron`` (and on request)."""
    api_url: str = "https://api.stripe.com"
    """Stripe's API (the sandbox's URL in tests and the demo)."""
    api_key: SecretRef | None = None
    """The secret or restricted key (``Events: read``); required when enabled."""
    cron: Cron = "*/15 * * * *"
    """When a run starts (any node; one run at a time across the cluster)."""
    timezone: str = "UTC"
    overlap_s: int = Field(default=300, ge=0, le=86400)
    """A run lists from the last event's ``created`` less this much: events Stripe made visible
    late, or stamped by a clock behind ours, are not skipped (the seen ones are recognised)."""
    first_lookback_s: int = Field(default=3 * 86400, gt=0, le=RETENTION_S)
    """How far back the first run lists (Stripe retries a webhook for up to three days)."""
    page_size: int = Field(default=100, ge=1, le=100)
    """Events per ``GET /v1/events`` page."""
    max_attempts: int = Field(default=5, ge=1, le=100)
    """Tries of a run Stripe does not answer (429, 5xx, no answer), then an exception."""
    retry: CatchUpRetry = Field(default_factory=CatchUpRetry)
    timeout_s: float = Field(default=30.0, gt=0, le=300)
    """Of one Stripe call."""

    @model_validator(mode="after")
    def _check(self) -> StripeCatchUpConfig:
        problem = timezone_problem(self.timezone)
        if problem is not None:
            raise PydanticCustomError("schedule", f"{self.timezone!r}: {problem}")
        if self.enabled and self.api_key is None:
            raise PydanticCustomError("required", "api_key is required when catch_up is enabled")
        if not self.api_url.startswith(("https://", "http://")):
            raise PydanticCustomError("url", "api_url must be an http(s) URL")
        return self
