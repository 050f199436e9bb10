"""Contract: deliveries with backorders (kept or cancelled), invoices from delivered quantities,
purchase orders received with lots, vendor bills."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from crossdock.connectors.odoo import OdooOperations
from crossdock.model import PurchaseOrder, Receipt
from tests.contract.odoo.conftest import order, product, stocked_products


async def _confirmed(ops: OdooOperations, uid: str, lines: list[tuple[str, str]]) -> int:
    created = await ops.create_sale_orders([order(f"{uid}-o", f"c-{uid}", lines)])
    order_id = created.done[f"web:{uid}-o"].id
    await ops.confirm_sale_orders([order_id])
    return order_id


async def test_partial_shipment_leaves_a_backorder_for_the_rest(
    ops: OdooOperations, uid: str
) -> None:
    a, b = await stocked_products(ops, uid, {"A": 10, "B": 10})
    order_id = await _confirmed(ops, uid, [(a, "5"), (b, "2")])
    [picking] = await ops.delivery_pickings([order_id])

    result = await ops.process_picking(
        picking.id, {a: Decimal(3), b: Decimal(2)}, backorder="create"
    )

    assert result.state == "done" and len(result.backorder_ids) == 1
    assert result.wizards == ("stock.backorder.confirmation.process",)
    pickings = {p.id: p for p in await ops.delivery_pickings([order_id])}
    backorder = pickings[result.backorder_ids[0]]
    assert backorder.backorder_of == picking.id and backorder.state == "assigned"
    assert [(m.sku, m.demand) for m in backorder.moves] == [(a, Decimal(2))]
    done = {m.sku: m.quantity for m in pickings[picking.id].moves}
    assert done == {a: 3, b: 2}
    [level_a, level_b] = await ops.stock_levels([a, b])
    assert (level_a.on_hand, level_a.available) == (Decimal(7), Decimal(5))
    assert level_b.on_hand == 8


async def test_cancelled_backorder_ships_what_was_shipped_and_drops_the_rest(
    ops: OdooOperations, uid: str
) -> None:
    [a] = await stocked_products(ops, uid, {"A": 10})
    order_id = await _confirmed(ops, uid, [(a, "5")])
    [picking] = await ops.delivery_pickings([order_id])

    result = await ops.process_picking(picking.id, {a: Decimal(4)}, backorder="cancel")

    assert result.state == "done" and result.backorder_ids == ()
    assert result.wizards == ("stock.backorder.confirmation.process_cancel_backorder",)
    [level] = await ops.stock_levels([a])
    assert (level.on_hand, level.available) == (Decimal(6), Decimal(6))
    shipments = await ops.delivery_shipments([order_id])
    assert [(line.sku, line.quantity) for line in shipments[0].lines] == [(a, Decimal(4))]
    assert shipments[0].status == "shipped"


async def test_full_shipment_needs_no_wizard_and_validating_twice_is_harmless(
    ops: OdooOperations, uid: str
) -> None:
    [a] = await stocked_products(ops, uid, {"A": 3})
    order_id = await _confirmed(ops, uid, [(a, "3")])
    [picking] = await ops.delivery_pickings([order_id])

    first = await ops.process_picking(picking.id, {a: Decimal(3)})
    second = await ops.process_picking(picking.id, {a: Decimal(3)})

    assert (first.state, first.wizards, first.backorder_ids) == ("done", (), ())
    assert second.state == "done"
    [level] = await ops.stock_levels([a])
    assert level.on_hand == 0


async def test_invoice_of_delivered_quantities_is_posted_once_and_raises_credit(
    ops: OdooOperations, uid: str
) -> None:
    [a] = await stocked_products(ops, uid, {"A": 10})
    order_id = await _confirmed(ops, uid, [(a, "5")])
    [picking] = await ops.delivery_pickings([order_id])
    await ops.process_picking(picking.id, {a: Decimal(2)}, backorder="create")
    [so] = await ops.client.read("sale.order", [order_id], ["partner_id"])
    partner_id = so["partner_id"][0]
    credit_before, _ = await ops.customer_credit(partner_id)

    [invoice] = await ops.invoice_delivered([order_id])
    again = await ops.invoice_delivered([order_id])

    assert invoice.status == "posted" and invoice.external_ref.startswith("INV/")
    assert [(line.sku, line.quantity, line.unit_price) for line in invoice.lines] == [
        (a, Decimal(2), Decimal(10))
    ]
    assert invoice.subtotal == 20 and invoice.partner_ref == f"web:c-{uid}"
    assert [i.refs for i in again] == [invoice.refs]
    credit_after, _ = await ops.customer_credit(partner_id)
    assert Decimal(str(credit_after)) - Decimal(str(credit_before)) == invoice.total


async def test_purchase_is_received_with_lots_and_billed(ops: OdooOperations, uid: str) -> None:
    plain = f"CT-{uid}-P"
    tracked = f"CT-{uid}-T"
    assert (await ops.upsert_products([product(plain), product(tracked, tracking="lot")])).ok
    [_supplier] = await ops.client.create(
        "res.partner", [{"name": f"Supplier {uid}", "ref": f"SUP-{uid}", "supplier_rank": 1}]
    )
    po = PurchaseOrder(
        external_ref=f"PO-{uid}",
        source="planner",
        supplier_ref=f"SUP-{uid}",
        currency="USD",
        order_date=date.today(),
        warehouse="WH",
        lines=[
            {"sku": plain, "quantity": "10", "unit_price": "4"},
            {"sku": tracked, "quantity": "5", "unit_price": "6"},
        ],
    )

    created = await ops.create_purchase_orders([po])
    again = await ops.create_purchase_orders([po])
    ref = created.done[f"planner:PO-{uid}"]
    assert again.existing == {f"planner:PO-{uid}"} and again.done[f"planner:PO-{uid}"].id == ref.id
    await ops.confirm_purchase_orders([ref.id])
    receipt = Receipt(
        external_ref=f"R-{uid}",
        source="wms",
        warehouse="WH",
        received_at=datetime.now(UTC),
        lines=[
            {"sku": plain, "quantity": "6"},
            {"sku": tracked, "quantity": "5", "lot": f"L-{uid}"},
        ],
    )
    result = await ops.receive(ref.id, receipt, backorder="create")
    bills = await ops.create_vendor_bills([ref.id], post=True)

    assert result.state == "done" and len(result.backorder_ids) == 1
    levels = {lv.sku: lv for lv in await ops.stock_levels([plain, tracked])}
    assert levels[plain].on_hand == 6 and levels[plain].incoming == 4
    assert levels[tracked].on_hand == 5
    lots = await ops.client.search_read("stock.lot", [["name", "=", f"L-{uid}"]], ["product_id"])
    assert len(lots) == 1
    [bill] = bills
    assert bill.direction == "supplier" and bill.status == "posted"
    assert sorted((line.sku, line.quantity) for line in bill.lines) == [
        (plain, Decimal(6)),
        (tracked, Decimal(5)),
    ]
