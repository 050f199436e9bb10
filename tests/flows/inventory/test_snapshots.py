"""Full counts: streamed NDJSON or CSV, superseding the deltas they include and replaying the
later ones, bad lines reported by number, refused whole by default or applied in part when
configured, and never older than the count already applied."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.flows.inventory.conftest import InvHub, MakeHub, create_products, delta


async def _hub(
    make_hub: MakeHub, uid: str, count: int = 3, **kwargs: Any
) -> tuple[InvHub, list[str]]:
    hub = await make_hub(**kwargs)
    skus = [f"S{uid}-{i}" for i in range(count)]
    await create_products(hub.sandbox, skus)
    return hub, skus


def ndjson(*lines: dict[str, Any] | str) -> str:
    return "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"


def line(location: str, sku: str, quantity: Any, **extra: Any) -> dict[str, Any]:
    return {"location": location, "sku": sku, "quantity": quantity, **extra}


async def test_a_count_replaces_the_positions_and_zeroes_what_it_does_not_list(
    make_hub: MakeHub, uid: str
) -> None:
    hub, (a, b, c) = await _hub(make_hub, uid)
    await hub.events(delta(a, 1, 10), delta(b, 2, 4), delta(c, 3, 9, location="C-03"))
    report = await hub.snapshot(
        "WH", ndjson(line("A-01", a, 7), line("A-01", b, "4"), line("A-05", c, 2, unit="unit"))
    )
    assert report["applied"] == 3 and report["rejected"] == 0
    assert report["positions_changed"] == 3  # a changed, c moved: C-03 zeroed, A-05 new
    await hub.settled()
    assert await hub.positions() == {
        ("WH", "A-01", a): "7",
        ("WH", "A-01", b): "4",
        ("WH", "C-03", c): "0",
        ("WH", "A-05", c): "2",
    }
    assert await hub.odoo_on_hand([a, b, c]) == {a: 7, b: 4, c: 2}
    assert await hub.availability("web") == {a: "7", b: "4", c: "2"}
    view = (await hub.client.get("/v1/inventory/warehouses/WH", headers=hub.auth("reader"))).json()
    assert view["last_snapshot"]["id"] == report["id"]


async def test_a_csv_count_works_the_same(make_hub: MakeHub, uid: str) -> None:
    hub, (a, b, _) = await _hub(make_hub, uid)
    body = f"location,sku,quantity,unit\nA-01,{a},3,unit\n\nA-02,{b},5.5,\n"
    report = await hub.snapshot("WH", body, media="text/csv")
    assert report["applied"] == 2 and report["lines"] == 4
    assert await hub.positions() == {("WH", "A-01", a): "3", ("WH", "A-02", b): "5.5"}


async def test_a_count_supersedes_the_deltas_it_includes_and_replays_the_later_ones(
    make_hub: MakeHub, uid: str
) -> None:
    hub, (a, b, _) = await _hub(make_hub, uid)
    await hub.events(
        delta(a, 1, 10), delta(a, 2, -1), delta(a, 3, 5), delta(b, 4, 2), delta(a, 6, -2)
    )
    # the warehouse counted at sequence 3 (a: 14, its own figure) — sequence 4 and 6 came after;
    # 5 is still missing
    report = await hub.snapshot("WH", ndjson(line("A-01", a, 13), line("A-01", b, 0)), sequence=3)
    assert report["deltas_superseded"] == 3 and report["deltas_replayed"] == 2
    assert await hub.positions() == {("WH", "A-01", a): "11", ("WH", "A-01", b): "2"}
    # a late delta the count includes is a duplicate; the missing one after it still applies
    late = await hub.events(delta(a, 2, -1), delta(a, 5, 3))
    assert late["duplicates"]["sequences"] == [2] and late["applied"] == 1
    assert await hub.positions() == {("WH", "A-01", a): "14", ("WH", "A-01", b): "2"}
    # an older count than the one applied is refused
    older = await hub.snapshot("WH", ndjson(line("A-01", a, 1)), sequence=2, expect=409)
    assert older["status"] == 409
    await hub.settled()
    assert await hub.odoo_on_hand([a, b]) == {a: 14, b: 2}


async def test_a_count_without_sequence_supersedes_by_time(make_hub: MakeHub, uid: str) -> None:
    hub, (a, _, _) = await _hub(make_hub, uid)
    await hub.events(
        delta(a, 1, 10, at="2026-11-22T09:00:00Z"), delta(a, 2, 3, at="2026-11-22T11:00:00Z")
    )
    await hub.snapshot("WH", ndjson(line("A-01", a, 8)), as_of="2026-11-22T10:00:00Z")
    assert await hub.positions() == {("WH", "A-01", a): "11"}
    late = await hub.events(delta(a, 3, -4, at="2026-11-22T09:30:00Z"))
    assert late["applied"] == 0 and late["duplicates"]["count"] == 1


BAD_LINES = [
    ("not json", "{oops", "malformed"),
    ("not an object", "[1, 2]", "malformed"),
    ("negative", json.dumps(line("A-09", "{a}", -1)), "negative_on_hand"),
    ("wrong unit", json.dumps(line("A-09", "{a}", 1, unit="kg")), "wrong_unit"),
    ("no sku", json.dumps({"location": "A-09", "quantity": 1}), "required"),
    ("bad number", json.dumps(line("A-09", "{a}", "ten")), "number"),
    ("unknown sku", json.dumps(line("A-09", "NOPE-{a}", 1)), "unknown_sku"),
    ("extra field", json.dumps(line("A-09", "{a}", 1, colour="red")), "unknown_field"),
    ("counted twice", json.dumps(line("A-01", "{a}", 1)), "duplicate_line"),
]


async def test_bad_lines_refuse_the_whole_count_by_default(make_hub: MakeHub, uid: str) -> None:
    hub, (a, b, _) = await _hub(make_hub, uid)
    await hub.events(delta(a, 1, 10), delta(b, 2, 4))
    good = [json.dumps(line("A-01", a, 1)), json.dumps(line("A-01", b, 2))]
    bad = [text.replace("{a}", a) for _, text, _ in BAD_LINES]
    problem = await hub.snapshot("WH", "\n".join(good + bad) + "\n", expect=422)
    assert problem["error_count"] == len(BAD_LINES)
    reported = {(e["line"], e["rule"]) for e in problem["errors"]}
    assert reported == {(3 + i, rule) for i, (_, _, rule) in enumerate(BAD_LINES)}
    assert await hub.positions() == {("WH", "A-01", a): "10", ("WH", "A-01", b): "4"}
    view = (await hub.client.get("/v1/inventory/warehouses/WH", headers=hub.auth("reader"))).json()
    assert view["last_snapshot"] is None


async def test_apply_valid_applies_the_good_lines_and_lists_the_bad(
    make_hub: MakeHub, uid: str
) -> None:
    hub, (a, b, c) = await _hub(make_hub, uid, inventory={"snapshot_errors": "apply_valid"})
    await hub.events(delta(a, 1, 10), delta(b, 2, 4), delta(c, 3, 6))
    body = ndjson(line("A-01", a, 3), line("A-01", b, -2), "{broken")
    report = await hub.snapshot("WH", body)
    assert report["applied"] == 1 and report["rejected"] == 2
    assert [(e["line"], e["rule"]) for e in report["errors"]] == [
        (2, "negative_on_hand"),
        (3, "malformed"),
    ]
    # b's line was bad and c was not listed: with rejected lines the count is not complete
    assert await hub.positions() == {
        ("WH", "A-01", a): "3",
        ("WH", "A-01", b): "4",
        ("WH", "A-01", c): "6",
    }


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_counts_refused_before_reading(make_hub: MakeHub, uid: str) -> None:
    hub, (a, _, _) = await _hub(make_hub, uid)
    unknown = await hub.snapshot("XX", ndjson(line("A-01", a, 1)), expect=422)
    assert unknown["errors"][0]["rule"] == "unknown_warehouse"
    media = await hub.snapshot("WH", ndjson(line("A-01", a, 1)), media="text/plain", expect=415)
    assert media["status"] == 415
    header = await hub.snapshot("WH", "sku,qty\nA,1\n", media="text/csv", expect=422)
    assert header["errors"][0] == {
        "pointer": "/",
        "rule": "csv_header",
        "detail": header["errors"][0]["detail"],
        "line": 1,
    }
    empty = await hub.snapshot("WH", "", expect=422)
    assert empty["errors"][0]["rule"] == "empty"
    assert await hub.positions() == {}


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_count_of_100000_lines_streams_in(make_hub: MakeHub, uid: str) -> None:
    hub, skus = await _hub(make_hub, uid, 2000)
    await hub.events(delta(skus[0], 1, 5, location="OLD"))
    before = (await hub.settled())["erp_writes"]
    body = "".join(
        json.dumps(line(f"L{n:02d}", sku, n + 1)) + "\n" for sku in skus for n in range(50)
    )
    report = await hub.snapshot("WH", body, sequence=1)
    assert report["lines"] == 100_000 and report["applied"] == 100_000
    assert report["positions_changed"] == 100_001  # the OLD position was zeroed
    status = await hub.settled(timeout=120)
    assert status["erp_writes"] - before == 2000
    on_hand = await hub.odoo_on_hand(skus[:10])
    assert on_hand == dict.fromkeys(skus[:10], sum(range(1, 51)))
