"""Stock reconciliation: the ERP's quants against the warehouse's positions, per warehouse and SKU
(each test has a warehouse of its own). A count changed in the ERP is drift valued at cost; when
the WMS owns stock and correction is on, the ERP is counted to the WMS's quantity."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from crossdock.connectors.odoo import StockSetting
from crossdock.flows.reconciliation.drift_types import CORRECT, FIXED, IGNORE
from crossdock.ops.tables import audit_log
from tests.contract.odoo.conftest import stocked_products
from tests.flows.reconciliation.conftest import MakeRecon, Recon


async def _warehouse(recon: Recon) -> str:
    code = f"R{recon.uid[:4]}".upper()
    client = recon.ops.client
    info = await client.connect()
    company = info.company_id
    context = {"allowed_company_ids": [company]}
    rows = await client.search_read(
        "stock.warehouse", [["code", "=", code]], ["id"], context=context
    )
    if not rows:
        await client.create(
            "stock.warehouse",
            [{"name": f"Reconciliation {code}", "code": code, "company_id": company}],
            context=context,
        )
    return code


async def _stocked(recon: Recon, quantities: dict[str, int]) -> tuple[str, list[str]]:
    code = await _warehouse(recon)
    skus = await stocked_products(recon.ops, recon.uid, {k: 0 for k in quantities})
    await recon.ops.set_stock(
        [
            StockSetting(sku=sku, quantity=Decimal(q), warehouse=code)
            for sku, q in zip(skus, quantities.values(), strict=True)
            if q
        ]
    )
    return code, skus


async def test_matching_counts_have_no_drift(make_recon: MakeRecon) -> None:
    recon = await make_recon()
    code, [a, b] = await _stocked(recon, {"A": 5, "B": 7})
    await recon.positions(code, {a: "5", b: "7"})

    report = await recon.run("stock")

    assert report.run.checked == 2 and report.items == []


async def test_changed_erp_count_is_drift_valued_at_cost(make_recon: MakeRecon) -> None:
    recon = await make_recon(auto_correct=True)  # the ERP owns stock: nothing is applied
    code, [a, b, c] = await _stocked(recon, {"A": 5, "B": 7, "C": 3})
    await recon.positions(code, {a: "5", b: "7", c: "3"})
    await recon.ops.set_stock([StockSetting(sku=a, quantity=Decimal(2), warehouse=code)])

    report = await recon.run("stock")

    [item] = report.items
    assert item.type == "stock_drift" and item.subject == f"stock:{code}:{a}"
    assert item.details["erp_quantity"] == "2" and item.details["wms_quantity"] == "5"
    assert item.value == Decimal(12)  # 3 units at a cost of 4
    assert "owns stock" in item.details["not_corrected"]
    [exception] = await recon.drift_exceptions()
    assert exception.type == "stock_drift" and exception.owner == "operations"
    assert exception.subject == f"drift:stock:{code}:{a}"


async def test_wms_count_is_applied_when_the_wms_owns_stock(make_recon: MakeRecon) -> None:
    recon = await make_recon(stock_owner="wms", auto_correct=True)
    code, [a, b, c] = await _stocked(recon, {"A": 5, "B": 4, "C": 0})
    # the WMS counts 8 of A, nothing of B (the ERP still has 4), 6 of C (the ERP has none)
    await recon.positions(code, {a: "8", b: "0", c: "6"})

    report = await recon.run("stock")

    assert report.items == [] and report.run.corrected == 3 and report.run.exceptions == 0
    assert {i.sku: i.on_hand for i in await recon.ops.stock_levels([a, b, c], warehouse=code)} == {
        a: 8,
        b: 0,
        c: 6,
    }
    closed = {i.details["sku"]: i for i in report.closed}
    assert {s: i.resolution for s, i in closed.items()} == dict.fromkeys((a, b, c), "corrected")
    assert closed[c].details["erp_quantity"] == "0"
    audits = await recon.engine.db.read(
        lambda conn: (
            conn.execute(
                select(audit_log.c.subject).where(audit_log.c.action == "reconciliation.corrected")
            )
            .scalars()
            .all()
        )
    )
    assert sorted(audits) == sorted(f"stock:{code}:{s}" for s in (a, b, c))

    assert (await recon.run("stock")).items == []


async def test_positions_still_settling_are_not_compared(make_recon: MakeRecon) -> None:
    recon = await make_recon(stock={"settle_s": 600})
    code, [a] = await _stocked(recon, {"A": 5})
    await recon.positions(code, {a: "9"}, age_s=10)

    report = await recon.run("stock")

    assert report.run.checked == 0 and report.items == []


async def test_a_correction_that_would_go_negative_is_left_to_a_person(
    make_recon: MakeRecon,
) -> None:
    recon = await make_recon(stock_owner="wms", auto_correct=True)
    code, [a] = await _stocked(recon, {"A": 0})
    info = await recon.ops.client.connect()
    warehouse = await recon.ops.warehouse(code, info.company_id)
    [shelf] = await recon.ops.client.create(
        "stock.location",
        [
            {
                "name": f"Shelf {recon.uid}",
                "location_id": warehouse.stock_location_id,
                "usage": "internal",
            }
        ],
    )
    await recon.ops.set_stock([StockSetting(sku=a, quantity=Decimal(6), location_id=shelf)])
    await recon.positions(code, {a: "2"})

    report = await recon.run("stock")

    [item] = report.items
    assert item.details["erp_quantity"] == "6" and item.correction is None
    assert "other locations" in item.details["not_corrected"]
    assert report.run.exceptions == 1


async def test_fix_closes_a_known_item_and_withdraws_its_exception(make_recon: MakeRecon) -> None:
    recon = await make_recon(stock_owner="wms")  # automatic correction off
    code, [a] = await _stocked(recon, {"A": 5})
    await recon.positions(code, {a: "3"})
    [item] = (await recon.run("stock")).items
    [exception] = await recon.drift_exceptions()
    assert exception.actions == [CORRECT, FIXED, IGNORE] and "`correct` would count" in (
        exception.reason
    )

    fixed = await recon.run("stock", fix=True)

    assert fixed.items == [] and [(c.id, c.resolution) for c in fixed.closed] == [
        (item.id, "corrected")
    ]
    [withdrawn] = await recon.drift_exceptions(state=None)
    assert withdrawn.id == exception.id and withdrawn.resolution == "withdrawn"
    [level] = await recon.ops.stock_levels([a], warehouse=code)
    assert level.on_hand == 3
