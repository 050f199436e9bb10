"""Landed costs end to end on Odoo (the sandbox on a real HTTP server, and a real Odoo 18/19 when
``CROSSDOCK_ODOO_*`` is set; skipped where ``stock_landed_costs`` is not installed): goods in an
average-cost category ordered through a run and an approval, received, billed with freight by
the supplier (one landed cost on the receipt, validated, the goods' cost raised), a customs
broker's bill of duty (a second one), both sent again (no third)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from crossdock.connectors.odoo import OdooClient, OdooOperations
from crossdock.flows.procurement.landed import landed_key
from tests.contract.odoo.conftest import Target, product
from tests.flows.procurement.conftest import serve
from tests.support.waiting import until


@pytest.fixture
async def ops(odoo: Target) -> AsyncIterator[OdooOperations]:
    operations = OdooOperations(OdooClient(odoo.settings()))
    await operations.client.connect()
    try:
        yield operations
    finally:
        await operations.aclose()


async def set_up(ops: OdooOperations, uid: str) -> tuple[str, list[str], dict[str, str]]:
    """A supplier, two goods at average cost with min/max rules in WH and prices, and a freight
    and a duty landed-cost product."""
    client = ops.client
    [avco] = await client.create(
        "product.category", [{"name": f"AVCO {uid}", "property_cost_method": "average"}]
    )
    skus = [f"LF-{uid}-a", f"LF-{uid}-b"]
    assert (await ops.upsert_products([product(s) for s in skus])).ok
    company = await ops.default_company_id()
    products = await ops.resolve_products(skus, company_id=company)
    await client.write(
        "product.product", [products.found[s].id for s in skus], {"categ_id": avco, "weight": 1.0}
    )
    costs = {"freight": f"LF-{uid}-freight", "duty": f"LF-{uid}-duty"}
    await client.create(
        "product.product",
        [
            {
                "name": f"{kind} {uid}",
                "default_code": sku,
                "type": "service",
                "landed_cost_ok": True,
                "split_method_landed_cost": "by_quantity",
            }
            for kind, sku in costs.items()
        ],
    )
    supplier = f"LSUP-{uid}"
    [partner] = await client.create(
        "res.partner", [{"name": f"Supplier {uid}", "ref": supplier, "is_company": True}]
    )
    warehouse = await ops.warehouse("WH", company)
    context = {"allowed_company_ids": [company]}
    await client.create(
        "stock.warehouse.orderpoint",
        [
            {
                "product_id": products.found[sku].id,
                "warehouse_id": warehouse.id,
                "location_id": warehouse.stock_location_id,
                "product_min_qty": 5,
                "product_max_qty": hi,
                "trigger": "manual",
            }
            for sku, hi in ((skus[0], 30), (skus[1], 10))
        ],
        context=context,
    )
    await client.create(
        "product.supplierinfo",
        [
            {
                "partner_id": partner,
                "product_tmpl_id": products.found[sku].template_id,
                "price": price,
                "delay": 3,
            }
            for sku, price in ((skus[0], 4.0), (skus[1], 10.0))
        ],
        context=context,
    )
    return supplier, skus, costs


async def test_bill_charges_and_a_brokers_bill_land_on_the_receipt(
    ops: OdooOperations, db_url: str
) -> None:
    if not await ops.landed_costs_installed():
        pytest.skip("the Odoo module stock_landed_costs is not installed on this database")
    uid = uuid.uuid4().hex[:8]
    supplier, (a, b), costs = await set_up(ops, uid)
    source = f"t{uid}"
    config = {
        "warehouses": ["WH"],
        "source": source,
        "post_bills": True,
        "landed_costs": {"products": costs},
    }
    async with serve(db_url, config, erp=ops) as hub:
        assert (await hub.client.post("/v1/replenishment/runs", headers=hub.auth())).is_success
        await until(hub.hub.engine.idle, what="the run")
        items = (
            await hub.client.get("/v1/replenishment/recommendations", headers=hub.auth())
        ).json()["items"]
        [mine] = [i for i in items if i["supplier_ref"] == supplier]
        ref = mine["ref"]
        assert {ln["sku"]: ln["quantity"] for ln in mine["lines"]} == {a: "30", b: "10"}
        r = await hub.client.post(
            f"/v1/replenishment/recommendations/{ref}/approve", json={}, headers=hub.auth()
        )
        assert r.status_code == 200, r.text
        await until(hub.hub.engine.idle, what="the purchase order")
        grn = {
            "external_ref": f"GRN-{uid}",
            "source": "wms",
            "warehouse": "WH",
            "purchase_order_ref": ref,
            "received_at": "2026-12-18T14:00:00Z",
            "lines": [{"sku": a, "quantity": "30"}, {"sku": b, "quantity": "10"}],
        }
        r = await hub.client.post(
            f"/v1/purchase-orders/{ref}/receipts", json=grn, headers=hub.auth()
        )
        assert r.status_code == 202, r.text
        await until(hub.hub.engine.idle, what="the receipt")
        ids = (await ops.resolve_products([a])).found[a].id
        [before] = await ops.client.read("product.product", [ids], ["standard_price"])
        bill: dict[str, Any] = {
            "external_ref": f"INV-{uid}",
            "source": "supplier-portal",
            "direction": "supplier",
            "partner_ref": supplier,
            "currency": "USD",
            "invoice_date": "2026-12-19",
            "lines": [
                {"sku": a, "description": a, "quantity": "30", "unit_price": "4"},
                {"sku": b, "description": b, "quantity": "10", "unit_price": "10"},
            ],
            "charges": [{"type": "freight", "amount": "40.00"}],
        }
        broker = {
            "external_ref": f"CUS-{uid}",
            "source": "broker-portal",
            "partner_ref": "BROKER",
            "currency": "USD",
            "bill_date": "2026-12-20",
            "charges": [
                {"type": "duty", "amount": "20.00", "split_method": "by_current_cost_price"}
            ],
        }
        for _ in range(2):  # the second time: duplicates, recognised
            r = await hub.client.post(
                f"/v1/purchase-orders/{ref}/bills", json=bill, headers=hub.auth()
            )
            assert r.is_success, r.text
            r = await hub.client.post(
                f"/v1/purchase-orders/{ref}/landed-costs", json=broker, headers=hub.auth()
            )
            assert r.is_success, r.text
            await until(hub.hub.engine.idle, what="the bills landed")
        keys = [
            landed_key(source, ref, supplier, f"INV-{uid}"),
            landed_key(source, ref, "BROKER", f"CUS-{uid}"),
        ]
        landed = await ops.client.search_read(
            "stock.landed.cost",
            [["description", "in", keys]],
            [
                "name",
                "description",
                "state",
                "amount_total",
                "valuation_adjustment_lines",
                "vendor_bill_id",
            ],
        )
        assert sorted((r["description"], r["state"], r["amount_total"]) for r in landed) == sorted(
            [(keys[0], "done", 40.0), (keys[1], "done", 20.0)]
        )
        [freight] = [r for r in landed if r["description"] == keys[0]]
        adjustments = await ops.client.read(
            "stock.valuation.adjustment.lines",
            freight["valuation_adjustment_lines"],
            ["quantity", "additional_landed_cost"],
        )
        assert sorted((x["quantity"], x["additional_landed_cost"]) for x in adjustments) == [
            (10.0, 10.0),  # 40 by quantity over 30 + 10
            (30.0, 30.0),
        ]
        # the supplier's freight is on its vendor bill (a landed-cost line), posted after it
        [po] = await ops.client.search_read(
            "purchase.order", [["origin", "=", f"{source}:{ref}"]], ["invoice_ids"]
        )
        [vendor_bill] = await ops.client.read(
            "account.move", po["invoice_ids"], ["state", "amount_untaxed"]
        )
        assert (
            vendor_bill["state"] == "posted" and vendor_bill["amount_untaxed"] == 30 * 4 + 100 + 40
        )
        assert freight["vendor_bill_id"][0] == vendor_bill["id"]
        [after] = await ops.client.read("product.product", [ids], ["standard_price"])
        assert after["standard_price"] > before["standard_price"]  # average cost raised
        view = (await hub.client.get(f"/v1/purchase-orders/{ref}", headers=hub.auth())).json()
        steps = [(s["step"], s["details"].get("landed_cost")) for s in view["timeline"]]
        assert [s for s, _ in steps].count("landed-cost") == 2
        assert {n for s, n in steps if s == "landed-cost"} == {r["name"] for r in landed}
