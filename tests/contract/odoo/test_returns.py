"""Contract: returns through the ERP port — the return picking of a delivery (made once per RMA),
its receipt, quarantine and scrap of inspected goods, and a credit note for part of the invoice
(made once per RMA, cut to the returned quantities and posted)."""

from __future__ import annotations

from decimal import Decimal

from crossdock.connectors.odoo import OdooOperations
from crossdock.connectors.odoo.returns_records import ReturnDisposal
from tests.contract.odoo.conftest import order, stocked_products


async def _quarantine_location(ops: OdooOperations) -> str:
    """A ``Quarantine`` location under the first warehouse (made once per database); its full
    name (``WH/Quarantine``)."""
    context = await ops.all_companies_context()
    found = await ops.client.search_read(
        "stock.location", [["name", "=", "Quarantine"]], ["complete_name"], context=context
    )
    if found:
        return str(found[0]["complete_name"])
    company_id = await ops.default_company_id()
    warehouse = await ops.warehouse("WH", company_id)
    [location_id] = await ops.client.create(
        "stock.location",
        [
            {
                "name": "Quarantine",
                "usage": "internal",
                "location_id": warehouse.view_location_id,
                "company_id": company_id,
            }
        ],
        context=await ops.company_context(company_id),
    )
    [row] = await ops.client.read("stock.location", [location_id], ["complete_name"])
    return str(row["complete_name"])


async def _delivered_and_invoiced(
    ops: OdooOperations, uid: str, lines: list[tuple[str, str]]
) -> tuple[int, int, int]:
    """A sale order delivered in full and invoiced: (order id, delivery id, invoice id)."""
    created = await ops.create_sale_orders([order(f"{uid}-r", f"c-{uid}", lines)])
    order_id = created.done[f"web:{uid}-r"].id
    await ops.confirm_sale_orders([order_id])
    [delivery] = await ops.delivery_pickings([order_id])
    await ops.process_picking(delivery.id, {sku: Decimal(q) for sku, q in lines})
    [invoice] = await ops.invoice_delivered([order_id])
    return order_id, delivery.id, int(invoice.refs["odoo"])


async def test_a_return_is_received_restocked_scrapped_quarantined_and_credited(
    ops: OdooOperations, uid: str
) -> None:
    quarantine = await _quarantine_location(ops)
    a, b, c = await stocked_products(ops, uid, {"A": 10, "B": 10, "C": 10})
    order_id, delivery_id, invoice_id = await _delivered_and_invoiced(
        ops, uid, [(a, "3"), (b, "2"), (c, "1")]
    )
    rma = f"RMA-{uid}"
    wanted = {a: Decimal(2), b: Decimal(1), c: Decimal(1)}

    picking = await ops.create_return_picking(rma, delivery_id, wanted)
    again = await ops.create_return_picking(rma, delivery_id, wanted)
    assert again.id == picking.id and picking.key == rma
    [levels_before] = [{lv.sku: lv.on_hand for lv in await ops.stock_levels([a, b, c])}]

    received = await ops.receive_return(picking.id, wanted)
    assert received.state == "done"
    assert (await ops.receive_return(picking.id, wanted)).state == "done"
    disposals = [
        ReturnDisposal(a, Decimal(2), "restock"),
        ReturnDisposal(b, Decimal(1), "scrap"),
        ReturnDisposal(c, Decimal(1), "quarantine"),
    ]
    names = await ops.dispose_returned(rma, picking.id, disposals, quarantine_location=quarantine)
    names_again = await ops.dispose_returned(
        rma, picking.id, disposals, quarantine_location=quarantine
    )
    assert len(names) == 2 and names_again == names
    levels = {lv.sku: lv.on_hand for lv in await ops.stock_levels([a, b, c])}
    assert levels[a] == levels_before[a] + 2  # back in stock
    assert levels[b] == levels_before[b]  # received, then scrapped
    # quarantine is an internal location of the warehouse: on hand, in another place
    context = await ops.all_companies_context()
    quants = await ops.client.search_read(
        "stock.quant",
        [["location_id.complete_name", "=", quarantine], ["product_id.default_code", "=", c]],
        ["quantity"],
        context=context,
    )
    assert sum(Decimal(str(q["quantity"])) for q in quants) == 1
    lines = await ops.sale_order_lines([order_id])
    assert {line.sku: line.delivered for line in lines} == {a: 1, b: 1, c: 0}

    billed = await ops.invoice_lines([invoice_id])
    assert billed == {invoice_id: {a: Decimal(3), b: Decimal(2), c: Decimal(1)}}
    note = await ops.create_credit_note(rma, invoice_id, {a: Decimal(2), b: Decimal(1)})
    same = await ops.create_credit_note(rma, invoice_id, {a: Decimal(2), b: Decimal(1)})
    assert same.id == note.id and note.state == "posted"
    assert note.subtotal == 30 and note.invoice_id == invoice_id
    [move] = await ops.client.read("account.move", [note.id], ["move_type", "reversed_entry_id"])
    assert move["move_type"] == "out_refund" and move["reversed_entry_id"][0] == invoice_id
    credited = await ops.client.search_read(
        "account.move.line",
        [["move_id", "=", note.id], ["display_type", "=", "product"]],
        ["product_id", "quantity"],
    )
    skus = await ops.skus_of(int(r["product_id"][0]) for r in credited)
    assert sorted((skus[r["product_id"][0]], r["quantity"]) for r in credited) == sorted(
        [(a, 2.0), (b, 1.0)]
    )


async def test_a_return_of_more_than_was_delivered_is_refused(
    ops: OdooOperations, uid: str
) -> None:
    [a] = await stocked_products(ops, uid, {"A": 5})
    _, delivery_id, invoice_id = await _delivered_and_invoiced(ops, uid, [(a, "1")])
    picking = await ops.create_return_picking(f"RMA-{uid}", delivery_id, {a: Decimal(1)})
    await ops.receive_return(picking.id, {a: Decimal(1)})
    note = await ops.create_credit_note(f"RMA-{uid}", invoice_id, {a: Decimal(1)})
    assert note.total > 0
    # a refund of that invoice's payment finds the credit note through the invoice
    [invoice] = await ops.client.read("account.move", [invoice_id], ["name"])
    [found] = await ops.credit_notes_for([str(invoice["name"])])
    assert (found.id, found.name, found.move_type) == (note.id, note.number, "out_refund")
    assert found.reverses == invoice["name"] and found.amount_total == note.total
    assert await ops.credit_notes_for([f"NOPE/{uid}"]) == []


async def test_product_categories_are_their_full_names(ops: OdooOperations, uid: str) -> None:
    context = await ops.all_companies_context()
    [root] = await ops.client.create("product.category", [{"name": f"Root {uid}"}], context=context)
    [food] = await ops.client.create(
        "product.category", [{"name": "Food", "parent_id": root}], context=context
    )
    fresh, plain = await stocked_products(ops, uid, {"F": 0, "P": 0})
    [product] = await ops.client.search_read(
        "product.product", [["default_code", "=", fresh]], ["id"], context=context
    )
    await ops.client.write("product.product", [product["id"]], {"categ_id": food}, context=context)
    found = await ops.product_categories([fresh, plain, f"CT-{uid}-NONE"])
    assert found[fresh] == f"Root {uid} / Food"
    assert f"CT-{uid}-NONE" not in found
    # a product without a category (Odoo 19 no longer puts one by default) has none to answer
    assert found.get(plain) is None or found[plain].startswith("All")
    assert await ops.product_categories([]) == {}
