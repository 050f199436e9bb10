"""Contract: the reads reconciliation compares with — sale orders by natural-key prefix (duplicates
and cancelled ones included) with amounts, their lines' delivered and invoiced quantities, their
invoices, the delivery date promised per line, and the quants of a warehouse with product costs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from crossdock.connectors.odoo import OdooOperations, StockSetting
from tests.contract.odoo.conftest import order, stocked_products


async def test_sale_orders_by_prefix_include_duplicates_and_amounts(
    ops: OdooOperations, uid: str
) -> None:
    [a] = await stocked_products(ops, uid, {"A": 10})
    channel = f"rc{uid}"
    created = await ops.create_sale_orders(
        [
            order(f"{uid}-1", f"c-{uid}", [(a, "2")], channel=channel),
            order(f"{uid}-2", f"c-{uid}", [(a, "3")], channel=channel),
        ]
    )
    first = created.done[f"{channel}:{uid}-1"]
    # a duplicate made behind the natural key's back (a person copying the order in Odoo)
    [partner] = await ops.client.read("sale.order", [first.id], ["partner_id"])
    [dup] = await ops.client.create(
        "sale.order",
        [
            {
                "partner_id": partner["partner_id"][0],
                "client_order_ref": f"{channel}:{uid}-1",
                "order_line": [(0, 0, {"product_id": (await _product(ops, a)), "price_unit": 10})],
            }
        ],
    )
    await ops.cancel_sale_orders([created.done[f"{channel}:{uid}-2"].id])

    found = await ops.list_sale_orders(
        ref_prefixes=[f"{channel}:"], since=datetime.now(UTC) - timedelta(hours=1)
    )

    assert [(s.client_order_ref, s.state) for s in found] == [
        (f"{channel}:{uid}-1", "draft"),
        (f"{channel}:{uid}-2", "cancel"),
        (f"{channel}:{uid}-1", "draft"),
    ]
    assert found[0].id == first.id and found[2].id == dup
    assert found[0].amount_untaxed == Decimal(20) and found[1].amount_untaxed == Decimal(30)
    assert found[0].currency == "USD" and found[0].company_id > 0
    assert not await ops.list_sale_orders(
        ref_prefixes=[f"{channel}:"], since=datetime.now(UTC) + timedelta(hours=1)
    )
    by_ref = await ops.list_sale_orders(refs=[f"{channel}:{uid}-1"])
    assert sorted(s.id for s in by_ref) == sorted([first.id, dup])


async def test_lines_and_invoices_of_a_partly_delivered_order(
    ops: OdooOperations, uid: str
) -> None:
    [a] = await stocked_products(ops, uid, {"A": 10})
    created = await ops.create_sale_orders([order(f"{uid}-i", f"c-{uid}", [(a, "5")])])
    order_id = created.done[f"web:{uid}-i"].id
    await ops.confirm_sale_orders([order_id])
    [picking] = await ops.delivery_pickings([order_id])
    await ops.process_picking(picking.id, {a: Decimal(3)}, backorder="create")

    [before] = await ops.sale_order_lines([order_id])
    assert (before.sku, before.quantity, before.delivered, before.invoiced) == (a, 5, 3, 0)
    assert before.net_unit_price == 10
    assert await ops.sale_order_invoices([order_id]) == []

    await ops.invoice_delivered([order_id])

    [after] = await ops.sale_order_lines([order_id])
    assert after.invoiced == 3
    [invoice] = await ops.sale_order_invoices([order_id])
    assert (invoice.state, invoice.move_type, invoice.order_ids) == (
        "posted",
        "out_invoice",
        (order_id,),
    )
    assert invoice.amount_untaxed == 30 and invoice.sign == 1 and invoice.currency == "USD"


async def test_lines_say_the_delivery_date_odoo_promises(ops: OdooOperations, uid: str) -> None:
    [a] = await stocked_products(ops, uid, {"A": 10})
    asked = date.today() + timedelta(days=9)
    dated = order(f"{uid}-d", f"c-{uid}", [(a, "2")]).model_copy(update={"requested_date": asked})
    plain = order(f"{uid}-p", f"c-{uid}", [(a, "1")])
    created = await ops.create_sale_orders([dated, plain])
    dated_id, plain_id = (created.done[f"web:{uid}-{k}"].id for k in ("d", "p"))
    before = datetime.now(UTC).date()
    await ops.confirm_sale_orders([dated_id, plain_id])
    after = datetime.now(UTC).date()
    # The date asked became the order's delivery date; without one, the day it was confirmed
    # (the products' lead time is 0).
    lines = await ops.sale_order_lines([dated_id, plain_id], scheduled=True)
    by_order = {line.order_id: line.scheduled_date for line in lines}
    assert by_order[dated_id] == asked
    assert by_order[plain_id] in {before, after}
    # Not asked for, not read.
    assert {line.scheduled_date for line in await ops.sale_order_lines([dated_id])} == {None}


async def test_warehouse_quants_with_costs(ops: OdooOperations, uid: str) -> None:
    a, b = await stocked_products(ops, uid, {"A": 7, "B": 0})
    await ops.set_stock([StockSetting(sku=b, quantity=Decimal(2))])

    quants = [q for q in await ops.warehouse_quants() if q.sku in (a, b)]

    by_sku = {q.sku: q for q in quants}
    assert set(by_sku) == {a, b}
    assert by_sku[a].quantity == 7 and by_sku[b].quantity == 2
    assert by_sku[a].main_location and by_sku[a].warehouse == "WH"
    assert by_sku[a].standard_price == 4 and by_sku[a].list_price == 10
    assert by_sku[a].lot is None


async def _product(ops: OdooOperations, sku: str) -> int:
    resolution = await ops.resolve_products([sku])
    return resolution.found[sku].id
