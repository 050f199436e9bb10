"""Contract: purchase orders created and confirmed in batches, and many receipts validated with
one ``button_validate`` (backorders kept or closed per policy, a refused receipt isolated)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from crossdock.connectors.odoo import OdooOperations
from crossdock.model import PurchaseOrder, Receipt
from tests.contract.odoo.conftest import product


def _po(uid: str, n: int, skus: list[str]) -> PurchaseOrder:
    return PurchaseOrder(
        external_ref=f"PB-{uid}-{n}",
        source="planner",
        supplier_ref=f"SUP-{uid}",
        currency="USD",
        order_date=date.today(),
        warehouse="WH",
        lines=[{"sku": sku, "quantity": "10", "unit_price": "3"} for sku in skus],
    )


def _receipt(uid: str, n: int, lines: list[tuple[str, str]]) -> Receipt:
    return Receipt(
        external_ref=f"RB-{uid}-{n}",
        source="wms",
        warehouse="WH",
        received_at=datetime.now(UTC),
        lines=[{"sku": sku, "quantity": qty} for sku, qty in lines],
    )


def _calls(ops: OdooOperations, method: str) -> int:
    return (ops.client.stats.by_method or {}).get(method, 0)


async def test_orders_in_one_batch_and_receipts_validated_together(
    ops: OdooOperations, uid: str
) -> None:
    a, b, t = f"PB-{uid}-A", f"PB-{uid}-B", f"PB-{uid}-T"
    assert (await ops.upsert_products([product(a), product(b), product(t, tracking="lot")])).ok
    await ops.client.create(
        "res.partner", [{"name": f"Supplier {uid}", "ref": f"SUP-{uid}", "supplier_rank": 1}]
    )
    orders = [_po(uid, n, [a, b]) for n in range(5)] + [_po(uid, 5, [t])]
    creates = _calls(ops, "purchase.order.create")
    created = await ops.create_purchase_orders(orders)
    assert created.ok and len(created.done) == 6
    assert _calls(ops, "purchase.order.create") == creates + 1
    again = await ops.create_purchase_orders(orders[:2])
    assert again.existing == set(again.done) and len(again.done) == 2
    ids = [created.done[f"planner:PB-{uid}-{n}"].id for n in range(6)]
    await ops.confirm_purchase_orders(ids)
    await ops.confirm_purchase_orders(ids)  # twice is harmless
    states = await ops.client.read("purchase.order", ids, ["state"])
    assert {r["state"] for r in states} == {"purchase"}

    validates = _calls(ops, "stock.picking.button_validate")
    outcome = await ops.receive_many(
        [
            (ids[0], _receipt(uid, 0, [(a, "10"), (b, "10")])),  # all
            (ids[1], _receipt(uid, 1, [(a, "4"), (b, "10")])),  # short: backorder
            (ids[2], _receipt(uid, 2, [(a, "10"), ("NOPE", "1")])),  # not on the order
        ],
        backorder="create",
    )
    assert set(outcome.done) == {ids[0], ids[1]} and set(outcome.failed) == {ids[2]}
    assert "NOPE" in str(outcome.failed[ids[2]])
    assert _calls(ops, "stock.picking.button_validate") == validates + 1
    full, short = outcome.done[ids[0]], outcome.done[ids[1]]
    assert full.state == "done" and full.backorder_ids == ()
    assert short.state == "done" and len(short.backorder_ids) == 1
    assert short.wizards == ("stock.backorder.confirmation.process",)
    [rest] = [p for p in await ops.receipt_pickings([ids[1]]) if p.id == short.backorder_ids[0]]
    assert [(m.sku, m.demand) for m in rest.moves] == [(a, 6)]

    # closed per policy: the rest of a short receipt is not kept; a tracked receipt without
    # its lot is refused alone (bisected out); nothing left to receive → refused
    outcome = await ops.receive_many(
        [
            (ids[3], _receipt(uid, 3, [(a, "2"), (b, "2")])),
            (ids[5], _receipt(uid, 5, [(t, "10")])),
            (ids[1], _receipt(uid, 6, [(a, "3")])),
            (ids[0], _receipt(uid, 7, [(a, "1")])),
        ],
        backorder="cancel",
    )
    assert set(outcome.done) == {ids[3], ids[1]}
    assert set(outcome.failed) == {ids[5], ids[0]}
    assert "nothing left to receive" in str(outcome.failed[ids[0]])
    for order_id in (ids[3], ids[1]):
        assert outcome.done[order_id].state == "done"
        assert outcome.done[order_id].backorder_ids == ()
    [tracked] = await ops.receipt_pickings([ids[5]])
    assert tracked.state == "assigned"  # untouched by its refused validation
    assert [p.state for p in await ops.receipt_pickings([ids[1]])] == ["done", "done"]

    # an order listed twice takes its second receipt in the backorder the first one left
    outcome = await ops.receive_many(
        [
            (ids[4], _receipt(uid, 8, [(a, "4"), (b, "10")])),
            (ids[4], _receipt(uid, 9, [(a, "6")])),
        ],
        backorder="create",
    )
    assert outcome.ok and outcome.done[ids[4]].backorder_ids == ()
    pickings = await ops.receipt_pickings([ids[4]])
    assert [p.state for p in pickings] == ["done", "done"]
    [level_a, level_b] = await ops.stock_levels([a, b])
    assert (level_a.on_hand, level_b.on_hand) == (10 + 4 + 2 + 3 + 10, 10 + 10 + 2 + 10)


async def test_receipts_with_their_own_backorder_policy_validated_together(
    ops: OdooOperations, uid: str
) -> None:
    a = f"PP-{uid}-A"
    assert (await ops.upsert_products([product(a)])).ok
    await ops.client.create(
        "res.partner", [{"name": f"Supplier {uid}", "ref": f"SUP-{uid}", "supplier_rank": 1}]
    )
    created = await ops.create_purchase_orders([_po(uid, n, [a]) for n in range(3)])
    ids = [created.done[f"planner:PB-{uid}-{n}"].id for n in range(3)]
    await ops.confirm_purchase_orders(ids)

    validates = _calls(ops, "stock.picking.button_validate")
    outcome = await ops.receive_many(
        [
            (ids[0], _receipt(uid, 0, [(a, "4")])),  # short, the rest kept
            (ids[1], _receipt(uid, 1, [(a, "7")])),  # short, the rest closed
            (ids[2], _receipt(uid, 2, [(a, "10")])),  # all
        ],
        policies=["create", "cancel", "cancel"],
    )
    assert outcome.ok
    assert _calls(ops, "stock.picking.button_validate") == validates + 1
    kept, closed, full = (outcome.done[i] for i in ids)
    assert (kept.state, closed.state, full.state) == ("done", "done", "done")
    assert len(kept.backorder_ids) == 1
    assert closed.backorder_ids == () and full.backorder_ids == ()
    assert kept.wizards == ("stock.backorder.confirmation.process",)
    [rest] = [p for p in await ops.receipt_pickings([ids[0]]) if p.id == kept.backorder_ids[0]]
    assert rest.state not in ("done", "cancel")
    assert [(m.sku, m.demand) for m in rest.moves] == [(a, 6)]
    assert [p.state for p in await ops.receipt_pickings([ids[1]])] == ["done"]
    [level] = await ops.stock_levels([a])
    assert level.on_hand == 4 + 7 + 10
