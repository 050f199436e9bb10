"""Procure-to-stock end to end on Odoo (the sandbox on a real HTTP server, and a real Odoo 18/19
when ``CROSSDOCK_ODOO_*`` is set): a delivered sale exported as demand history, a forecast
imported (an unknown SKU's line refused), reorder rules and vendor pricelists set up in Odoo, a run
through the API, an approval with an edited line, the purchase order created and confirmed in
Odoo once even when the approval event comes again, the supplier's acknowledgement with a changed
line applied to Odoo's order and its receipt, an advance ship notice."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from crossdock.connectors.odoo import OdooClient, OdooOperations
from crossdock.flows.procurement import APPROVED
from crossdock.flows.procurement.events import approved_event
from tests.contract.odoo.conftest import Target, stocked_products
from tests.contract.odoo.conftest import order as sale_order
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


async def set_up(ops: OdooOperations, uid: str) -> tuple[str, list[str]]:
    """A supplier, three products (stock 2, 0, 50) with min/max rules in WH and its prices."""
    skus = await stocked_products(ops, uid, {"a": 2, "b": 0, "c": 50})
    client = ops.client
    company = await ops.default_company_id()
    context = {"allowed_company_ids": [company]}
    supplier = f"SUP-{uid}"
    [partner] = await client.create(
        "res.partner", [{"name": f"Supplier {uid}", "ref": supplier, "is_company": True}]
    )
    products = await ops.resolve_products(skus, company_id=company)
    warehouse = await ops.warehouse("WH", company)
    rules = [(skus[0], 10, 40), (skus[1], 5, 20), (skus[2], 10, 30)]
    await client.create(
        "stock.warehouse.orderpoint",
        [
            {
                "product_id": products.found[sku].id,
                "warehouse_id": warehouse.id,
                "location_id": warehouse.stock_location_id,
                "product_min_qty": lo,
                "product_max_qty": hi,
                "trigger": "manual",
            }
            for sku, lo, hi in rules
        ],
        context=context,
    )
    await client.create(
        "product.supplierinfo",
        [
            {
                "partner_id": partner,
                "product_tmpl_id": products.found[sku].template_id,
                "min_qty": min_qty,
                "price": price,
                "delay": 4,
            }
            for sku, min_qty, price in ((skus[0], 0, 4.0), (skus[1], 24, 10.0), (skus[2], 0, 1.0))
        ],
        context=context,
    )
    return supplier, skus


def week(offset: int = 0) -> str:
    year, number, _ = (datetime.now(UTC).date() + timedelta(weeks=offset)).isocalendar()
    return f"{year}-W{number:02d}"


async def test_recommendation_to_confirmed_purchase_order(
    ops: OdooOperations, db_url: str, tmp_path: Path
) -> None:
    uid = uuid.uuid4().hex[:8]
    supplier, (a, b, c) = await set_up(ops, uid)
    # c sold: 21 of its 50 delivered to a customer, the history the export sends out
    sold = await ops.create_sale_orders([sale_order(f"{uid}-s", f"cust-{uid}", [(c, "21")])])
    sale_id = sold.done[f"web:{uid}-s"].id
    await ops.confirm_sale_orders([sale_id])
    [delivery] = await ops.delivery_pickings([sale_id])
    await ops.process_picking(delivery.id, {c: Decimal(21)})
    source = f"t{uid}"
    exports = tmp_path / "demand"
    forecasting = {"export_directory": str(exports), "settle_seconds": 0, "first_export_days": 2}
    async with serve(
        db_url, {"warehouses": ["WH"], "source": source}, erp=ops, forecasting=forecasting
    ) as hub:
        # history out: one file, c's sale on today's date
        export = await hub.forecasting.export(time.time() + 1)
        assert export.location is not None
        today = datetime.now(UTC).date().isoformat()
        assert f"sale,WH,{c},{today},21" in Path(export.location).read_text().splitlines()
        # forecasts in: a sells 70 a week (10 a day); one unknown SKU is refused on its own
        plan = (
            "sku,warehouse,period,quantity\n"
            f"{a},WH,{week()},70\n{a},WH,{week(1)},70\nNOPE-{uid},WH,{week()},5\n"
        )
        r = await hub.client.post(
            "/v1/forecasts?import_id=plan-1&policy=apply_valid",
            content=plan.encode(),
            headers=hub.auth() | {"content-type": "text/csv"},
        )
        assert r.status_code == 202, r.text

        async def applied() -> bool:
            got = await hub.client.get("/v1/forecasts/1", headers=hub.auth())
            return bool(got.json()["state"] == "applied")

        await until(applied, what="the forecast applied")
        version = (await hub.client.get("/v1/forecasts/1", headers=hub.auth())).json()
        assert [(p["line"], p["rule"]) for p in version["rejected"]] == [(4, "unknown_sku")]
        r = await hub.client.post("/v1/replenishment/runs", headers=hub.auth())
        assert r.status_code == 202
        await until(hub.hub.engine.idle, what="the run")
        items = (
            await hub.client.get("/v1/replenishment/recommendations", headers=hub.auth())
        ).json()["items"]
        [mine] = [i for i in items if i["supplier_ref"] == supplier]
        lines = {ln["sku"]: ln for ln in mine["lines"]}
        assert set(lines) == {a, b}  # c is above its minimum
        # a by its forecast: 10/day over lead time 4 d covers 40 > 2: up to 10 x (4 + 7) = 110
        assert lines[a]["quantity"] == "108"
        assert "forecast v1 (api) 10/day over lead time 4 d" in lines[a]["reason"]
        assert lines[b]["quantity"] == "24" and "minimum 24" in lines[b]["reason"]
        assert mine["lead_days"] == 4
        ref = mine["ref"]
        approved = await hub.client.post(
            f"/v1/replenishment/recommendations/{ref}/approve",
            json={"lines": [{"sku": a, "quantity": "40"}, {"sku": b, "quantity": "24"}]},
            headers=hub.auth(),
        )
        assert approved.status_code == 200, approved.text

        async def ordered() -> bool:
            got = await hub.client.get(
                f"/v1/replenishment/recommendations/{ref}", headers=hub.auth()
            )
            return bool(got.json()["state"] == "ordered")

        await until(ordered, what="the purchase order")
        # the approval again (a redelivery): found by its origin, not made twice
        await hub.hub.engine.append([approved_event(mine["id"], ref, "test")])
        await until(hub.hub.engine.idle, what="the redelivered approval")
        pos = await ops.client.search_read(
            "purchase.order",
            [["origin", "=", f"{source}:{ref}"]],
            ["name", "state", "partner_ref", "order_line"],
        )
        assert len(pos) == 1
        assert pos[0]["state"] == "purchase" and pos[0]["partner_ref"] == ref
        po_lines: list[dict[str, Any]] = await ops.client.read(
            "purchase.order.line", pos[0]["order_line"], ["product_qty", "price_unit"]
        )
        assert sorted((Decimal(str(ln["product_qty"])), ln["price_unit"]) for ln in po_lines) == [
            (Decimal(24), 10.0),
            (Decimal(40), 4.0),
        ]
        got = (
            await hub.client.get(f"/v1/replenishment/recommendations/{ref}", headers=hub.auth())
        ).json()
        assert got["purchase_order"] == pos[0]["name"]
        assert APPROVED  # the event type the redelivery used

        # the supplier changes a line: Odoo's order and its receipt follow
        ack = {
            "external_ref": f"ACK-{uid}",
            "source": "supplier-portal",
            "purchase_order_ref": ref,
            "supplier_ref": supplier,
            "status": "changed",
            "acknowledged_at": "2026-12-05T09:00:00Z",
            "lines": [
                {"sku": a, "status": "accepted"},
                {"sku": b, "status": "changed", "quantity": "30", "unit_price": "9.5"},
            ],
        }
        r = await hub.client.post(
            f"/v1/purchase-orders/{ref}/acknowledgement", json=ack, headers=hub.auth()
        )
        assert r.status_code == 202, r.text
        await until(hub.hub.engine.idle, what="the acknowledgement applied")
        po_lines = await ops.client.read(
            "purchase.order.line", pos[0]["order_line"], ["product_qty", "price_unit", "move_ids"]
        )
        assert sorted((ln["product_qty"], ln["price_unit"]) for ln in po_lines) == [
            (30.0, 9.5),
            (40.0, 4.0),
        ]
        moves = await ops.client.search_read(
            "stock.move",
            [["purchase_line_id", "in", [ln["id"] for ln in po_lines]], ["state", "!=", "cancel"]],
            ["product_uom_qty"],
        )
        assert sorted(m["product_uom_qty"] for m in moves) == [30.0, 40.0]
        shipped = await hub.client.post(
            f"/v1/purchase-orders/{ref}/shipments",
            json={
                "external_ref": f"ASN-{uid}",
                "source": "supplier-portal",
                "supplier_ref": supplier,
                "warehouse": "WH",
                "ship_date": "2026-12-15",
                "lines": [{"sku": a, "quantity": "40"}, {"sku": b, "quantity": "30"}],
            },
            headers=hub.auth(),
        )
        assert shipped.status_code == 202
        view = (await hub.client.get(f"/v1/purchase-orders/{ref}", headers=hub.auth())).json()
        assert [s["step"] for s in view["timeline"]][-3:] == [
            "acknowledged",
            "po-updated",
            "shipped",
        ]

        # the warehouse: a short receipt within tolerance (38 of 40) closes the order's receipt
        grn = {
            "external_ref": f"GRN-{uid}",
            "source": "wms",
            "warehouse": "WH",
            "purchase_order_ref": ref,
            "received_at": "2026-12-18T14:00:00Z",
            "lines": [{"sku": a, "quantity": "38"}, {"sku": b, "quantity": "30"}],
        }
        r = await hub.client.post(
            f"/v1/purchase-orders/{ref}/receipts", json=grn, headers=hub.auth()
        )
        assert r.status_code == 202, r.text
        await until(hub.hub.engine.idle, what="the receipt validated")
        po_lines = await ops.client.read(
            "purchase.order.line", pos[0]["order_line"], ["product_qty", "qty_received"]
        )
        assert sorted((ln["product_qty"], ln["qty_received"]) for ln in po_lines) == [
            (30.0, 30.0),
            (40.0, 38.0),
        ]
        pickings = await ops.receipt_pickings([pos[0]["id"]])
        assert [p.state for p in pickings] == ["done"]  # closed: no backorder for the 2
        # the stock that came in: the inventory flow is asked to publish its availability
        syncs = [
            e.data
            for e in await hub.hub.engine.events_after(0, 10_000)
            if e.type == "inventory.sync_requested"
        ]
        assert syncs == [{"reason": f"purchase {ref} received", "publish": sorted([a, b])}]
        # one over it: held for buying, nothing received
        over = {**grn, "external_ref": f"GRN2-{uid}", "lines": [{"sku": b, "quantity": "3"}]}
        r = await hub.client.post(
            f"/v1/purchase-orders/{ref}/receipts", json=over, headers=hub.auth()
        )
        assert r.status_code == 202
        await until(hub.hub.engine.idle, what="the over-receipt held")
        view = (await hub.client.get(f"/v1/purchase-orders/{ref}", headers=hub.auth())).json()
        assert [s["step"] for s in view["timeline"]][-2:] == ["received", "receipt-held"]

        # the supplier's invoices: one matching (a vendor bill in Odoo), one outside tolerance
        def invoice(key: str, lines: list[tuple[str, str, str]]) -> dict[str, Any]:
            return {
                "external_ref": key,
                "source": "supplier-portal",
                "direction": "supplier",
                "partner_ref": supplier,
                "currency": "USD",
                "invoice_date": "2026-12-19",
                "lines": [
                    {"sku": s, "description": s, "quantity": q, "unit_price": p}
                    for s, q, p in lines
                ],
            }

        matching = invoice(f"INV-{uid}", [(a, "38", "4"), (b, "30", "9.5")])
        r = await hub.client.post(
            f"/v1/purchase-orders/{ref}/bills", json=matching, headers=hub.auth()
        )
        assert r.status_code == 202, r.text
        off = invoice(f"INV2-{uid}", [(a, "5", "4.4")])
        r = await hub.client.post(f"/v1/purchase-orders/{ref}/bills", json=off, headers=hub.auth())
        assert r.status_code == 202
        await until(hub.hub.engine.idle, what="the bills matched")
        [order] = await ops.client.read("purchase.order", [pos[0]["id"]], ["invoice_ids"])
        assert len(order["invoice_ids"]) == 1
        view = (await hub.client.get(f"/v1/purchase-orders/{ref}", headers=hub.auth())).json()
        assert [s["step"] for s in view["timeline"]][-2:] == ["billed", "bill-held"]
