"""Contract: landed costs (module ``stock_landed_costs``) on a purchase order's validated
receipts — one cost line per charge with its landed-cost product and split method, computed as
Odoo splits it, validated, idempotent by key; refused per request: no receipt yet, a product that
is not a landed cost, goods not valued at FIFO or average cost (left in draft). Skipped where the
module is not installed (the connector then refuses every request, as tested last)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from crossdock.connectors.odoo import OdooOperations
from crossdock.connectors.odoo.landed_cost_records import LandedCharge, LandedCostRequest
from crossdock.model import PurchaseOrder, Receipt
from tests.contract.odoo.conftest import product


async def _installed(ops: OdooOperations) -> None:
    if not await ops.landed_costs_installed():
        pytest.skip("the Odoo module stock_landed_costs is not installed on this database")


async def _setup(ops: OdooOperations, uid: str) -> dict[str, Any]:
    """Two goods in an average-cost category, two landed-cost services, a supplier."""
    [avco] = await ops.client.create(
        "product.category", [{"name": f"AVCO {uid}", "property_cost_method": "average"}]
    )
    a, b, std = f"LCA-{uid}", f"LCB-{uid}", f"LCS-{uid}"
    assert (await ops.upsert_products([product(a), product(b), product(std)])).ok
    found = await ops.resolve_products([a, b])
    for sku, weight in ((a, 2.0), (b, 0.5)):
        await ops.client.write(
            "product.product", [found.found[sku].id], {"categ_id": avco, "weight": weight}
        )
    freight, duty = f"LCF-{uid}", f"LCD-{uid}"
    await ops.client.create(
        "product.product",
        [
            {
                "name": f"Freight {uid}",
                "default_code": freight,
                "type": "service",
                "landed_cost_ok": True,
                "split_method_landed_cost": "by_quantity",
            },
            {
                "name": f"Duty {uid}",
                "default_code": duty,
                "type": "service",
                "landed_cost_ok": True,
                "split_method_landed_cost": "equal",
            },
        ],
    )
    await ops.client.create(
        "res.partner", [{"name": f"Supplier {uid}", "ref": f"LSUP-{uid}", "supplier_rank": 1}]
    )
    return {"a": a, "b": b, "std": std, "freight": freight, "duty": duty}


def _po(uid: str, n: int, lines: list[tuple[str, str, str]]) -> PurchaseOrder:
    return PurchaseOrder(
        external_ref=f"LC-{uid}-{n}",
        source="planner",
        supplier_ref=f"LSUP-{uid}",
        currency="USD",
        order_date=date.today(),
        warehouse="WH",
        lines=[{"sku": s, "quantity": q, "unit_price": p} for s, q, p in lines],
    )


async def _ordered(
    ops: OdooOperations, uid: str, n: int, lines: list[tuple[str, str, str]], receive: bool
) -> int:
    created = await ops.create_purchase_orders([_po(uid, n, lines)])
    order_id = created.done[f"planner:LC-{uid}-{n}"].id
    await ops.confirm_purchase_orders([order_id])
    if receive:
        receipt = Receipt(
            external_ref=f"LCR-{uid}-{n}",
            source="wms",
            warehouse="WH",
            received_at=datetime.now(UTC),
            lines=[{"sku": s, "quantity": q} for s, q, _ in lines],
        )
        assert (await ops.receive(order_id, receipt)).state == "done"
    return order_id


async def test_landed_cost_split_validated_and_idempotent(ops: OdooOperations, uid: str) -> None:
    await _installed(ops)
    p = await _setup(ops, uid)
    order_id = await _ordered(ops, uid, 1, [(p["a"], "10", "3"), (p["b"], "30", "5")], True)
    key = f"contract:LC-{uid}-1:LSUP-{uid}:INV-{uid}"
    request = LandedCostRequest(
        key=key,
        order_id=order_id,
        charges=(
            LandedCharge(p["freight"], "Freight INV", Decimal("40.00")),  # product: by_quantity
            LandedCharge(p["duty"], "Duty INV", Decimal("9.00"), "by_weight"),
            LandedCharge(p["freight"], "Insurance INV", Decimal("1.00")),
        ),
        date=date.today(),
    )
    outcome = await ops.create_landed_costs([request])
    assert outcome.ok, outcome.failed
    cost = outcome.done[key]
    assert cost.state == "done" and cost.amount_total == Decimal("50.00")
    assert len(cost.pickings) == 1 and key not in outcome.existing
    [row] = await ops.client.read(
        "stock.landed.cost", [cost.id], ["cost_lines", "picking_ids", "description"]
    )
    assert row["description"] == key and len(row["picking_ids"]) == 1
    lines = await ops.client.read(
        "stock.landed.cost.lines", row["cost_lines"], ["name", "price_unit", "split_method"]
    )
    assert sorted((ln["name"], ln["price_unit"], ln["split_method"]) for ln in lines) == [
        ("Duty INV", 9.0, "by_weight"),
        ("Freight INV", 40.0, "by_quantity"),
        ("Insurance INV", 1.0, "by_quantity"),
    ]
    adjustments = await ops.client.search_read(
        "stock.valuation.adjustment.lines",
        [["cost_id", "=", cost.id]],
        ["product_id", "additional_landed_cost", "former_cost"],
    )
    skus = await ops.skus_of(int(a["product_id"][0]) for a in adjustments)
    added: dict[str, float] = {}
    for adj in adjustments:
        sku = skus[int(adj["product_id"][0])]
        added[sku] = round(added.get(sku, 0.0) + float(adj["additional_landed_cost"]), 2)
    # freight 40 and insurance 1 by quantity (10 : 30), duty 9 by weight (20 kg : 15 kg)
    assert added == {p["a"]: 10.0 + 0.25 + 5.14, p["b"]: 30.0 + 0.75 + 3.86}
    again = await ops.create_landed_costs([request])
    assert again.existing == {key} and again.done[key].id == cost.id
    same = await ops.client.search_read("stock.landed.cost", [["description", "=", key]], ["id"])
    assert len(same) == 1


async def test_refusals_per_request(ops: OdooOperations, uid: str) -> None:
    await _installed(ops)
    p = await _setup(ops, uid)
    open_order = await _ordered(ops, uid, 2, [(p["a"], "5", "3")], receive=False)
    received = await _ordered(ops, uid, 3, [(p["b"], "4", "5")], receive=True)
    standard = await _ordered(ops, uid, 4, [(p["std"], "4", "5")], receive=True)
    freight = (LandedCharge(p["freight"], "Freight", Decimal(12)),)
    outcome = await ops.create_landed_costs(
        [
            LandedCostRequest(f"r1-{uid}", open_order, freight),
            LandedCostRequest(f"r2-{uid}", received, (LandedCharge(p["a"], "Goods", Decimal(1)),)),
            LandedCostRequest(f"r3-{uid}", standard, freight),
            LandedCostRequest(f"r4-{uid}", received, freight, validate=False),
        ]
    )
    assert set(outcome.failed) == {f"r1-{uid}", f"r2-{uid}", f"r3-{uid}"}
    assert "no validated receipt yet" in str(outcome.failed[f"r1-{uid}"])
    assert "is not a landed cost" in str(outcome.failed[f"r2-{uid}"])
    refused = str(outcome.failed[f"r3-{uid}"])
    assert "left in draft" in refused and "FIFO or average" in refused
    draft = outcome.done[f"r4-{uid}"]
    assert draft.state == "draft" and draft.amount_total == Decimal(12)
    computed = await ops.client.search_read(
        "stock.valuation.adjustment.lines", [["cost_id", "=", draft.id]], ["additional_landed_cost"]
    )
    assert [a["additional_landed_cost"] for a in computed] == [12.0]
    # the standard-cost one stays a draft in the ERP, found again by its key (not made twice)
    retried = await ops.create_landed_costs([LandedCostRequest(f"r3-{uid}", standard, freight)])
    assert "left in draft" in str(retried.failed[f"r3-{uid}"])
    same = await ops.client.search_read(
        "stock.landed.cost", [["description", "=", f"r3-{uid}"]], ["state"]
    )
    assert [r["state"] for r in same] == ["draft"]


async def test_charges_billed_on_the_orders_draft_vendor_bill(
    ops: OdooOperations, uid: str
) -> None:
    await _installed(ops)
    p = await _setup(ops, uid)
    order_id = await _ordered(ops, uid, 5, [(p["a"], "10", "3")], receive=True)
    assert len(await ops.create_vendor_bills([order_id])) == 1
    [draft] = await ops.client.read("purchase.order", [order_id], ["invoice_ids"])
    [bill_id] = draft["invoice_ids"]
    key = f"contract:LC-{uid}-5:LSUP-{uid}:INV5-{uid}"
    request = LandedCostRequest(
        key,
        order_id,
        (LandedCharge(p["freight"], "Freight INV5", Decimal("7.50")),),
        on_vendor_bill=True,
    )
    outcome = await ops.create_landed_costs([request])
    assert outcome.ok, outcome.failed
    assert outcome.done[key].vendor_bill_id == bill_id and outcome.done[key].state == "done"
    lines = await ops.client.search_read(
        "account.move.line",
        [["move_id", "=", bill_id], ["display_type", "=", "product"]],
        ["name", "quantity", "price_unit", "is_landed_costs_line"],
    )
    assert sorted((ln["price_unit"], ln["is_landed_costs_line"]) for ln in lines) == [
        (3.0, False),
        (7.5, True),
    ]
    [moved] = await ops.client.read("account.move", [bill_id], ["amount_untaxed"])
    assert moved["amount_untaxed"] == 37.5
    again = await ops.create_landed_costs([request])  # found: no second set of lines
    assert again.existing == {key}
    assert (
        len(
            await ops.client.search_read(
                "account.move.line",
                [["move_id", "=", bill_id], ["display_type", "=", "product"]],
                ["id"],
            )
        )
        == 2
    )
    [posted] = await ops.create_vendor_bills([order_id], post=True)
    assert posted.status == "posted"
