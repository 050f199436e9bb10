"""Every event the hub writes about an order names it by the channel's own number as well as by
the hub's id (`channel`, `external_ref`), and matches its type's schema in the event catalog."""

from __future__ import annotations

import jsonschema

from crossdock.catalog.registry import CATALOG
from crossdock.engine import Event
from tests.contract.odoo.conftest import stocked_products
from tests.flows.harness import Flow, make_order

HUB_SOURCES = ("crossdock.order_to_cash", "crossdock.exceptions")


def _check(events: list[Event], channel: str, external_ref: str) -> list[str]:
    checked = []
    for event in events:
        if event.source not in HUB_SOURCES:
            continue  # appended by the test as a channel or a warehouse would
        assert (event.data["channel"], event.data["external_ref"]) == (channel, external_ref), (
            event.type
        )
        jsonschema.Draft202012Validator(CATALOG[event.type].schema).validate(event.data)
        checked.append(event.type)
    return checked


async def test_each_event_of_an_order_names_its_channel_and_external_ref(
    flow: Flow, uid: str
) -> None:
    [a] = await stocked_products(flow.ops, uid, {"A": 10})
    order = make_order(f"WS-{uid}", f"c-{uid}", [(a, "2")])
    [order_id] = await flow.accept(order)
    await flow.wait_state(order_id, "released")
    await flow.ship(order_id, [(a, "2")])
    await flow.wait_state(order_id, "invoiced")

    checked = _check(await flow.events(order_id), order.channel, order.external_ref)
    assert checked == ["order.confirmed", "order.released", "shipment.dispatched", "invoice.posted"]


async def test_exception_resolution_and_end_events_name_the_order(flow: Flow, uid: str) -> None:
    order = make_order(f"AR-{uid}", f"c-{uid}", [(f"CT-{uid}-NONE", "1")])
    [order_id] = await flow.accept(order)
    exception = await flow.wait_exception(order_id, "unknown_product")
    await flow.resolve(exception.id, "fail", "discontinued")
    await flow.wait_state(order_id, "failed")

    checked = _check(await flow.events(order_id), order.channel, order.external_ref)
    assert checked == ["order.exception", "exception.resolved", "order.failed"]
