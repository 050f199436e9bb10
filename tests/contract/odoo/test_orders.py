"""Contract: idempotent sale orders in batches, bisection of bad orders, confirmation, errors."""

from __future__ import annotations

from decimal import Decimal

from crossdock.connectors.odoo import (
    ArchivedProductError,
    CompanyMismatchError,
    OdooBusinessError,
    OdooClient,
    OdooOperations,
    UnknownSkuError,
)
from tests.contract.odoo.conftest import Target, order, stocked_products


async def test_a_batch_of_orders_is_one_lookup_and_one_create(
    ops: OdooOperations, uid: str
) -> None:
    a, b = await stocked_products(ops, uid, {"A": 50, "B": 50})
    orders = [order(f"{uid}-{n}", f"cust-{uid}-{n % 2}", [(a, "2"), (b, "1")]) for n in range(5)]
    ops.client.stats.by_method = {}

    outcome = await ops.create_sale_orders(orders)

    assert outcome.ok and len(outcome.done) == 5 and not outcome.existing
    assert ops.client.stats.by_method["sale.order.create"] == 1
    assert ops.client.stats.by_method["sale.order.search_read"] == 1
    rows = await ops.client.search_read(
        "sale.order",
        [["client_order_ref", "like", f"web:{uid}-"]],
        ["order_line", "state", "amount_untaxed"],
    )
    assert len(rows) == 5
    assert all(len(r["order_line"]) == 2 and r["state"] == "draft" for r in rows)
    assert all(r["amount_untaxed"] == 30.0 for r in rows)


async def test_retry_after_a_crash_finds_the_order_instead_of_doubling_it(
    target: Target, uid: str
) -> None:
    first = OdooOperations(OdooClient(target.settings()))
    try:
        [sku] = await stocked_products(first, uid, {"A": 10})
        created = await first.create_sale_orders([order(f"{uid}-crash", f"c-{uid}", [(sku, "1")])])
        # the hub "crashes" here: Odoo committed the order, the hub never recorded it
    finally:
        await first.aclose()
    retry = OdooOperations(OdooClient(target.settings()))
    try:
        again = await retry.create_sale_orders([order(f"{uid}-crash", f"c-{uid}", [(sku, "1")])])
        count = await retry.client.call(
            "sale.order", "search_count", domain=[["client_order_ref", "=", f"web:{uid}-crash"]]
        )
    finally:
        await retry.aclose()

    key = f"web:{uid}-crash"
    assert again.existing == {key}
    assert again.done[key].id == created.done[key].id
    assert count == 1


async def test_bad_orders_are_isolated_and_nothing_of_them_is_created(
    ops: OdooOperations, uid: str, second_company: int
) -> None:
    good, old = await stocked_products(ops, uid, {"G": 20, "OLD": 0})
    await ops.archive_products([old])
    foreign = await ops.find_or_create_customers(
        [order("x", f"foreign-{uid}", [(good, "1")]).customer], company_id=second_company
    )
    foreign_partner = foreign.done[f"web:foreign-{uid}"]
    orders = [
        order(f"{uid}-ok1", f"c-{uid}", [(good, "1")]),
        order(f"{uid}-unknown", f"c-{uid}", [(good, "1"), (f"NOPE-{uid}", "1")]),
        order(f"{uid}-archived", f"c-{uid}", [(old, "1")]),
        # the hub already knows this customer's Odoo id: only Odoo can tell it is of company 2
        order(f"{uid}-foreign", f"foreign-{uid}", [(good, "1")], partner_id=foreign_partner),
        order(f"{uid}-ok2", f"c-{uid}", [(good, "3")]),
    ]

    outcome = await ops.create_sale_orders(orders)

    assert set(outcome.done) == {f"web:{uid}-ok1", f"web:{uid}-ok2"}
    assert isinstance(outcome.failed[f"web:{uid}-unknown"], UnknownSkuError)
    assert isinstance(outcome.failed[f"web:{uid}-archived"], ArchivedProductError)
    foreign_error = outcome.failed[f"web:{uid}-foreign"]
    assert isinstance(foreign_error, OdooBusinessError)
    assert "compan" in foreign_error.message.lower()
    for key, error in outcome.failed.items():
        assert key in (error.record or ""), error
    rows = await ops.client.search_read(
        "sale.order",
        [["client_order_ref", "like", f"web:{uid}-"]],
        ["client_order_ref"],
        context=await ops.all_companies_context(),
    )
    assert sorted(r["client_order_ref"] for r in rows) == [f"web:{uid}-ok1", f"web:{uid}-ok2"]


async def test_customer_of_another_company_is_refused_before_odoo_sees_the_order(
    ops: OdooOperations, uid: str, second_company: int
) -> None:
    [sku] = await stocked_products(ops, uid, {"A": 5})
    theirs = order("x", f"theirs-{uid}", [(sku, "1")]).customer
    await ops.find_or_create_customers([theirs], company_id=second_company)

    outcome = await ops.create_sale_orders([order(f"{uid}-1", f"theirs-{uid}", [(sku, "1")])])

    assert isinstance(outcome.failed[f"web:{uid}-1"], CompanyMismatchError)


async def test_confirming_creates_a_reserved_delivery_and_is_idempotent(
    ops: OdooOperations, uid: str
) -> None:
    a, b = await stocked_products(ops, uid, {"A": 10, "B": 1})
    created = await ops.create_sale_orders([order(f"{uid}-c", f"c-{uid}", [(a, "4"), (b, "3")])])
    order_id = created.done[f"web:{uid}-c"].id

    confirmed = await ops.confirm_sale_orders([order_id])
    again = await ops.confirm_sale_orders([order_id])

    assert confirmed.done == {order_id: "sale"} and again.existing == {order_id}
    [picking] = await ops.delivery_pickings([order_id])
    assert picking.state == "assigned" and picking.picking_type_code == "outgoing"
    moves = {m.sku: m for m in picking.moves}
    assert (moves[a].demand, moves[a].quantity, moves[a].state) == (
        Decimal(4),
        Decimal(4),
        "assigned",
    )
    assert (moves[b].demand, moves[b].quantity, moves[b].state) == (
        Decimal(3),
        Decimal(1),
        "partially_available",
    )
    [level_a, level_b] = await ops.stock_levels([a, b])
    assert (level_a.on_hand, level_a.available) == (Decimal(10), Decimal(6))
    assert (level_b.on_hand, level_b.available) == (Decimal(1), Decimal(0))


async def test_orders_of_a_mapped_channel_go_to_their_company(
    target: Target, uid: str, second_company: int
) -> None:
    ops = OdooOperations(OdooClient(target.settings(companies_by_channel={"b2b": second_company})))
    try:
        [sku] = await stocked_products(ops, uid, {"A": 5}, company_id=second_company)
        outcome = await ops.create_sale_orders(
            [order(f"{uid}-b2b", f"b2b-{uid}", [(sku, "2")], channel="b2b")]
        )
        ref = outcome.done[f"b2b:{uid}-b2b"]
        await ops.confirm_sale_orders([ref.id])
        [picking] = await ops.delivery_pickings([ref.id])
    finally:
        await ops.aclose()

    assert ref.company_id == second_company
    assert picking.company_id == second_company and picking.state == "assigned"
