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
from typing import Any, NamedTuple

from crossdock.errors import CrossdockError

TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
MAX_SUBJECT = 255
MAX_KEY = 255
# Types already matched, so that an append does not match the pattern for every event: a hub has
# a few dozen. Bounded, so arbitrary types from outside cannot grow it without end.
_VALID_TYPES: set[str] = set()
_REMEMBERED_TYPES = 4096


class EnvelopeError(CrossdockError, ValueError):
    """An event that cannot be appended: the message names the field and the rule."""


# Event ids must sort by creation and never repeat; they need not be unguessable, so a PRNG seeded
# from the OS is enough — and far cheaper than drawing from the OS for every id on the hot path.
_rng = random.Random()
_last_id = 0
# The random low bits start below 2**61, so a batch counting up from them never carries into the
# variant bits above (2**61 ids would have to share one millisecond).
_COUNTER_ROOM = 61
_LOW_64 = (1 << 64) - 1
_LOW_48 = (1 << 48) - 1


def new_event_ids(count: int) -> list[str]:
    """`count` UUIDv7s (RFC 9562) as text, strictly increasing within this process: 48-bit
    milliseconds, 12 random bits, then 62 bits that are random for the first id of the batch and
    count up by one for the next (the RFC's monotonic random method, section 6.2). One random
    draw and one clock reading per batch, not per id.
    """
    global _last_id
    first = (
        (time.time_ns() // 1_000_000) << 80
        | 0x7 << 76
        | _rng.getrandbits(12) << 64
        | 0b10 << 62
        | _rng.getrandbits(_COUNTER_ROOM)
    )
    if first <= _last_id:  # the same millisecond as the last id, or the clock went back
        first = _last_id + 1
    _last_id = first + count - 1
    # Only the low 64 bits differ within the batch: the first half of the text is shared, and
    # so is the group of four after it unless the count carries into it.
    head = f"{first >> 64:016x}"
    prefix = f"{head[:8]}-{head[8:12]}-{head[12:]}-"
    low = first & _LOW_64
    last = low + count - 1
    if low >> 48 == last >> 48:
        # `%` with a format made once rather than an f-string per id: the cheaper of the two
        # (docs/benchmarks.md).
        tail = f"{prefix}{low >> 48:04x}-%012x".__mod__
        return list(map(tail, range(low & _LOW_48, (last & _LOW_48) + 1)))
    return [f"{prefix}{value >> 48:04x}-{value & _LOW_48:012x}" for value in range(low, last + 1)]


def new_event_id() -> str:
    """One UUIDv7 as text (see `new_event_ids`)."""
    return new_event_ids(1)[0]


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
        if self.type not in _VALID_TYPES:
            if not TYPE_PATTERN.match(self.type):
                raise EnvelopeError(
                    f"type: {self.type!r} must be dotted lower-case, e.g. order.accepted"
                )
            if len(_VALID_TYPES) < _REMEMBERED_TYPES:
                _VALID_TYPES.add(self.type)
        if not self.source:
            raise EnvelopeError("source: must not be empty")
        if not self.subject or len(self.subject) > MAX_SUBJECT:
            raise EnvelopeError(f"subject: must be 1..{MAX_SUBJECT} characters")
        if self.idempotency_key is not None and not 0 < len(self.idempotency_key) <= MAX_KEY:
            raise EnvelopeError(f"idempotency_key: must be 1..{MAX_KEY} characters")
        if self.time is not None and self.time.tzinfo is None:
            raise EnvelopeError("time: must carry a time zone")


class Event(NamedTuple):
    """A committed event. `position` is its place in the log (internal, increasing per append).

    A named tuple rather than a frozen dataclass: as immutable, and much cheaper to build, which
    counts at tens of thousands of events a second in and out."""

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
