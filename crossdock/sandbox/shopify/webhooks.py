"""Webhooks as Shopify sends them: a JSON body signed with the app's secret
(``X-Shopify-Hmac-Sha256``: base64 HMAC-SHA256 of the raw body) and Shopify's headers
(``X-Shopify-Topic``, ``X-Shopify-Shop-Domain``, ``X-Shopify-Webhook-Id``,
``X-Shopify-Event-Id``, ``X-Shopify-Triggered-At``, ``X-Shopify-API-Version``).

A delivery that is not answered 2xx within the timeout is retried on the sender's schedule
(Shopify retries 8 times over 4 hours; the sandbox's schedule is short) with the same webhook
id. A test can also re-deliver one (same id: a duplicate), deliver a new id for the same
version (Shopify may), and deliver prepared ones in any order (out of order).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

__all__ = ["ShopifyDelivery", "WebhookSender"]


@dataclass
class ShopifyDelivery:
    topic: str
    body: bytes
    webhook_id: str
    triggered_at: str
    event_id: str
    attempts: list[int | str] = field(default_factory=list)
    """Each attempt's HTTP status (or the error's name)."""

    @property
    def delivered(self) -> bool:
        return any(isinstance(a, int) and 200 <= a < 300 for a in self.attempts)


@dataclass
class WebhookSender:
    secret: str
    domain: str
    api_version: str = "2025-01"
    address: str | None = None
    """Where orders/* webhooks go (one subscription for all topics), None: nowhere."""
    retry_schedule_s: tuple[float, ...] = (0.0, 0.2, 0.5, 1.0, 2.0)
    timeout_s: float = 5.0
    sent: list[ShopifyDelivery] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def prepare(self, topic: str, payload: dict[str, Any]) -> ShopifyDelivery:
        body = json.dumps(payload, separators=(",", ":")).encode()
        return ShopifyDelivery(
            topic,
            body,
            str(uuid.uuid4()),
            datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            str(uuid.uuid4()),
        )

    def headers(self, delivery: ShopifyDelivery) -> dict[str, str]:
        digest = hmac.new(self.secret.encode(), delivery.body, hashlib.sha256).digest()
        return {
            "Content-Type": "application/json",
            "X-Shopify-Topic": delivery.topic,
            "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
            "X-Shopify-Shop-Domain": self.domain,
            "X-Shopify-Webhook-Id": delivery.webhook_id,
            "X-Shopify-Event-Id": delivery.event_id,
            "X-Shopify-Triggered-At": delivery.triggered_at,
            "X-Shopify-API-Version": self.api_version,
        }

    def deliver(self, delivery: ShopifyDelivery) -> ShopifyDelivery:
        """Send until answered 2xx or the schedule is spent (blocking)."""
        if self.address is None:
            return delivery
        with httpx.Client(timeout=self.timeout_s) as client:
            for wait in self.retry_schedule_s:
                if wait:
                    time.sleep(wait)
                try:
                    answer = client.post(
                        self.address, content=delivery.body, headers=self.headers(delivery)
                    )
                    delivery.attempts.append(answer.status_code)
                    if 200 <= answer.status_code < 300:
                        break
                except httpx.HTTPError as exc:
                    delivery.attempts.append(type(exc).__name__)
        with self._lock:
            self.sent.append(delivery)
        return delivery

    def send(self, topic: str, payload: dict[str, Any]) -> ShopifyDelivery:
        return self.deliver(self.prepare(topic, payload))

    def again_new_id(self, delivery: ShopifyDelivery) -> ShopifyDelivery:
        """The same content under a new webhook id (Shopify may send an event twice)."""
        copy = ShopifyDelivery(
            delivery.topic,
            delivery.body,
            str(uuid.uuid4()),
            delivery.triggered_at,
            delivery.event_id,
        )
        return self.deliver(copy)
