"""The event envelope: what producers append (`NewEvent`) and what handlers receive (`Event`).

Shaped like CloudEvents 1.0: `id` (UUIDv7, so ids sort by creation time), dotted `type`, `source`,
`subject` (the business key that orders delivery), RFC 3339 `time`, JSON `data`, plus the W3C
`traceparent` and an idempotency key that is unique per source.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
MAX_SUBJECT = 255
MAX_KEY = 255


class EnvelopeError(ValueError):
    """An event that cannot be appended: the message names the field and the rule."""


# Event ids must sort by creation and never repeat; they need not be unguessable, so a PRNG seeded
# from the OS is enough — and ~20x cheaper than drawing from the OS for every id on the hot path.
_rng = random.Random()
_last_id = 0


def new_event_id() -> str:
    """A UUIDv7 (RFC 9562) as text: 48-bit milliseconds, then random bits, strictly increasing
    within this process (a clash with the previous id moves one step up instead)."""
    global _last_id
    value = (
        (time.time_ns() // 1_000_000) << 80
        | 0x7 << 76
        | _rng.getrandbits(12) << 64
        | 0b10 << 62
        | _rng.getrandbits(62)
    )
    if value <= _last_id:
        value = _last_id + 1
    _last_id = value
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append. `id` and `time` are filled in when omitted."""

    type: str
    source: str
    subject: str
    data: Mapping[str, Any] = field(default_factory=dict)
    idempotency_key: str | None = None
    traceparent: str | None = None
    time: datetime | None = None
    id: str | None = None

    def validate(self) -> None:
        if not TYPE_PATTERN.match(self.type):
            raise EnvelopeError(
                f"type: {self.type!r} must be dotted lower-case, e.g. order.accepted"
            )
        if not self.source:
            raise EnvelopeError("source: must not be empty")
        if not self.subject or len(self.subject) > MAX_SUBJECT:
            raise EnvelopeError(f"subject: must be 1..{MAX_SUBJECT} characters")
        if self.idempotency_key is not None and not 0 < len(self.idempotency_key) <= MAX_KEY:
            raise EnvelopeError(f"idempotency_key: must be 1..{MAX_KEY} characters")
        if self.time is not None and self.time.tzinfo is None:
            raise EnvelopeError("time: must carry a time zone")


@dataclass(frozen=True, slots=True)
class Event:
    """A committed event. `position` is its place in the log (internal, increasing per append)."""

    id: str
    type: str
    source: str
    subject: str
    time: datetime
    data: dict[str, Any]
    traceparent: str | None = None
    idempotency_key: str | None = None
    recorded_at: float = 0.0
    position: int = 0

    def to_cloudevent(self) -> dict[str, Any]:
        """The CloudEvents JSON form, as sent in webhooks and shown by `events tail`."""
        envelope: dict[str, Any] = {
            "specversion": "1.0",
            "id": self.id,
            "type": self.type,
            "source": self.source,
            "subject": self.subject,
            "time": format_time(self.time),
            "datacontenttype": "application/json",
            "data": self.data,
        }
        if self.traceparent:
            envelope["traceparent"] = self.traceparent
        return envelope


def utcnow() -> datetime:
    return datetime.now(UTC)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
