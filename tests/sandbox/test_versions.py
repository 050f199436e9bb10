"""Odoo 16 and 17 as the sandbox plays them, driven through the connector: the version's product
fields (``detailed_type`` on 16-17, ``is_storable`` from 18), the version's move fields
(``quantity_done`` on 16; ``quantity`` + ``picked`` from 17), and a whole sale — confirm, deliver
(fully, then partly with a backorder) and invoice — on each."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import pytest

from crossdock.connectors.odoo import (
    OdooBusinessError,
    OdooClient,
    OdooOperations,
    StockSetting,
)
from crossdock.model import Money, Order, Product
from crossdock.sandbox.odoo import SandboxServer
from tests.sandbox.conftest import quick, settings_for


@pytest.fixture(scope="module", params=[16, 17])
def server(request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    with SandboxServer(quick(version=request.param)) as s:
        yield s


@pytest.fixture
async def ops(server: SandboxServer) -> AsyncIterator[OdooOperations]:
    operations = OdooOperations(OdooClient(settings_for(server)))
    await operations.client.connect()
    try:
        yield operations
    finally:
        await operations.aclose()


async def stocked(ops: OdooOperations, prefix: str, quantities: dict[str, int]) -> list[str]:
    skus = [f"{prefix}-{name}" for name in quantities]
    outcome = await ops.upsert_products(
        [
            Product(
                external_ref=sku,
                source="test",
                sku=sku,
                name=f"Product {sku}",
                list_price=Money(amount="10", currency="USD"),
            )
            for sku in skus
        ]
    )
    assert outcome.ok, outcome.failed
    await ops.set_stock(
        [
            StockSetting(sku=sku, quantity=Decimal(q))
            for sku, q in zip(skus, quantities.values(), strict=True)
        ]
    )
    return skus


async def confirmed_order(ops: OdooOperations, ref: str, lines: list[tuple[str, str]]) -> int:
    order = Order(
        external_ref=ref,
        source="web",
        channel="web",
        currency="USD",
        customer={"external_ref": f"c-{ref}", "name": f"Customer {ref}"},
        lines=[{"sku": sku, "quantity": qty, "unit_price": "10"} for sku, qty in lines],
    )
    created = await ops.create_sale_orders([order])
    order_id = created.done[f"web:{ref}"].id
    confirmed = await ops.confirm_sale_orders([order_id])
    assert confirmed.done == {order_id: "sale"}
    return order_id


async def test_the_version_is_detected_and_its_product_fields_are_used(
    ops: OdooOperations, server: SandboxServer
) -> None:
    [sku] = await stocked(ops, f"V{server.settings.version}-P", {"A": 1})
    [info] = (await ops.resolve_products([sku])).found.values()
    [row] = await ops.client.read("product.product", [info.id], ["type", "detailed_type"])

    assert ops.client.info.major == server.settings.version
    assert (row["type"], row["detailed_type"]) == ("product", "product") and info.storable
    with pytest.raises(OdooBusinessError, match="is_storable"):  # an 18+ field
        await ops.client.read("product.product", [info.id], ["is_storable"])


async def test_move_fields_of_the_version(ops: OdooOperations, server: SandboxServer) -> None:
    version = server.settings.version
    fields = await ops.client.call("stock.move", "fields_get", attributes=["type"])

    assert ("quantity_done" in fields) is (version == 16)
    assert ("quantity" in fields) is (version >= 17)
    assert ("picked" in fields) is (version >= 17)


async def test_a_whole_sale_confirm_deliver_invoice(
    ops: OdooOperations, server: SandboxServer
) -> None:
    version = server.settings.version
    a, b = await stocked(ops, f"V{version}-S", {"A": 10, "B": 10})
    order_id = await confirmed_order(ops, f"v{version}-whole", [(a, "5"), (b, "2")])
    [picking] = await ops.delivery_pickings([order_id])
    reserved_before = {m.sku: m.quantity for m in picking.moves}

    result = await ops.process_picking(picking.id, {a: Decimal(5), b: Decimal(2)})
    [invoice] = await ops.invoice_delivered([order_id])

    assert picking.state == "assigned"
    # what a move reports before processing: 16 counts only what was done, 17 what is reserved
    assert reserved_before == ({a: 0, b: 0} if version == 16 else {a: 5, b: 2})
    assert (result.state, result.wizards, result.backorder_ids) == ("done", (), ())
    move_ids = [m.id for m in picking.moves]
    done_field = "quantity_done" if version == 16 else "quantity"
    moves = await ops.client.read("stock.move", move_ids, [done_field, "state"])
    assert sorted(m[done_field] for m in moves) == [2.0, 5.0]
    assert {m["state"] for m in moves} == {"done"}
    if version >= 17:
        picked = await ops.client.read("stock.move", move_ids, ["picked"])
        assert all(m["picked"] for m in picked)
    levels = {level.sku: level.on_hand for level in await ops.stock_levels([a, b])}
    assert levels == {a: 5, b: 8}
    assert invoice.status == "posted"
    assert sorted((line.sku, line.quantity) for line in invoice.lines) == sorted(
        [(a, Decimal(5)), (b, Decimal(2))]
    )
    assert invoice.subtotal == 70


async def test_a_partial_delivery_leaves_a_backorder_and_invoices_what_left(
    ops: OdooOperations, server: SandboxServer
) -> None:
    version = server.settings.version
    [a] = await stocked(ops, f"V{version}-B", {"A": 10})
    order_id = await confirmed_order(ops, f"v{version}-partial", [(a, "5")])
    [picking] = await ops.delivery_pickings([order_id])

    result = await ops.process_picking(picking.id, {a: Decimal(3)}, backorder="create")
    [invoice] = await ops.invoice_delivered([order_id])

    assert result.state == "done" and len(result.backorder_ids) == 1
    assert result.wizards == ("stock.backorder.confirmation.process",)
    pickings = {p.id: p for p in await ops.delivery_pickings([order_id])}
    backorder = pickings[result.backorder_ids[0]]
    assert backorder.backorder_of == picking.id and backorder.state == "assigned"
    assert [(m.sku, m.demand) for m in backorder.moves] == [(a, Decimal(2))]
    assert [(line.sku, line.quantity) for line in invoice.lines] == [(a, Decimal(3))]


async def _process_wizard(ops: OdooOperations, action: dict[str, Any]) -> Any:
    """Create the wizard an action opens, with its context, and press "process"."""
    model, context = action["res_model"], action["context"]
    [wizard] = await ops.client.create(model, [{}], context=context)
    return await ops.client.call(model, "process", [wizard], context=context)


async def test_validating_with_nothing_done_on_odoo_16_asks_for_an_immediate_transfer(
    ops: OdooOperations, server: SandboxServer
) -> None:
    version = server.settings.version
    [a] = await stocked(ops, f"V{version}-I", {"A": 3})
    order_id = await confirmed_order(ops, f"v{version}-immediate", [(a, "4")])
    [picking] = await ops.delivery_pickings([order_id])

    answer = await ops.client.call("stock.picking", "button_validate", [picking.id])

    if version == 16:  # the wizard, then "process": what was reserved is done, the rest waits
        assert isinstance(answer, dict) and answer["res_model"] == "stock.immediate.transfer"
        answer = await _process_wizard(ops, answer)
    # 16 after the wizard, and 17+ (no wizard: what is reserved is picked): the backorder question
    assert answer["res_model"] == "stock.backorder.confirmation"  # 3 of 4 reserved
    answer = await _process_wizard(ops, answer)
    pickings = {p.id: p for p in await ops.delivery_pickings([order_id])}

    assert answer is True and pickings[picking.id].state == "done"
    assert {p.state for i, p in pickings.items() if i != picking.id} == {"confirmed"}
    [level] = await ops.stock_levels([a])
    assert level.on_hand == 0


async def test_processing_nothing_is_refused_and_keeps_the_reservation(
    ops: OdooOperations, server: SandboxServer
) -> None:
    version = server.settings.version
    [a] = await stocked(ops, f"V{version}-N", {"A": 4})
    order_id = await confirmed_order(ops, f"v{version}-nothing", [(a, "4")])
    [picking] = await ops.delivery_pickings([order_id])

    with pytest.raises(OdooBusinessError, match="nothing to process"):
        await ops.process_picking(picking.id, {a: Decimal(0)})

    [after] = await ops.delivery_pickings([order_id])
    assert after.state == "assigned"
    [level] = await ops.stock_levels([a])
    assert (level.on_hand, level.available) == (Decimal(4), Decimal(0))


async def test_confirming_twice_is_harmless_on_each_version(
    ops: OdooOperations, server: SandboxServer
) -> None:
    version = server.settings.version
    [a] = await stocked(ops, f"V{version}-C", {"A": 4})
    order_id = await confirmed_order(ops, f"v{version}-twice", [(a, "2")])
    [before] = await ops.client.read("sale.order", [order_id], ["date_order"])

    again = await ops.confirm_sale_orders([order_id])

    assert again.existing == {order_id} and again.done == {order_id: "sale"}
    [after] = await ops.client.read("sale.order", [order_id], ["date_order", "picking_ids"])
    assert after["date_order"] == before["date_order"] and len(after["picking_ids"]) == 1
    if version == 16:  # Odoo 16 itself confirms a confirmed order again, without a new delivery
        assert await ops.client.call("sale.order", "action_confirm", [order_id]) is True
    else:
        with pytest.raises(OdooBusinessError, match="not in a state requiring confirmation"):
            await ops.client.call("sale.order", "action_confirm", [order_id])
    [last] = await ops.client.read("sale.order", [order_id], ["state", "picking_ids"])
    assert last["state"] == "sale" and len(last["picking_ids"]) == 1
