"""Appending to the log: durability on return, idempotency keys, validation, group commit."""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Connection, create_engine, func, select
from sqlalchemy.pool import NullPool

from crossdock.engine import Engine, EnvelopeError, NewEvent
from crossdock.engine.database import Database, normalize_url
from crossdock.engine.log import (
    dump_data,
    partition_of,
    prepare,
    read_partitions,
    type_clause,
)
from crossdock.engine.tables import events, partition_heads


def stored_count(url: str) -> int:
    engine = create_engine(normalize_url(url), poolclass=NullPool)
    with engine.connect() as conn:
        value = int(conn.execute(select(func.count()).select_from(events)).scalar_one())
    engine.dispose()
    return value


def order(i: int, key: str | None = None, source: str = "shop") -> NewEvent:
    return NewEvent("order.accepted", source, f"order:{i}", {"n": i}, idempotency_key=key)


async def test_append_is_visible_to_another_connection_when_it_returns(db_url: str) -> None:
    async with Engine(db_url) as engine:
        appended = await engine.append([order(i) for i in range(25)])
        assert stored_count(db_url) == 25
    assert [e.data["n"] for e in appended] == list(range(25))
    assert [e.id for e in appended] == sorted(e.id for e in appended)  # UUIDv7 sorts by time


async def test_duplicate_idempotency_key_returns_the_original(db_url: str) -> None:
    async with Engine(db_url) as engine:
        first = await engine.append_one(order(1, key="WS-1"))
        again = await engine.append_one(
            NewEvent("order.accepted", "shop", "order:1", {"n": 999}, idempotency_key="WS-1")
        )
        in_one_batch = await engine.append([order(2, key="WS-2"), order(3, key="WS-2")])
        other_source = await engine.append_one(order(1, key="WS-1", source="edi"))
    assert again.id == first.id and again.data == {"n": 1}
    assert in_one_batch[0].id == in_one_batch[1].id
    assert other_source.id != first.id
    assert stored_count(db_url) == 3


async def test_a_batch_mixing_new_events_and_duplicates_answers_each_in_order(db_url: str) -> None:
    async with Engine(db_url) as engine:
        stored = await engine.append_one(order(1, key="A"))
        batch = await engine.append(
            [order(2, key="B"), order(9, key="A"), order(3), order(4, key="B"), order(5, key="C")]
        )
    assert [e.data["n"] for e in batch] == [2, 1, 3, 2, 5]
    assert batch[1].id == stored.id and batch[3].id == batch[0].id
    assert len({batch[0].id, batch[2].id, batch[4].id, stored.id}) == 4
    assert stored_count(db_url) == 4


async def test_concurrent_duplicates_store_one_event(db_url: str) -> None:
    async with Engine(db_url) as engine:
        results = await asyncio.gather(
            *(engine.append_one(order(7, key="same")) for _ in range(50))
        )
    assert len({e.id for e in results}) == 1
    assert stored_count(db_url) == 1


async def test_invalid_envelope_is_refused_and_nothing_is_stored(db_url: str) -> None:
    async with Engine(db_url) as engine:
        with pytest.raises(EnvelopeError, match="type"):
            await engine.append([order(1), NewEvent("Order Accepted", "shop", "order:1")])
        with pytest.raises(EnvelopeError, match="subject"):
            await engine.append([NewEvent("order.accepted", "shop", "")])
    assert stored_count(db_url) == 0


async def test_concurrent_appends_share_commits(db_url: str) -> None:
    async with Engine(db_url) as engine:
        await asyncio.gather(*(engine.append_one(order(i)) for i in range(500)))
        commits = engine.writer.commits
    assert stored_count(db_url) == 500
    assert commits < 100, f"{commits} commits for 500 concurrent appends: no group commit"


async def test_a_failing_append_fails_only_its_caller(db_url: str) -> None:
    async with Engine(db_url) as engine:
        taken = await engine.append_one(order(1))
        reused_id = NewEvent("order.accepted", "shop", "order:2", {}, id=taken.id)
        results = await asyncio.gather(
            engine.append_one(order(3)),
            engine.append_one(reused_id),
            engine.append_one(order(4)),
            return_exceptions=True,
        )
    assert isinstance(results[1], Exception)
    assert not isinstance(results[0], Exception) and not isinstance(results[2], Exception)
    assert stored_count(db_url) == 3


async def test_writer_tells_whether_more_urgent_work_waits(db_url: str) -> None:
    """Bulk work (inventory publication) yields only to work above its own priority."""
    async with Engine(db_url) as engine:
        writer = engine.writer
        assert not writer.waiting_above(5)
        low = asyncio.create_task(writer.submit(lambda c: None, priority=5))
        await asyncio.sleep(0)  # the op is queued; the writer has not taken it yet
        assert not writer.waiting_above(5) and writer.waiting_above(4)
        high = asyncio.create_task(writer.submit(lambda c: None, priority=10))
        await asyncio.sleep(0)
        assert writer.waiting_above(5)
        await asyncio.gather(low, high)
        appending = asyncio.create_task(engine.append([order(1)]))
        await asyncio.sleep(0)
        assert writer.waiting_above(100)  # appends (order intake) always come first
        await appending
        assert not writer.waiting_above(-100)


@pytest.mark.parametrize(
    "patterns",
    [("work.*",), ("rare.item",), ("absent.kind", "absent.*")],
    ids=["common", "one-subject", "absent"],
)
def test_reading_claimed_partitions_matches_reading_each_alone(
    db_url: str, patterns: tuple[str, ...]
) -> None:
    """Claims of every size (so every padding of the statements), with partitions behind, at and
    past their last event: the same events and read-to positions as one plain query each, for
    types found everywhere, in one subject's partition only, and nowhere."""

    async def fill() -> None:
        async with Engine(db_url) as engine:
            await engine.append(
                [
                    NewEvent("work.item" if i % 3 else "other.item", "t", f"s:{i % 37}", {"i": i})
                    for i in range(2000)
                ]
                + [NewEvent("rare.item", "t", "s:rare", {"i": i}) for i in range(30)]
            )

    asyncio.run(fill())
    matches = type_clause(patterns)
    db = Database(db_url)
    try:
        rng = random.Random(7)
        for size in range(1, 33):
            positions = {p: rng.choice([0, 0, 300, 10_000]) for p in rng.sample(range(32), size)}
            got = db.read_sync(lambda c, p=positions: read_partitions(c, p, 20, patterns))

            def plain(conn: Connection, wanted: dict[int, int] = positions) -> dict[int, Any]:
                out = {}
                for partition, after in wanted.items():
                    found = conn.execute(
                        select(events.c.seq)
                        .where(events.c.partition == partition, events.c.seq > after, matches)
                        .order_by(events.c.seq)
                        .limit(20)
                    ).scalars()
                    seqs = list(found)
                    top = conn.execute(
                        select(func.coalesce(func.max(events.c.seq), 0)).where(
                            events.c.partition == partition
                        )
                    ).scalar_one()
                    out[partition] = (seqs, seqs[-1] if len(seqs) == 20 else max(after, top))
                return out

            expected = db.read_sync(plain)
            assert {p: ([e.position for e in found], to) for p, (found, to) in got.items()} == (
                expected
            ), f"claim of {size} partitions"
    finally:
        db.close()


class Colour(Enum):
    RED = "red"


@dataclass
class Opaque:
    value: int


def test_event_data_is_stored_as_compact_json_with_the_logs_conventions() -> None:
    moment = datetime(2026, 11, 23, 16, 30, tzinfo=timezone(timedelta(hours=2)))
    data = {
        "price": Decimal("120.50"),
        "at": moment,
        "day": date(2026, 11, 23),
        "id": UUID("01a208d3-eb5c-7fdd-9d77-31a7ad0e92d2"),
        "colour": Colour.RED,
        "lines": [{"qty": 2, "ratio": 0.5, "note": "Größe ✓"}],
        7: None,
    }
    assert dump_data(data) == (
        '{"price":"120.50","at":"2026-11-23T14:30:00Z","day":"2026-11-23",'
        '"id":"01a208d3-eb5c-7fdd-9d77-31a7ad0e92d2","colour":"red",'
        '"lines":[{"qty":2,"ratio":0.5,"note":"Größe ✓"}],"7":null}'
    )


def test_event_data_beyond_the_fast_encoder_is_still_stored() -> None:
    assert json.loads(dump_data({"big": 2**70})) == {"big": 2**70}
    assert dump_data({"ratio": float("nan")}) == '{"ratio":null}'  # valid JSON, unlike NaN


def test_event_data_that_is_not_json_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match="Opaque is not JSON serialisable"):
        dump_data({"x": Opaque(1)})


def test_prepared_rows_carry_the_partition_of_their_subject() -> None:
    # `prepare` computes the partition inline; it must stay the function every reader uses.
    subjects = [f"order:{i}" for i in range(500)] + ["kunde:Müller-Lüdenscheidt"]
    prepared = prepare([NewEvent("order.accepted", "shop", s) for s in subjects], 16)
    assert [p.row[4] for p in prepared] == [partition_of(s, 16) for s in subjects]


def _heads_match_the_log(db: Database) -> None:
    def both(conn: Connection) -> tuple[dict[int, int], dict[int, int]]:
        kept = {p: h for p, h in conn.execute(select(partition_heads))}
        grouped = select(events.c.partition, func.max(events.c.seq)).group_by(events.c.partition)
        return kept, {p: h for p, h in conn.execute(grouped)}

    kept, actual = db.read_sync(both)
    assert kept == actual


def test_partition_heads_follow_appends_with_and_without_duplicates(db_url: str) -> None:
    async def appends() -> None:
        async with Engine(db_url) as engine:
            first = [NewEvent("a.b", "t", f"s:{i % 41}", {}, f"k{i}") for i in range(300)]
            await engine.append(first)
            # Duplicates among new rows: the database skips them (and SQLite's AUTOINCREMENT
            # still spends their positions).
            mixed = sorted(range(250, 600), key=lambda i: (i % 7, i))
            again = [NewEvent("a.b", "t", f"s:{i % 53}", {}, f"k{i}") for i in mixed]
            await engine.append(again)
            # A partition's only new row first, then skipped rows, then rows of other
            # partitions: its head must still move to that first row.
            alone = partition_of("alone", engine.partitions)
            others = [
                f"o:{k}" for k in range(50) if partition_of(f"o:{k}", engine.partitions) != alone
            ]
            await engine.append(
                [
                    NewEvent("a.b", "t", "alone", {}, "first-of-its-partition"),
                    *(NewEvent("a.b", "t", "s:0", {}, f"k{i}") for i in range(40)),
                    *(NewEvent("a.b", "t", o, {}, f"late-{o}") for o in others),
                ]
            )

    asyncio.run(appends())
    db = Database(db_url)
    try:
        _heads_match_the_log(db)
    finally:
        db.close()


def test_a_partition_far_behind_does_not_hold_back_one_read_with_it(db_url: str) -> None:
    """Read in one call, a partition at the start of a 20,000-event log and one near its end
    each get their own next events: the one behind does not keep the other from its head."""

    async def fill() -> int:
        async with Engine(db_url) as engine:
            await engine.append([order(i % 50) for i in range(20_000)])
            return engine.partitions

    partitions = asyncio.run(fill())
    behind, ahead = partition_of("order:0", partitions), partition_of("order:1", partitions)
    assert behind != ahead
    db = Database(db_url)
    try:

        def seqs(conn: Connection, partition: int, after: int) -> list[int]:
            return list(
                conn.execute(
                    select(events.c.seq)
                    .where(events.c.partition == partition, events.c.seq > after)
                    .order_by(events.c.seq)
                ).scalars()
            )

        got = db.read_sync(lambda c: read_partitions(c, {behind: 0, ahead: 19_000}, 500))
        behind_all = db.read_sync(lambda c: seqs(c, behind, 0))
        ahead_all = db.read_sync(lambda c: seqs(c, ahead, 19_000))
    finally:
        db.close()
    found, read_to = got[ahead]
    assert [e.position for e in found] == ahead_all and read_to == ahead_all[-1]
    found, read_to = got[behind]
    assert [e.position for e in found] == behind_all[: len(found)] and found
    assert read_to < behind_all[-1]  # a window at a time


def test_a_partition_far_behind_is_read_in_windows_and_nothing_is_skipped(db_url: str) -> None:
    """Its events sparse among 30,000 of other partitions: each round reads at most a window
    past the cursor, and the rounds together return every event of the partition, in order."""

    async def fill() -> int:
        async with Engine(db_url) as engine:
            target = partition_of("wanted", engine.partitions)
            others = [
                f"o:{k}" for k in range(100) if partition_of(f"o:{k}", engine.partitions) != target
            ]
            batch = [
                NewEvent("a.b", "t", "wanted" if i % 997 == 0 else others[i % len(others)], {})
                for i in range(30_000)
            ]
            for start in range(0, len(batch), 5000):
                await engine.append(batch[start : start + 5000])
            return target

    target = asyncio.run(fill())
    db = Database(db_url)
    try:
        _heads_match_the_log(db)
        expected = db.read_sync(
            lambda c: list(
                c.execute(
                    select(events.c.seq).where(events.c.partition == target).order_by(events.c.seq)
                ).scalars()
            )
        )
        position, seen, rounds = 0, [], 0
        while True:
            found, read_to = db.read_sync(
                lambda c, p=position: read_partitions(c, {target: p}, 500)
            )[target]
            seen += [e.position for e in found]
            if read_to == position:
                break
            position, rounds = read_to, rounds + 1
        assert seen == expected and len(expected) == 31
        assert rounds > 3  # the window, not the limit, bounded the rounds
    finally:
        db.close()
