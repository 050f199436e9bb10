"""Contract: customers by external reference, products by SKU (cache, invalidation), prices,
stock levels and inventory counts."""

from __future__ import annotations

from decimal import Decimal

from crossdock.connectors.odoo import (
    ArchivedProductError,
    OdooBusinessError,
    OdooClient,
    OdooOperations,
    UnknownCustomerError,
    UnknownSkuError,
)
from crossdock.model import Customer
from tests.contract.odoo.conftest import Target, product, stocked_products


def customer(ref: str) -> Customer:
    return Customer(
        external_ref=ref,
        source="shop",
        name=f"Customer {ref}",
        email=f"{ref}@example.com",
        address={"street": "5 Rue Haute", "city": "Liège", "postal_code": "4000", "country": "BE"},
    )


async def test_customer_is_created_once_then_found(ops: OdooOperations, uid: str) -> None:
    first = await ops.find_or_create_customers([customer(f"c1-{uid}"), customer(f"c2-{uid}")])
    again = await ops.find_or_create_customers([customer(f"c1-{uid}"), customer(f"c2-{uid}")])

    assert first.ok and not first.existing
    assert again.done == first.done
    assert again.existing == {f"shop:c1-{uid}", f"shop:c2-{uid}"}
    rows = await ops.client.search_read(
        "res.partner", [["ref", "=", f"shop:c1-{uid}"]], ["name", "city", "country_id"]
    )
    assert len(rows) == 1 and rows[0]["city"] == "Liège" and rows[0]["country_id"]


async def test_unknown_customer_is_an_error_when_another_system_owns_customers(
    target: Target, uid: str
) -> None:
    ops = OdooOperations(OdooClient(target.settings(customers_owned=False)))
    try:
        outcome = await ops.find_or_create_customers([customer(f"crm-{uid}")])
    finally:
        await ops.aclose()

    error = outcome.failed[f"shop:crm-{uid}"]
    assert isinstance(error, UnknownCustomerError)
    assert f"shop:crm-{uid}" in str(error)


async def test_products_resolve_by_sku_from_cache_until_invalidated(
    ops: OdooOperations, uid: str
) -> None:
    [sku] = await stocked_products(ops, uid, {"A": 0})
    first = await ops.resolve_products([sku])
    calls = ops.client.stats.calls
    cached = await ops.resolve_products([sku])
    assert ops.client.stats.calls == calls  # served from the cache
    assert cached.found[sku] == first.found[sku] and first.found[sku].storable

    await ops.archive_products([sku])
    ops.invalidate_products([sku])
    after = await ops.resolve_products([sku])

    assert isinstance(after.errors[sku], ArchivedProductError)


async def test_unknown_sku_is_reported_by_name(ops: OdooOperations, uid: str) -> None:
    resolution = await ops.resolve_products([f"NOPE-{uid}"])

    assert isinstance(resolution.errors[f"NOPE-{uid}"], UnknownSkuError)
    assert f"NOPE-{uid}" in str(resolution.errors[f"NOPE-{uid}"])


async def test_a_refused_product_is_bisected_out_of_its_batch(
    ops: OdooOperations, uid: str
) -> None:
    existing = await ops.upsert_products([product(f"CT-{uid}-X", barcode=f"B{uid}")])
    assert existing.ok
    batch = [product(f"CT-{uid}-{n}") for n in range(4)]
    batch.insert(2, product(f"CT-{uid}-DUP", barcode=f"B{uid}"))

    outcome = await ops.upsert_products(batch)

    assert set(outcome.done) == {f"CT-{uid}-{n}" for n in range(4)}
    error = outcome.failed[f"CT-{uid}-DUP"]
    assert type(error) is OdooBusinessError
    assert error.odoo_name == "odoo.exceptions.ValidationError"
    assert "Barcode" in error.message and f"CT-{uid}-DUP" in (error.record or "")
    nothing = await ops.client.search_read(
        "product.product", [["default_code", "=", f"CT-{uid}-DUP"]], ["id"]
    )
    assert nothing == []


async def test_prices_come_from_the_pricelist_rules(ops: OdooOperations, uid: str) -> None:
    fixed, plain = await stocked_products(ops, uid, {"F": 0, "P": 0})
    info = (await ops.resolve_products([fixed])).found[fixed]
    [pricelist] = await ops.client.create(
        "product.pricelist",
        [
            {
                "name": f"Contract {uid}",
                "item_ids": [
                    (
                        0,
                        0,
                        {
                            "applied_on": "0_product_variant",
                            "product_id": info.id,
                            "compute_price": "fixed",
                            "fixed_price": 7.5,
                        },
                    )
                ],
            }
        ],
    )

    prices = await ops.prices([fixed, plain], pricelist_id=pricelist)

    assert prices == {fixed: Decimal("7.5"), plain: Decimal("10")}


async def test_inventory_count_sets_on_hand_and_free_quantity(
    ops: OdooOperations, uid: str
) -> None:
    [sku] = await stocked_products(ops, uid, {"S": 12})

    [level] = await ops.stock_levels([sku])
    assert (level.on_hand, level.available, level.reserved) == (
        Decimal(12),
        Decimal(12),
        Decimal(0),
    )
    assert level.warehouse

    from crossdock.connectors.odoo import StockSetting

    await ops.set_stock([StockSetting(sku=sku, quantity=Decimal(5))])
    [recount] = await ops.stock_levels([sku])
    assert recount.on_hand == 5


async def test_counting_a_tracked_product_needs_a_lot(ops: OdooOperations, uid: str) -> None:
    from crossdock.connectors.odoo import StockSetting

    outcome = await ops.upsert_products([product(f"CT-{uid}-L", tracking="lot")])
    assert outcome.ok
    await ops.set_stock([StockSetting(sku=f"CT-{uid}-L", quantity=Decimal(3), lot=f"LOT-{uid}")])
    [level] = await ops.stock_levels([f"CT-{uid}-L"])
    assert level.on_hand == 3
    lots = await ops.client.search_read("stock.lot", [["name", "=", f"LOT-{uid}"]], ["name"])
    assert len(lots) == 1
    try:
        await ops.set_stock([StockSetting(sku=f"CT-{uid}-L", quantity=Decimal(1))])
    except OdooBusinessError as error:
        assert f"CT-{uid}-L" in str(error)
    else:
        raise AssertionError("a tracked product was counted without a lot")
