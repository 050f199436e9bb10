"""Stock deltas over HTTP: applied to positions, written to Odoo and published; duplicates and
gaps by per-warehouse sequence; every bad input refused whole with a problem naming the rule."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.flows.inventory.conftest import SECOND, InvHub, MakeHub, create_products, delta


async def _hub(
    make_hub: MakeHub, uid: str, count: int = 3, **kwargs: Any
) -> tuple[InvHub, list[str]]:
    hub = await make_hub(**kwargs)
    skus = [f"D{uid}-{i}" for i in range(count)]
    await create_products(hub.sandbox, skus)
    return hub, skus


async def test_deltas_reach_positions_the_erp_and_the_channels(make_hub: MakeHub, uid: str) -> None:
    hub, (a, b, c) = await _hub(make_hub, uid)
    body = await hub.events(
        delta(a, 1, 10),
        delta(a, 2, 5, location="A-02"),
        delta(a, 3, -3),
        delta(b, 4, 7),
        delta(b, 5, -2, kind="transfer", counterpart_location="B-09"),
        delta(c, 6, 4, kind="adjustment"),
        delta(c, 7, 6, warehouse=SECOND, location="Z-1"),
    )
    assert body["applied"] == 7 and body["duplicates"]["count"] == 0
    assert body["gaps"]["opened"] == []
    status = await hub.settled()
    assert status["positions_waiting_for_erp"] == 0
    positions = await hub.positions()
    assert positions == {
        ("WH", "A-01", a): "7",
        ("WH", "A-02", a): "5",
        ("WH", "A-01", b): "5",
        ("WH", "B-09", b): "2",
        ("WH", "A-01", c): "4",
        (SECOND, "Z-1", c): "6",
    }
    # Odoo holds one quant per SKU and warehouse: the WMS locations are summed.
    assert await hub.odoo_on_hand([a, b, c]) == {a: 12, b: 7, c: 4}
    assert (await hub.odoo_on_hand([c], warehouse=SECOND))[c] == 6
    assert await hub.availability("web") == {a: "12", b: "7", c: "4"}
    both = await hub.availability("both")
    assert both == {a: "12", b: "7", c: "10"}


async def test_a_sequence_already_applied_is_a_reported_duplicate(
    make_hub: MakeHub, uid: str
) -> None:
    hub, (a, b, _) = await _hub(make_hub, uid)
    first = await hub.events(delta(a, 1, 10), delta(b, 2, 3))
    assert first["applied"] == 2
    again = await hub.events(delta(a, 1, 10), delta(b, 2, 3), delta(a, 3, 1), delta(a, 3, 1))
    assert again["applied"] == 1
    assert again["duplicates"] == {"count": 3, "sequences": [1, 2, 3]}
    await hub.settled()
    assert await hub.positions() == {("WH", "A-01", a): "11", ("WH", "A-01", b): "3"}
    assert await hub.odoo_on_hand([a, b]) == {a: 11, b: 3}


async def test_a_gap_is_recorded_the_later_events_applied_and_the_gap_closed_late(
    make_hub: MakeHub, uid: str
) -> None:
    hub, (a, _, _) = await _hub(make_hub, uid)
    body = await hub.events(delta(a, 1, 10), delta(a, 2, 1), delta(a, 5, 1), delta(a, 9, 1))
    assert body["applied"] == 4
    assert body["gaps"]["opened"] == [
        {"warehouse": "WH", "from": 3, "to": 4},
        {"warehouse": "WH", "from": 6, "to": 8},
    ]
    view = (await hub.client.get("/v1/inventory/warehouses/WH", headers=hub.auth("reader"))).json()
    assert view["max_sequence"] == 9
    assert [(g["from"], g["to"]) for g in view["gaps"]] == [(3, 4), (6, 8)]
    # Deltas add up: the held-back order does not matter, each late one is applied once.
    late = await hub.events(delta(a, 7, 2), delta(a, 3, 2), delta(a, 4, -1))
    assert late["applied"] == 3 and late["gaps"]["filled"] == 3
    assert late["gaps"]["opened"] == []
    view = (await hub.client.get("/v1/inventory/warehouses/WH", headers=hub.auth("reader"))).json()
    assert [(g["from"], g["to"]) for g in view["gaps"]] == [(6, 6), (8, 8)]
    again = await hub.events(delta(a, 7, 2))
    assert again["duplicates"]["sequences"] == [7]
    await hub.settled()
    assert await hub.positions() == {("WH", "A-01", a): "16"}
    assert await hub.odoo_on_hand([a]) == {a: 16}


async def test_events_of_one_request_apply_in_any_order(make_hub: MakeHub, uid: str) -> None:
    hub, (a, _, _) = await _hub(make_hub, uid)
    body = await hub.events(delta(a, 3, -2), delta(a, 1, 5), delta(a, 2, 4))
    assert body["applied"] == 3 and body["gaps"]["opened"] == []
    assert await hub.positions() == {("WH", "A-01", a): "7"}


def _bad(sku: str, case: str) -> tuple[dict[str, Any], str, str]:
    """(event, JSON pointer, rule)"""
    at = "/events/1/"
    good = delta(sku, 2, 1)
    cases: dict[str, tuple[dict[str, Any], str, str]] = {
        "unknown warehouse": (
            delta(sku, 2, 1, warehouse="NOPE"),
            at + "warehouse",
            "unknown_warehouse",
        ),
        "unknown sku": (delta(sku + "-X", 2, 1), at + "sku", "unknown_sku"),
        "wrong unit": (delta(sku, 2, 1, unit="kg"), at + "unit", "wrong_unit"),
        "positive pick": (delta(sku, 2, 1, kind="pick"), at + "quantity", "quantity_sign"),
        "negative receipt": (delta(sku, 2, -1, kind="receipt"), at + "quantity", "quantity_sign"),
        "zero adjustment": (delta(sku, 2, 0, kind="adjustment"), at + "quantity", "quantity_sign"),
        "transfer nowhere": (
            delta(sku, 2, -1, kind="transfer"),
            at + "counterpart_location",
            "required",
        ),
        "unknown kind": (delta(sku, 2, 1, kind="theft"), at + "kind", "literal_error"),
        "no sequence": ({**good, "sequence": 0}, at + "sequence", "greater_than_equal"),
        "naive time": (
            delta(sku, 2, 1, at="2026-11-22T10:00:00"),
            at + "occurred_at",
            "timezone_aware",
        ),
        "not a number": ({**good, "quantity": "lots"}, at + "quantity", "decimal_parsing"),
        "extra field": ({**good, "colour": "red"}, at + "colour", "extra_forbidden"),
    }
    return cases[case]


BAD_CASES = [
    "unknown warehouse",
    "unknown sku",
    "wrong unit",
    "positive pick",
    "negative receipt",
    "zero adjustment",
    "transfer nowhere",
    "unknown kind",
    "no sequence",
    "naive time",
    "not a number",
    "extra field",
]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_bad_events_are_refused_whole_with_the_rule_and_nothing_applied(
    make_hub: MakeHub, uid: str
) -> None:
    hub, (a, _, _) = await _hub(make_hub, uid)
    await hub.events(delta(a, 1, 10))
    for case in BAD_CASES:
        event, pointer, rule = _bad(a, case)
        answer = await hub.client.post(
            "/v1/inventory/events",
            json={"events": [delta(a, 2, 5), event]},
            headers=hub.auth(),
        )
        assert answer.status_code == 422, (case, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        problem = answer.json()
        found = {(e["pointer"], e["rule"]) for e in problem["errors"]}
        assert (pointer, rule) in found, (case, problem)
    # the good event sent with each bad one was never applied, nor its sequence taken
    assert await hub.positions() == {("WH", "A-01", a): "10"}
    body = await hub.events(delta(a, 2, 5))
    assert body["applied"] == 1
    assert await hub.positions() == {("WH", "A-01", a): "15"}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_the_api_asks_for_the_right_scope_and_a_body(make_hub: MakeHub, uid: str) -> None:
    hub, (a, _, _) = await _hub(make_hub, uid)
    body = {"events": [delta(a, 1, 1)]}
    assert (await hub.client.post("/v1/inventory/events", json=body)).status_code == 401
    reader = await hub.client.post("/v1/inventory/events", json=body, headers=hub.auth("reader"))
    assert reader.status_code == 403
    empty = await hub.client.post("/v1/inventory/events", json={"events": []}, headers=hub.auth())
    assert empty.status_code == 422
    assert (await hub.client.get("/v1/inventory/status", headers=hub.auth())).status_code == 403


async def test_an_sku_unknown_to_the_erp_is_refused_until_it_exists(
    make_hub: MakeHub, uid: str
) -> None:
    hub, (a, _, _) = await _hub(make_hub, uid, inventory={"unknown_sku_recheck_s": 0})
    late = f"D{uid}-late"
    refused = await hub.events(delta(late, 1, 1), expect=422)
    assert refused["errors"][0]["rule"] == "unknown_sku"
    await create_products(hub.sandbox, [late])
    assert hub.hub.erp is not None
    hub.hub.erp.operations.invalidate_products([late])
    accepted = await hub.events(delta(late, 1, 1), delta(a, 2, 1))
    assert accepted["applied"] == 2
    await hub.settled()
    assert (await hub.odoo_on_hand([late]))[late] == Decimal(1)
