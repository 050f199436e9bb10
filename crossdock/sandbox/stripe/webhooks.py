"""Webhook endpoints as Stripe serves them: each event whose type an endpoint enabled is POSTed
to its URL as JSON, signed with the endpoint's secret in ``Stripe-Signature``
(``t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">``), with Stripe's ``User-Agent``.

Delivery is asynchronous (a sender thread), as Stripe's is: the API call that caused the event
answers first. A delivery not answered 2xx (an error status, a refused connection, a timeout)
is retried with exponential back-off (:class:`crossdock.retry.Backoff`) up to the endpoint's
number of attempts — Stripe retries for up to three days in live mode and three times in test
mode; the sandbox keeps the shape with short delays. Every retry is signed again with a fresh
timestamp; the event id stays the same. Events are not guaranteed in order (a retried event
arrives after later ones), as Stripe says of its own.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from crossdock.retry import Backoff

__all__ = ["StripeAttempt", "StripeEndpoint", "StripeWebhooks", "signature_header"]

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


def signature_header(secret: str, body: bytes, at: int) -> str:
    """Stripe's scheme, written here from its documentation (not the connector's code, which the
    contract tests check against it)."""
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


@dataclass
class StripeEndpoint:
    id: str
    url: str
    secret: str
    enabled_events: list[str] = field(default_factory=lambda: ["*"])
    status: str = "enabled"

    def wants(self, type_: str) -> bool:
        return self.status == "enabled" and any(
            p == "*" or p == type_ or (p.endswith(".*") and type_.startswith(p[:-1]))
            for p in self.enabled_events
        )

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "webhook_endpoint",
            "url": self.url,
            "enabled_events": list(self.enabled_events),
            "status": self.status,
            "livemode": False,
        }


@dataclass(frozen=True)
class StripeAttempt:
    event_id: str
    event_type: str
    endpoint: str
    number: int
    outcome: int | str
    """The HTTP status answered, or the transport error's name."""
    at: float

    @property
    def ok(self) -> bool:
        return isinstance(self.outcome, int) and 200 <= self.outcome < 300


@dataclass(order=True)
class _Due:
    at: float
    seq: int
    event: dict[str, Any] = field(compare=False)
    endpoint: StripeEndpoint = field(compare=False)
    number: int = field(compare=False, default=1)


class StripeWebhooks:
    """The endpoints and the sender thread (started by :meth:`start`, stopped by :meth:`stop`)."""

    def __init__(
        self,
        *,
        attempts: int = 4,
        backoff: Backoff | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.endpoints: dict[str, StripeEndpoint] = {}
        self.attempts = attempts
        self.backoff = backoff or Backoff(base_s=0.5, factor=2.0, max_s=30.0, jitter=0.1)
        self.timeout_s = timeout_s
        self.log: list[StripeAttempt] = []
        self._queue: list[_Due] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopping = False
        self._busy = 0
        self._thread: threading.Thread | None = None

    def add_endpoint(self, endpoint: StripeEndpoint) -> StripeEndpoint:
        with self._cond:
            self.endpoints[endpoint.id] = endpoint
        return endpoint

    def publish(self, event: dict[str, Any]) -> None:
        """Queue ``event`` for every endpoint that enabled its type (called by the account)."""
        with self._cond:
            wanted = [e for e in self.endpoints.values() if e.wants(str(event["type"]))]
            event["pending_webhooks"] = len(wanted)
            now = time.monotonic()
            for endpoint in wanted:
                heapq.heappush(self._queue, _Due(now, next(self._seq), event, endpoint))
            self._cond.notify_all()

    def resend(self, event: dict[str, Any], endpoint_id: str) -> None:
        """Send an event again to one endpoint (the Dashboard's and CLI's "resend")."""
        with self._cond:
            endpoint = self.endpoints[endpoint_id]
            heapq.heappush(self._queue, _Due(time.monotonic(), next(self._seq), event, endpoint))
            self._cond.notify_all()

    def idle(self) -> bool:
        """Nothing queued or in flight (every delivery done or given up)."""
        with self._cond:
            return not self._queue and not self._busy

    def _acknowledged(self, event_id: str, endpoint: StripeEndpoint) -> bool:
        """An acknowledgement before the last one logged (a resend acknowledged again)."""
        oks = [a for a in self.log if a.ok and a.event_id == event_id and a.endpoint == endpoint.id]
        return len(oks) > 1

    def set_status(self, endpoint_id: str, status: str) -> StripeEndpoint:
        """``enabled`` or ``disabled`` (the Dashboard's switch, ``disabled=`` in the API)."""
        with self._cond:
            endpoint = self.endpoints[endpoint_id]
            endpoint.status = status
            self._cond.notify_all()
        return endpoint

    def delivered(self, event_id: str) -> bool:
        return any(a.ok and a.event_id == event_id for a in list(self.log))

    def attempts_of(self, event_id: str) -> list[StripeAttempt]:
        return [a for a in list(self.log) if a.event_id == event_id]

    # ------------------------------------------------------------------ the sender thread

    def start(self) -> StripeWebhooks:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="stripe-webhooks", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout_s + 5)

    def _next(self) -> _Due | None:
        with self._cond:
            while not self._stopping:
                if self._queue:
                    wait = self._queue[0].at - time.monotonic()
                    if wait <= 0:
                        self._busy += 1
                        return heapq.heappop(self._queue)
                    self._cond.wait(wait)
                else:
                    self._cond.wait()
            return None

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout_s) as client:
            while (due := self._next()) is not None:
                try:
                    self._send(client, due)
                finally:
                    with self._cond:
                        self._busy -= 1

    def _send(self, client: httpx.Client, due: _Due) -> None:
        event, endpoint = due.event, due.endpoint
        if endpoint.status != "enabled":  # a disabled endpoint is sent nothing, retries included
            return
        body = json.dumps(event, indent=2).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "Stripe-Signature": signature_header(endpoint.secret, body, int(time.time())),
        }
        outcome: int | str
        try:
            outcome = client.post(endpoint.url, content=body, headers=headers).status_code
        except httpx.HTTPError as exc:
            outcome = type(exc).__name__
        attempt = StripeAttempt(
            event["id"], event["type"], endpoint.id, due.number, outcome, time.time()
        )
        with self._cond:
            self.log.append(attempt)
            if attempt.ok and not self._acknowledged(event["id"], endpoint):
                # the event's count of endpoints that have not acknowledged it (Stripe's field)
                event["pending_webhooks"] = max(0, int(event.get("pending_webhooks", 0)) - 1)
            if not attempt.ok and due.number < self.attempts and not self._stopping:
                later = time.monotonic() + self.backoff.delay(due.number)
                heapq.heappush(
                    self._queue, _Due(later, next(self._seq), event, endpoint, due.number + 1)
                )
