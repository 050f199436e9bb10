"""Event ids and the CloudEvents form."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from crossdock.engine import envelope
from crossdock.engine.envelope import Event, new_event_id, new_event_ids


def test_event_ids_are_uuid7_and_strictly_increasing() -> None:
    ids = [new_event_id() for _ in range(20_000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    parsed = uuid.UUID(ids[0])
    assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
    millis = int(ids[-1].replace("-", "")[:12], 16)
    assert abs(millis / 1000 - datetime.now(UTC).timestamp()) < 5


def test_a_batch_of_ids_counts_up_and_continues_after_the_last_id() -> None:
    before = new_event_id()
    batch = new_event_ids(1000)
    after = new_event_id()
    ids = [before, *batch, after]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    values = [uuid.UUID(i).int for i in batch]
    assert values == list(range(values[0], values[0] + 1000))
    assert all(uuid.UUID(i).version == 7 and uuid.UUID(i).variant == uuid.RFC_4122 for i in ids)


def test_counting_never_reaches_the_variant_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    # The largest random draw the generator can make, then a long batch counting up from it.
    monkeypatch.setattr(envelope._rng, "getrandbits", lambda bits: (1 << bits) - 1)
    batch = new_event_ids(100_000)
    assert all(uuid.UUID(i).variant == uuid.RFC_4122 for i in (batch[0], batch[-1]))
    assert all(uuid.UUID(i).version == 7 for i in (batch[0], batch[-1]))
    assert batch == sorted(batch)


def test_a_batch_counting_across_the_fourth_group_reads_as_its_numbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A draw four below a carry out of the last twelve hex digits into the group before them.
    draw = (1 << 48) - 4
    monkeypatch.setattr(envelope._rng, "getrandbits", lambda bits: draw if bits > 12 else 0)
    monkeypatch.setattr(envelope, "_last_id", 0)  # the draw is used as it is
    batch = new_event_ids(8)
    values = [uuid.UUID(i).int for i in batch]
    assert values == list(range(values[0], values[0] + 8))
    assert batch == [str(uuid.UUID(int=v)) for v in values]
    assert batch[3].split("-")[3] != batch[4].split("-")[3]  # the carry happened in the batch


def test_ids_keep_increasing_when_the_clock_goes_back(monkeypatch: pytest.MonkeyPatch) -> None:
    last = new_event_id()
    monkeypatch.setattr(envelope.time, "time_ns", lambda: 0)
    later = new_event_ids(3)
    assert [last, *later] == sorted([last, *later]) and len({last, *later}) == 4


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
