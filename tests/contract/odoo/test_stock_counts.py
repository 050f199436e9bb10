"""Contract: the stock operations the inventory flow relies on — counted quantities set for many
SKUs in one batch (``stock.quant`` in inventory mode, existing quants updated in place, zero
allowed), at a warehouse's stock location or a location of its own, read back by
``stock_levels``. Runs against the sandbox and, when configured, a real Odoo."""

from __future__ import annotations

from decimal import Decimal

from crossdock.connectors.odoo import OdooOperations, StockSetting
from crossdock.connectors.odoo.mapping import m2o_id
from tests.contract.odoo.conftest import product


async def _products(ops: OdooOperations, skus: list[str]) -> dict[str, int]:
    outcome = await ops.upsert_products([product(sku) for sku in skus])
    assert outcome.ok, outcome.failed
    found = (await ops.resolve_products(skus)).found
    return {sku: found[sku].id for sku in skus}


async def test_counts_of_many_skus_are_set_in_one_batch_and_updated_in_place(
    ops: OdooOperations, uid: str
) -> None:
    skus = [f"CT-{uid}-Q{n}" for n in range(6)]
    ids = await _products(ops, skus)
    first = await ops.set_stock(
        [StockSetting(sku=s, quantity=Decimal(n + 1)) for n, s in enumerate(skus)]
    )
    assert len(first) == len(skus)
    levels = {level.sku: level.on_hand for level in await ops.stock_levels(skus)}
    assert levels == {s: n + 1 for n, s in enumerate(skus)}
    # a second count: the same quants take the new quantities (zero included)
    second = await ops.set_stock(
        [StockSetting(sku=s, quantity=Decimal(10 * n)) for n, s in enumerate(skus)]
    )
    assert sorted(second) == sorted(first)
    levels = {level.sku: level.on_hand for level in await ops.stock_levels(skus)}
    assert levels == {s: 10 * n for n, s in enumerate(skus)}
    company = await ops.default_company_id()
    stock = (await ops.warehouse(None, company)).stock_location_id
    quants = await ops.client.search_read(
        "stock.quant",
        [["product_id", "in", list(ids.values())], ["location_id", "=", stock]],
        ["product_id", "quantity"],
    )
    per_product: dict[int, int] = {}
    for quant in quants:
        pid = int(m2o_id(quant["product_id"]) or 0)
        per_product[pid] = per_product.get(pid, 0) + 1
    assert all(per_product.get(pid, 0) <= 1 for pid in ids.values())  # never a second quant


async def test_a_count_can_target_a_location_of_its_own(ops: OdooOperations, uid: str) -> None:
    sku = f"CT-{uid}-LOC"
    await _products(ops, [sku])
    company = await ops.default_company_id()
    stock = (await ops.warehouse(None, company)).stock_location_id
    [shelf] = await ops.client.create(
        "stock.location",
        [{"name": f"Shelf {uid}", "location_id": stock, "usage": "internal"}],
        context={"allowed_company_ids": [company]},
    )
    await ops.set_stock(
        [
            StockSetting(sku=sku, quantity=Decimal(4), location_id=shelf),
            StockSetting(sku=sku, quantity=Decimal(6)),
        ]
    )
    [level] = await ops.stock_levels([sku])
    assert level.on_hand == 10  # the warehouse counts its sub-locations
    product_id = (await ops.resolve_products([sku])).found[sku].id
    quants = await ops.client.search_read(
        "stock.quant",
        [["product_id", "=", product_id], ["location_id", "in", [shelf, stock]]],
        ["location_id", "quantity"],
    )
    assert {int(m2o_id(q["location_id"]) or 0): q["quantity"] for q in quants} == {
        shelf: 4,
        stock: 6,
    }
