"""Contract: a sale order's lines changed in one write (quantities, added, removed lines), the
delivery following on a confirmed order, a change asked twice written once, a cancelled order
refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crossdock.connectors.odoo import OdooBusinessError, OdooOperations
from crossdock.connectors.odoo.change_records import WantedLine
from tests.contract.odoo.conftest import order, stocked_products


async def _lines(ops: OdooOperations, order_id: int) -> dict[str, Decimal]:
    return {ln.sku: ln.quantity for ln in await ops.sale_order_lines([order_id])}


async def _open_demand(ops: OdooOperations, order_id: int) -> dict[str, Decimal]:
    demand: dict[str, Decimal] = {}
    for picking in await ops.delivery_pickings([order_id]):
        if picking.state in ("done", "cancel"):
            continue
        for move in picking.moves:
            if move.state != "cancel" and move.demand:
                demand[move.sku] = demand.get(move.sku, Decimal(0)) + move.demand
    return demand


async def test_a_confirmed_order_changes_in_one_write_and_its_delivery_follows(
    ops: OdooOperations, uid: str
) -> None:
    a, b, c = await stocked_products(ops, uid, {"A": 50, "B": 50, "C": 50})
    made = await ops.create_sale_orders([order(f"{uid}-ch", f"c-{uid}", [(a, "2"), (b, "1")])])
    so = made.done[f"web:{uid}-ch"]
    await ops.confirm_sale_orders([so.id])
    ops.client.stats.by_method = {}

    change = await ops.change_sale_order_lines(
        so.id, [WantedLine(a, Decimal(5)), WantedLine(c, Decimal(3), Decimal("7.5"))]
    )

    assert change.changed == {a: (Decimal(2), Decimal(5))}
    assert change.added == {c: Decimal(3)}
    assert change.removed == {b: Decimal(1)}
    assert ops.client.stats.by_method["sale.order.write"] == 1
    # a confirmed order's line is never deleted in Odoo: the removed one stays at quantity 0
    assert await _lines(ops, so.id) == {a: Decimal(5), b: Decimal(0), c: Decimal(3)}
    assert await _open_demand(ops, so.id) == {a: Decimal(5), c: Decimal(3)}

    again = await ops.change_sale_order_lines(
        so.id, [WantedLine(a, Decimal(5)), WantedLine(c, Decimal(3), Decimal("7.5"))]
    )
    assert again.empty
    assert ops.client.stats.by_method["sale.order.write"] == 1


async def test_a_quotation_loses_a_removed_line(ops: OdooOperations, uid: str) -> None:
    a, b = await stocked_products(ops, uid, {"A": 5, "B": 5})
    made = await ops.create_sale_orders([order(f"{uid}-q", f"c-{uid}", [(a, "1"), (b, "1")])])
    so = made.done[f"web:{uid}-q"]

    change = await ops.change_sale_order_lines(so.id, [WantedLine(a, Decimal(4))])

    assert change.removed == {b: Decimal(1)} and change.changed == {a: (Decimal(1), Decimal(4))}
    assert await _lines(ops, so.id) == {a: Decimal(4)}


async def test_a_cancelled_order_is_refused_and_left_as_it_is(
    ops: OdooOperations, uid: str
) -> None:
    [a] = await stocked_products(ops, uid, {"A": 5})
    made = await ops.create_sale_orders([order(f"{uid}-x", f"c-{uid}", [(a, "1")])])
    so = made.done[f"web:{uid}-x"]
    await ops.cancel_sale_orders([so.id])

    with pytest.raises(OdooBusinessError, match=r"is cancelled"):
        await ops.change_sale_order_lines(so.id, [WantedLine(a, Decimal(3))])
    assert await _lines(ops, so.id) == {a: Decimal(1)}
