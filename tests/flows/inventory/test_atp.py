"""Available-to-promise: buffers (absolute, percentage, per SKU, per category), reservations of
open orders, change-only publication, reorder-threshold events, batch channels."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update

from crossdock.config import validate_config
from crossdock.engine.database import Database
from crossdock.flows.inventory.atp import (
    AtpInputs,
    OrderLines,
    Reservation,
    compute,
    read_reservations,
)
from crossdock.flows.inventory.events import sync_request
from crossdock.flows.inventory.settings import InventorySettings
from crossdock.flows.orders import insert_accepted
from crossdock.flows.tables import orders
from crossdock.model import Order
from tests.flows.inventory.conftest import InvHub, MakeHub, create_products, delta
from tests.support.waiting import until

D = Decimal


def settings(channels: dict[str, Any], inventory: dict[str, Any]) -> InventorySettings:
    cfg = validate_config(
        {
            "channels": channels,
            "inventory": {"warehouses": ["WH", "W2"], **inventory},
        }
    )
    return InventorySettings.from_config(cfg)


def available(inputs: AtpInputs, s: InventorySettings, channel: str, sku: str) -> Decimal:
    [value] = compute(inputs, s, [channel], [sku])
    return value.available


def test_buffers_absolute_percentage_per_sku_and_per_category() -> None:
    s = settings(
        {"web": {"warehouses": ["WH"]}, "b2b": {"warehouses": ["WH"]}},
        {
            "categories": {"fragile": ["GLS-*"]},
            "channels": {
                "web": {
                    "buffer": {
                        "default": {"percent": 10},
                        "skus": {"SKU-1": {"absolute": 5}},
                        "categories": {"fragile": {"absolute": 30}},
                    }
                },
                "default": {"buffer": {"default": {"absolute": 2}}},
            },
        },
    )
    inputs = AtpInputs(
        on_hand={("WH", "SKU-1"): D(100), ("WH", "SKU-2"): D(100), ("WH", "GLS-1"): D(100)}
    )
    assert available(inputs, s, "web", "SKU-1") == 95  # per SKU beats the rest
    assert available(inputs, s, "web", "GLS-1") == 70  # per category beats the default
    assert available(inputs, s, "web", "SKU-2") == 90  # the channel's default: 10 %
    assert available(inputs, s, "b2b", "SKU-2") == 98  # no entry: the `default` channel's rule
    small = AtpInputs(on_hand={("WH", "SKU-2"): D(7)})
    assert available(small, s, "web", "SKU-2") == 6  # 7 - 0.7 rounded down to whole units
    none = AtpInputs(on_hand={("WH", "SKU-1"): D(3)})
    assert available(none, s, "web", "SKU-1") == 0  # never below zero


def test_reservations_of_open_orders_count_where_they_ship_from() -> None:
    s = settings(
        {
            "web": {"warehouses": ["WH"]},
            "far": {"warehouses": ["W2"]},
            "both": {"warehouses": ["WH", "W2"]},
        },
        {"units": {"skus": {"FLOUR": "kg"}}},
    )
    inputs = AtpInputs(
        on_hand={("WH", "A"): D(50), ("W2", "A"): D(20), ("WH", "FLOUR"): D("10.5")},
        reservations=[
            Reservation("o1", frozenset({"WH"}), False, {"A": D(5)}),  # accepted, not in Odoo
            Reservation("o2", frozenset({"WH"}), True, {"A": D(3)}),  # confirmed from WH
            Reservation("o3", frozenset({"W2"}), True, {"A": D(4), "FLOUR": D("0.25")}),
        ],
    )
    assert available(inputs, s, "web", "A") == 42
    assert available(inputs, s, "far", "A") == 16
    assert available(inputs, s, "both", "A") == 58
    assert available(inputs, s, "web", "FLOUR") == D("10.5")  # kg: not whole units
    [value] = compute(inputs, s, ["web"], ["A"])
    assert (value.on_hand, value.reserved_erp, value.reserved_pending) == (D(50), D(3), D(5))


def test_threshold_by_sku_category_and_default() -> None:
    s = settings(
        {"web": {"warehouses": ["WH"]}},
        {
            "categories": {"bulk": ["B-*"]},
            "channels": {
                "web": {"reorder": {"default": 10, "skus": {"A": 2}, "categories": {"bulk": 50}}}
            },
        },
    )
    inputs = AtpInputs(on_hand={("WH", "A"): D(5), ("WH", "B-1"): D(40), ("WH", "C"): D(10)})
    lows = {v.sku: v.low for v in compute(inputs, s, ["web"], ["A", "B-1", "C"])}
    assert lows == {"A": False, "B-1": True, "C": True}


def _order(ref: str, channel: str, lines: list[tuple[str, str]]) -> Order:
    return Order(
        external_ref=ref,
        source=channel,
        channel=channel,
        currency="USD",
        customer={
            "external_ref": "C1",
            "name": "Customer",
            "address": {"street": "1", "city": "X", "postal_code": "1", "country": "US"},
        },
        lines=[{"sku": s, "quantity": q, "unit_price": "1"} for s, q in lines],
    )


def test_open_orders_are_read_from_the_projection(db_url: str) -> None:
    s = settings({"web": {"warehouses": ["WH"]}, "far": {"warehouses": ["W2"]}}, {})
    db = Database(db_url)
    try:

        def write(conn: Any) -> None:
            now = time.time()
            insert_accepted(
                conn, order_id="o1", order=_order("R1", "far", [("A", "3"), ("B", "1")]),
                now=now, event_id=None,
            )  # fmt: skip
            insert_accepted(
                conn, order_id="o2", order=_order("R2", "web", [("A", "4")]), now=now,
                event_id=None,
            )  # fmt: skip
            insert_accepted(
                conn, order_id="o3", order=_order("R3", "web", [("A", "9")]), now=now,
                event_id=None,
            )  # fmt: skip
            conn.execute(
                update(orders)
                .where(orders.c.id == "o2")
                .values(state="released", erp='{"sale_orders": [{"id": 1, "warehouse": "W2"}]}')
            )
            conn.execute(update(orders).where(orders.c.id == "o3").values(state="shipped"))

        db.write_sync(write)
        found = {
            r.order_id: r for r in db.read_sync(lambda c: read_reservations(c, s, OrderLines()))
        }
    finally:
        db.close()
    assert set(found) == {"o1", "o2"}  # shipped orders no longer reserve
    assert found["o1"] == Reservation("o1", frozenset({"W2"}), False, {"A": D(3), "B": D(1)})
    assert found["o2"] == Reservation("o2", frozenset({"W2"}), True, {"A": D(4)})


# -- publication over the running hub ------------------------------------------------------------


async def _hub(
    make_hub: MakeHub, uid: str, count: int = 3, **kwargs: Any
) -> tuple[InvHub, list[str]]:
    hub = await make_hub(**kwargs)
    skus = [f"P{uid}-{i}" for i in range(count)]
    await create_products(hub.sandbox, skus)
    return hub, skus


def _told(events: list[Any], channel: str) -> list[tuple[str, str, str]]:
    return [
        (e.type, e.data["sku"], e.data["available"])
        for e in events
        if e.data.get("channel") == channel
    ]


async def test_only_a_changed_number_is_published(make_hub: MakeHub, uid: str) -> None:
    hub, (a, b, _) = await _hub(make_hub, uid)
    await hub.events(delta(a, 1, 10), delta(b, 2, 4))
    await hub.settled()
    first = await hub.inventory_events()
    assert sorted(_told(first, "web")) == [
        ("inventory.available", a, "10"),
        ("inventory.available", b, "4"),
    ]
    # a moves and comes back within one window, b gains half a unit (rounded down: no change)
    await hub.events(
        delta(a, 3, -3), delta(a, 4, 3), delta(b, 5, "0.5"), delta(b, 6, 1, location="A-09")
    )
    await hub.settled()
    later = (await hub.inventory_events())[len(first) :]
    assert _told(later, "web") == [("inventory.available", b, "5")]
    event = next(e for e in later if e.data["channel"] == "web")
    assert event.subject == "availability:web"
    assert event.data["previous"] == "4" and event.data["on_hand"] == "5.5"


async def test_crossing_the_reorder_threshold_is_published(make_hub: MakeHub, uid: str) -> None:
    hub, (a, _, _) = await _hub(
        make_hub, uid, inventory={"channels": {"web": {"reorder": {"default": 5}}}}
    )
    steps = [(1, 10), (2, -6), (3, -1), (4, 5), (5, 1)]  # 10, 4 (low), 3, 8 (restored), 9
    for sequence, quantity in steps:
        await hub.events(delta(a, sequence, quantity))
        await hub.settled()
    told = [(t, q) for t, s, q in _told(await hub.inventory_events(), "web") if s == a]
    assert told == [
        ("inventory.available", "10"),
        ("inventory.available", "4"),
        ("inventory.low", "4"),
        ("inventory.available", "3"),
        ("inventory.available", "8"),
        ("inventory.restored", "8"),
        ("inventory.available", "9"),
    ]
    # the `default` channel has no threshold: numbers only
    assert {t for t, _, _ in _told(await hub.inventory_events(), "default")} == {
        "inventory.available"
    }


async def test_a_batch_channel_is_told_at_its_tick_only(make_hub: MakeHub, uid: str) -> None:
    hub, (a, b, _) = await _hub(
        make_hub,
        uid,
        inventory={"channels": {"both": {"sync": {"mode": "batch", "cron": "0 0 1 1 *"}}}},
    )
    await hub.events(delta(a, 1, 10), delta(b, 2, 4, warehouse="W2", location="Z"))
    await hub.settled()
    assert await hub.availability("web") == {a: "10"}  # b is not in WH: nothing to tell
    assert await hub.availability("both") == {}
    await hub.hub.engine.append([sync_request("tick", publish=["both"])])

    async def told() -> bool:
        return await hub.availability("both") == {a: "10", b: "4"}

    await until(told, what="the batch channel's publication")
    await hub.hub.engine.append([sync_request("tick", publish=["both"])])
    await hub.settled()
    assert len(_told(await hub.inventory_events(), "both")) == 2  # unchanged: not told again


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_an_accepted_order_reserves_until_cancelled(make_hub: MakeHub, uid: str) -> None:
    hub, (a, _, _) = await _hub(make_hub, uid)
    await hub.events(delta(a, 1, 10))
    await hub.settled()
    order = _order(f"R{uid}", "web", [(a, "3")]).model_dump(mode="json")
    answer = await hub.client.post("/v1/orders", json=order, headers=hub.auth("shop"))
    assert answer.status_code == 202, answer.text
    order_id = answer.json()["id"]

    async def availability_is(value: str) -> bool:
        return (await hub.availability("web")).get(a) == value

    await until(lambda: availability_is("7"), what="the order's reservation")
    cancel = await hub.client.post(
        f"/v1/orders/{order_id}/cancel", json={"reason": "test"}, headers=hub.auth("shop")
    )
    assert cancel.status_code in (200, 202), cancel.text
    # released to the warehouse already: a person confirms the cancellation
    view: dict[str, Any] = {}

    async def asked() -> bool:
        nonlocal view
        answer = await hub.client.get(f"/v1/orders/{order_id}", headers=hub.auth("shop"))
        view = answer.json()
        return any(e["state"] == "open" for e in view["exceptions"])

    await until(asked, what="the cancellation to wait for a person")
    [exception] = [e for e in view["exceptions"] if e["state"] == "open"]
    resolved = await hub.client.post(
        f"/v1/exceptions/{exception['id']}/resolve",
        json={"action": "cancel_anyway", "note": "test"},
        headers=hub.auth("ops"),
    )
    assert resolved.status_code in (200, 202), resolved.text
    await until(lambda: availability_is("10"), what="the reservation released")
