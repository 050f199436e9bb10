"""Event ids and the CloudEvents form."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from crossdock.engine.envelope import Event, new_event_id


def test_event_ids_are_uuid7_and_strictly_increasing() -> None:
    ids = [new_event_id() for _ in range(20_000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    parsed = uuid.UUID(ids[0])
    assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
    millis = int(ids[-1].replace("-", "")[:12], 16)
    assert abs(millis / 1000 - datetime.now(UTC).timestamp()) < 5


def test_cloudevent_form() -> None:
    event = Event(
        id=new_event_id(),
        type="order.accepted",
        source="webshop",
        subject="order:WS-1",
        time=datetime(2026, 11, 22, 12, 0, tzinfo=UTC),
        data={"total": "10.00"},
        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    )
    envelope = event.to_cloudevent()
    assert envelope["specversion"] == "1.0"
    assert envelope["time"] == "2026-11-22T12:00:00Z"
    assert envelope["traceparent"].startswith("00-0af7")
    assert envelope["datacontenttype"] == "application/json"
