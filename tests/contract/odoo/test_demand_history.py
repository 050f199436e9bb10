"""Contract: the demand history of a warehouse — a delivered sale order is a sale on its day, a
stock adjustment is no demand, and moves outside the window are left out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from crossdock.connectors.odoo import OdooOperations
from tests.contract.odoo.conftest import order, stocked_products


async def test_delivered_sales_are_demand_per_day(ops: OdooOperations, uid: str) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    a, b = await stocked_products(ops, uid, {"A": 10, "B": 10})
    created = await ops.create_sale_orders([order(f"{uid}-o", f"c-{uid}", [(a, "5"), (b, "2")])])
    order_id = created.done[f"web:{uid}-o"].id
    await ops.confirm_sale_orders([order_id])
    [picking] = await ops.delivery_pickings([order_id])
    await ops.process_picking(picking.id, {a: Decimal(3), b: Decimal(2)}, backorder="create")
    after = datetime.now(UTC) + timedelta(seconds=5)

    moves = await ops.demand_history(["WH"], since=before, until=after)

    mine = sorted((m.sku, m.kind, m.quantity) for m in moves if m.sku in (a, b))
    assert mine == [(a, "sale", Decimal(3)), (b, "sale", Decimal(2))]  # the adjustments: none
    assert {m.day for m in moves if m.sku in (a, b)} == {datetime.now(UTC).date()}
    assert all(m.warehouse == "WH" for m in moves)
    later = await ops.demand_history(["WH"], since=after, until=after + timedelta(hours=1))
    assert not [m for m in later if m.sku in (a, b)]
