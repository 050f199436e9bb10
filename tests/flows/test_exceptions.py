"""Business problems become exceptions for a person, and their resolution moves the order on:
credit hold (approve / reject), unknown SKU (fixed, then retried), unknown customer when another
system owns customers."""

from __future__ import annotations

from crossdock.flows.exceptions import bounded, listing
from tests.contract.odoo.conftest import product, stocked_products
from tests.flows.conftest import MakeFlow
from tests.flows.harness import Flow, make_order


async def _customer_with_limit(flow: Flow, ref: str, limit: float) -> None:
    customer = make_order("x", ref, [("X", "1")]).customer
    outcome = await flow.ops.find_or_create_customers([customer])
    partner = outcome.done[f"web:{ref}"]
    await flow.ops.client.write("res.partner", [partner], {"credit_limit": limit})


async def test_credit_hold_then_approve_continues(flow: Flow, uid: str) -> None:
    [a] = await stocked_products(flow.ops, uid, {"A": 20})
    await _customer_with_limit(flow, f"c-{uid}", 50)
    order = make_order(f"CR-{uid}", f"c-{uid}", [(a, "10")])  # 100 > 50
    [order_id] = await flow.accept(order)

    held = await flow.wait_state(order_id, "credit_hold")
    exception = await flow.wait_exception(order_id, "credit_hold")
    assert exception.owner == "finance" and exception.actions == ["approve", "reject"]
    assert "over the credit limit" in exception.reason
    assert held.erp["partner_id"] and not await flow.sale_orders(order)
    [hold] = await flow.events(order_id, "order.credit_hold")
    assert hold.data["credit_limit"] == "50.00" and hold.data["exposure"] == "100.00"
    [opened] = await flow.events(order_id, "order.exception")
    assert opened.data["exception_id"] == exception.id and opened.data["owner"] == "finance"

    await flow.resolve(exception.id, "approve", "good customer")
    await flow.wait_state(order_id, "released")
    assert len(await flow.sale_orders(order)) == 1
    assert not await flow.exceptions(order_id)


async def test_credit_hold_then_reject_cancels(flow: Flow, uid: str) -> None:
    [a] = await stocked_products(flow.ops, uid, {"A": 20})
    await _customer_with_limit(flow, f"c-{uid}", 50)
    order = make_order(f"CR-{uid}", f"c-{uid}", [(a, "10")])
    [order_id] = await flow.accept(order)
    exception = await flow.wait_exception(order_id, "credit_hold")

    await flow.resolve(exception.id, "reject")

    await flow.wait_state(order_id, "cancelled")
    [cancelled] = await flow.events(order_id, "order.cancelled")
    assert (
        cancelled.data["reason"].startswith("credit rejected") and cancelled.data["by"] == "tester"
    )
    assert not await flow.sale_orders(order)


async def test_unknown_sku_is_an_exception_until_the_catalog_has_it(flow: Flow, uid: str) -> None:
    [a] = await stocked_products(flow.ops, uid, {"A": 10})
    missing = f"CT-{uid}-NEW"
    order = make_order(f"U-{uid}", f"c-{uid}", [(a, "1"), (missing, "1")])
    good = make_order(f"G-{uid}", f"c-{uid}", [(a, "1")])
    [order_id, good_id] = await flow.accept(order, good)

    exception = await flow.wait_exception(order_id, "unknown_product")
    assert exception.owner == "catalog" and missing in exception.reason
    assert (await flow.order(order_id)).state == "accepted"
    await flow.wait_state(good_id, "released")  # the rest of the batch went through
    assert not await flow.sale_orders(order)

    await flow.ops.upsert_products([product(missing)])
    await flow.stock(missing, 5)
    await flow.resolve(exception.id, "retry")
    await flow.wait_state(order_id, "released")
    assert len(await flow.sale_orders(order)) == 1


async def test_a_reason_names_a_few_unknown_skus_and_counts_the_rest(flow: Flow, uid: str) -> None:
    [a] = await stocked_products(flow.ops, uid, {"A": 10})
    missing = [f"CT-{uid}-N{i:02}" for i in range(40)]
    order = make_order(f"UM-{uid}", f"c-{uid}", [(a, "1"), *((sku, "1") for sku in missing)])
    [order_id] = await flow.accept(order)

    exception = await flow.wait_exception(order_id, "unknown_product")
    assert all(sku in exception.reason for sku in missing[:5])
    assert not any(sku in exception.reason for sku in missing[5:])
    assert exception.reason.endswith("… and 35 more")
    [opened] = await flow.events(order_id, "order.exception")
    assert opened.data["reason"] == exception.reason


async def test_archived_sku_fails_the_order_when_a_person_says_so(flow: Flow, uid: str) -> None:
    [old] = await stocked_products(flow.ops, uid, {"OLD": 3})
    await flow.ops.archive_products([old])
    flow.ops.invalidate_products()
    [order_id] = await flow.accept(make_order(f"AR-{uid}", f"c-{uid}", [(old, "1")]))
    exception = await flow.wait_exception(order_id, "unknown_product")
    assert "archived" in exception.reason

    await flow.resolve(exception.id, "fail", "discontinued")

    await flow.wait_state(order_id, "failed")
    [failed] = await flow.events(order_id, "order.failed")
    assert "discontinued" in failed.data["reason"]


async def test_unknown_customer_when_another_system_owns_customers(
    make_flow: MakeFlow, uid: str
) -> None:
    flow = await make_flow(customers_owned=False)
    [a] = await stocked_products(flow.ops, uid, {"A": 10})
    [order_id] = await flow.accept(make_order(f"UC-{uid}", f"crm-{uid}", [(a, "1")]))

    exception = await flow.wait_exception(order_id, "unknown_customer")

    assert exception.owner == "sales" and f"web:crm-{uid}" in exception.reason
    rows = await flow.ops.client.search_read(
        "res.partner", [["ref", "=", f"web:crm-{uid}"]], ["id"]
    )
    assert rows == []


def test_a_long_reason_is_cut_and_says_how_much_was_left_out() -> None:
    assert bounded("x" * 1000) == "x" * 1000
    cut = bounded("x" * 5000)
    assert cut == "x" * 1000 + " … (4,000 more characters)"
    assert listing(["A", "B"]) == "A, B"
    assert listing(list("ABCDEFG"), shown=3) == "A, B, C … and 4 more"
