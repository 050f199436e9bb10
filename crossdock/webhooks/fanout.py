"""The fan-out consumer group: for each event, one message per matching subscription, written in
the transaction that acknowledges the batch (`batch.write`), so an event is fanned out exactly
once — a worker that loses its lease has its whole transaction, messages included, rolled back.

Active and paused endpoints receive messages (a paused endpoint's queue waits for `resume`);
disabled endpoints receive none. An endpoint only receives events recorded after it was created,
and never the operational events about itself (a failing endpoint must not feed its own queue).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from crossdock.engine import Dialect, Event, insert_ignore
from crossdock.webhooks.tables import webhook_endpoints, webhook_messages

FANOUT_GROUP = "webhooks.fanout"
OPERATIONAL_PREFIX = "webhook."
_CHUNK = 500


def matches(patterns: Sequence[str], event_type: str) -> bool:
    """`*`, a prefix `order.*`, or the exact type."""
    for pattern in patterns:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def fan_out(conn: Connection, dialect: Dialect, events: Sequence[Event], now: float) -> int:
    """Record the messages of `events` for every matching endpoint; returns how many."""
    endpoints = conn.execute(
        select(
            webhook_endpoints.c.id,
            webhook_endpoints.c.event_types,
            webhook_endpoints.c.created_at,
        ).where(webhook_endpoints.c.state != "disabled")
    ).all()
    if not endpoints:
        return 0
    targets = [(row.id, json.loads(row.event_types), row.created_at) for row in endpoints]
    rows: list[dict[str, Any]] = []
    for event in events:
        for endpoint_id, patterns, created_at in targets:
            if event.recorded_at < created_at or not matches(patterns, event.type):
                continue
            if (
                event.type.startswith(OPERATIONAL_PREFIX)
                and event.data.get("endpoint_id") == endpoint_id
            ):
                continue
            rows.append(
                {
                    "endpoint_id": endpoint_id,
                    "event_seq": event.position,
                    "event_id": event.id,
                    "event_type": event.type,
                    "subject": event.subject,
                    "state": "pending",
                    "attempts": 0,
                    "next_at": now,
                    "created_at": now,
                    "event_recorded_at": event.recorded_at,
                }
            )
    for start in range(0, len(rows), _CHUNK):
        conn.execute(insert_ignore(dialect, webhook_messages, rows[start : start + _CHUNK]))
    return len(rows)
