"""Orders reconciliation: drift injected in the ERP (a duplicate, an edited price, an order the hub
never accepted) and in the hub (an accepted order that never reached the flow) is found with its
value and age, corrected per ownership when enabled, an exception otherwise — the same item across
runs, closed when it is gone."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from crossdock.flows.reconciliation.drift_types import CORRECT, FIXED, IGNORE
from tests.contract.odoo.conftest import stocked_products
from tests.flows.reconciliation.conftest import MakeRecon, Recon


async def _released(recon: Recon, ref: str, lines: list[tuple[str, str]], **kw: Any) -> str:
    [order_id] = await recon.flow.accept(recon.order(ref, lines, **kw))
    await recon.flow.wait_state(order_id, "released")
    return order_id


async def _duplicate(recon: Recon, order_id: str) -> int:
    """A copy of the order's sale order with the same natural key (a person duplicated it)."""
    record = await recon.flow.order(order_id)
    [so] = record.erp["sale_orders"]
    [row] = await recon.ops.client.read("sale.order", [so["id"]], ["partner_id", "order_line"])
    lines = await recon.ops.client.read(
        "sale.order.line", row["order_line"], ["product_id", "product_uom_qty", "price_unit"]
    )
    [dup] = await recon.ops.client.create(
        "sale.order",
        [
            {
                "partner_id": row["partner_id"][0],
                "client_order_ref": so["client_order_ref"],
                "order_line": [
                    (
                        0,
                        0,
                        {
                            "product_id": line["product_id"][0],
                            "product_uom_qty": line["product_uom_qty"],
                            "price_unit": line["price_unit"],
                        },
                    )
                    for line in lines
                ],
            }
        ],
    )
    return int(dup)


async def test_a_clean_hub_has_no_drift_even_with_pricelist_prices(
    make_recon: MakeRecon, uid: str
) -> None:
    recon = await make_recon()
    [a] = await stocked_products(recon.ops, uid, {"A": 20})  # list price 10
    await _released(recon, "K", [(a, "2")], price="10")
    # the channel sent 12.50, the ERP's pricelist says 10: the hub recorded what it chose
    await _released(recon, "P", [(a, "1")], channel=recon.priced, price="12.50")

    report = await recon.run("orders")

    assert report.run.status == "ok" and report.run.checked >= 4
    assert report.items == [] and report.run.found == 0 and report.run.value == 0


async def test_duplicate_is_found_then_the_same_item_next_run_with_one_exception(
    make_recon: MakeRecon, uid: str
) -> None:
    recon = await make_recon()  # the ERP owns orders: nothing is corrected automatically
    [a] = await stocked_products(recon.ops, uid, {"A": 20})
    order_id = await _released(recon, "D", [(a, "3")])
    dup = await _duplicate(recon, order_id)

    first = await recon.run("orders")

    [item] = first.items
    assert item.type == "order_duplicated_in_erp" and item.subject == f"order:{order_id}"
    assert item.value == Decimal(30) and item.currency == "USD" and item.state == "open"
    assert item.details["duplicates"][0]["id"] == dup
    assert "owns orders" in item.details["not_corrected"]
    assert first.run.new == 1 and first.run.exceptions == 1 and first.run.corrected == 0
    [exception] = await recon.drift_exceptions()
    assert exception.type == "order_duplicated_in_erp" and exception.owner == "sales"
    assert exception.subject == f"drift:order:{order_id}"
    assert exception.actions == [FIXED, IGNORE] and item.exception_id == exception.id
    # the flow is not held by it: the order's own exceptions are untouched
    assert await recon.flow.exceptions(order_id) == []

    second = await recon.run("orders")

    [again] = second.items
    assert again.id == item.id and again.seen == 2 and again.since == item.since
    assert again.age_s(time.time()) >= item.age_s(first.run.finished_at)
    assert second.run.new == 0 and second.run.exceptions == 0
    assert [e.id for e in await recon.drift_exceptions()] == [exception.id]

    # someone cancels the duplicate in the ERP: the item is gone, its exception withdrawn
    await recon.ops.cancel_sale_orders([dup])
    third = await recon.run("orders")

    assert third.items == [] and third.run.closed == 1
    [closed] = third.closed
    assert closed.id == item.id and closed.state == "closed" and closed.resolution == "gone"
    [withdrawn] = await recon.drift_exceptions(state=None)
    assert withdrawn.state == "resolved" and withdrawn.resolution == "withdrawn"


async def test_duplicate_quotation_is_cancelled_when_the_channel_owns_orders(
    make_recon: MakeRecon, uid: str
) -> None:
    recon = await make_recon(orders_owner="shop", auto_correct=True)
    [a] = await stocked_products(recon.ops, uid, {"A": 20})
    order_id = await _released(recon, "DC", [(a, "1")])
    dup = await _duplicate(recon, order_id)

    report = await recon.run("orders")

    assert report.items == [] and report.run.corrected == 1 and report.run.exceptions == 0
    [corrected] = report.closed
    assert corrected.resolution == "corrected" and corrected.correction is not None
    assert corrected.correction["action"] == "cancel_sale_orders"
    assert corrected.correction["ok"] is True
    [row] = await recon.ops.client.read("sale.order", [dup], ["state"])
    assert row["state"] == "cancel"
    kept = (await recon.flow.order(order_id)).erp["sale_orders"][0]["id"]
    [original] = await recon.ops.client.read("sale.order", [kept], ["state"])
    assert original["state"] == "sale"
    assert (await recon.run("orders")).items == []


async def test_line_added_in_the_erp_is_a_total_mismatch_for_finance(
    make_recon: MakeRecon, uid: str
) -> None:
    recon = await make_recon(orders_owner="shop", auto_correct=True)
    [a, b] = await stocked_products(recon.ops, uid, {"A": 20, "B": 20})
    order_id = await _released(recon, "T", [(a, "4")], price="10")
    so_id = (await recon.flow.order(order_id)).erp["sale_orders"][0]["id"]
    product = (await recon.ops.resolve_products([b])).found[b].id
    await recon.ops.client.create(
        "sale.order.line",
        [{"order_id": so_id, "product_id": product, "product_uom_qty": 2, "price_unit": 3}],
    )

    report = await recon.run("orders")

    [item] = report.items
    assert item.type == "order_total_mismatch" and item.value == Decimal("6.00")
    assert Decimal(item.details["expected_untaxed"]) == Decimal(40)
    assert Decimal(item.details["erp_untaxed"]) == Decimal(46)
    assert item.details["basis"] == "order.confirmed"
    [exception] = await recon.drift_exceptions()
    assert exception.owner == "finance" and CORRECT not in exception.actions


async def test_order_unknown_in_the_hub(make_recon: MakeRecon, uid: str) -> None:
    began = time.time()
    recon = await make_recon()
    [a] = await stocked_products(recon.ops, uid, {"A": 5})
    resolution = await recon.ops.resolve_products([a])
    partner = await recon.ops.find_or_create_customers([recon.order("x", [(a, "1")]).customer])
    [so] = await recon.ops.client.create(
        "sale.order",
        [
            {
                "partner_id": next(iter(partner.done.values())),
                "client_order_ref": f"{recon.channel}:MANUAL-{uid}",
                "order_line": [
                    (
                        0,
                        0,
                        {
                            "product_id": resolution.found[a].id,
                            "product_uom_qty": 2,
                            "price_unit": 7,
                        },
                    )
                ],
            }
        ],
    )

    report = await recon.run("orders")

    [item] = report.items
    assert item.type == "order_unknown_in_hub" and item.subject == f"sale_order:{so}"
    now = time.time()  # the age: at most the test's time, plus Odoo's whole-second dates
    assert item.value == Decimal(14) and item.age_s(now) <= now - began + 1


async def test_missing_order_is_redriven_through_the_flow_when_the_channel_owns_orders(
    make_recon: MakeRecon, uid: str
) -> None:
    recon = await make_recon(orders_owner="shop", auto_correct=True)
    [a] = await stocked_products(recon.ops, uid, {"A": 5})
    order = recon.order("M", [(a, "2")], price="11")
    order_id = await recon.accepted_without_event(order)

    report = await recon.run("orders")

    [item] = report.items
    assert item.type == "order_missing_in_erp" and item.value == Decimal(22)
    assert item.state == "correcting" and item.correction is not None
    assert item.correction["action"] == "redrive" and report.run.corrected == 1
    redriven = await recon.flow.wait_state(order_id, "released")
    assert [so["client_order_ref"] for so in redriven.erp["sale_orders"]] == [
        f"{recon.channel}:{order.external_ref}"
    ]
    [accepted] = await recon.flow.events(order_id, "order.accepted")
    assert accepted.source == "crossdock.reconciliation"
    assert accepted.data["redrive"]["drift_item"] == item.id

    again = await recon.run("orders")

    assert again.items == [] and [c.resolution for c in again.closed] == ["corrected"]
    assert len(await recon.flow.sale_orders(order)) == 1


async def test_missing_order_opens_an_exception_when_the_erp_owns_orders(
    make_recon: MakeRecon, uid: str
) -> None:
    recon = await make_recon(auto_correct=True)
    [a] = await stocked_products(recon.ops, uid, {"A": 5})
    order_id = await recon.accepted_without_event(recon.order("E", [(a, "1")]))

    report = await recon.run("orders")

    [item] = report.items
    assert item.type == "order_missing_in_erp" and item.state == "open"
    assert report.run.corrected == 0 and report.run.exceptions == 1
    [exception] = await recon.drift_exceptions()
    assert exception.type == "order_missing_in_erp" and "owns orders" in exception.reason
    assert (await recon.flow.order(order_id)).state == "accepted"


async def test_an_order_younger_than_the_grace_period_is_not_missing(
    make_recon: MakeRecon, uid: str
) -> None:
    recon = await make_recon(orders={"missing_after_s": 3600})
    [a] = await stocked_products(recon.ops, uid, {"A": 5})
    await recon.accepted_without_event(recon.order("Y", [(a, "1")]))

    assert (await recon.run("orders")).items == []


async def test_an_order_waiting_for_a_person_is_not_missing(
    make_recon: MakeRecon, uid: str
) -> None:
    recon = await make_recon()
    [a] = await stocked_products(recon.ops, uid, {"A": 5})
    outcome = await recon.ops.find_or_create_customers([recon.order("h", [(a, "1")]).customer])
    await recon.ops.client.write("res.partner", list(outcome.done.values()), {"credit_limit": 1})
    [held] = await recon.flow.accept(recon.order("H", [(a, "1")]))
    await recon.flow.wait_exception(held, "credit_hold")

    assert (await recon.run("orders")).items == []


async def test_person_resolving_with_correct_applies_the_owners_value(
    make_recon: MakeRecon, uid: str
) -> None:
    recon = await make_recon(orders_owner="shop", hub=True)  # automatic correction off
    [a] = await stocked_products(recon.ops, uid, {"A": 5})
    order_id = await recon.accepted_without_event(recon.order("R", [(a, "1")]))
    first = await recon.run("orders")
    assert [i.type for i in first.items] == ["order_missing_in_erp"]
    [exception] = await recon.drift_exceptions()
    assert exception.actions == [CORRECT, FIXED, IGNORE]
    assert "`correct` would hand the order to the order-to-cash flow again" in exception.reason

    await recon.resolve(exception.id, "correct")

    await recon.flow.wait_state(order_id, "released")
    runs = await recon.runs()
    assert any(r.trigger == "exception" and r.corrected == 1 for r in runs)


async def test_ignored_item_gets_no_new_exception_while_it_lasts(
    make_recon: MakeRecon, uid: str
) -> None:
    recon = await make_recon()
    [a] = await stocked_products(recon.ops, uid, {"A": 20})
    order_id = await _released(recon, "I", [(a, "1")])
    await _duplicate(recon, order_id)
    await recon.run("orders")
    [exception] = await recon.drift_exceptions()
    await recon.resolve(exception.id, IGNORE)

    report = await recon.run("orders")

    assert len(report.items) == 1 and report.run.exceptions == 0
    assert await recon.drift_exceptions() == []
