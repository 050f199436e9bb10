"""Visibility: lateness against the promised date on the purchase order's timeline, late orders,
and suppliers' on-time and fill rates over the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.flows.procurement.conftest import Buying
from tests.flows.procurement.test_supplier_api import ack, ordered_acme, receipt
from tests.support.waiting import until


async def test_late_orders_and_supplier_figures(buying: Buying) -> None:
    ref = await ordered_acme(buying)  # ACME: A 38, B 24 (lead time 7 days)
    promised = datetime.now(UTC).date() - timedelta(days=3)
    body = ack(
        ref,
        [
            {"sku": "A", "status": "accepted", "expected_date": promised.isoformat()},
            {"sku": "B", "status": "accepted", "expected_date": promised.isoformat()},
        ],
        status="accepted",
    )
    r = await buying.client.post(
        f"/v1/purchase-orders/{ref}/acknowledgement", json=body, headers=buying.auth()
    )
    assert r.status_code == 202, r.text
    await until(buying.hub.engine.idle, what="the acknowledgement")
    late = (await buying.client.get("/v1/replenishment/late-orders", headers=buying.auth())).json()
    assert late["items"] == [
        {
            "ref": ref,
            "supplier_ref": "ACME",
            "warehouse": "WH",
            "purchase_order": late["items"][0]["purchase_order"],
            "promised": promised.isoformat(),
            "days_late": 3,
            "ordered": "62",
            "received": "0",
        }
    ]
    figures = (await buying.client.get("/v1/replenishment/suppliers", headers=buying.auth())).json()
    [acme] = figures["items"]
    assert acme["orders"] == 1 and acme["late_open_orders"] == 1 and acme["on_time_rate"] is None
    # all of A and 22 of 24 B come a day late: complete within the under-tolerance (10%)
    came = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    grn = receipt(ref, "GRN-1", [{"sku": "A", "quantity": "38"}, {"sku": "B", "quantity": "22"}])
    r = await buying.client.post(
        f"/v1/purchase-orders/{ref}/receipts",
        json=grn | {"received_at": came},
        headers=buying.auth(),
    )
    assert r.status_code == 202, r.text
    await until(buying.hub.engine.idle, what="the receipt")
    view = (await buying.client.get(f"/v1/purchase-orders/{ref}", headers=buying.auth())).json()
    received = next(s for s in view["timeline"] if s["step"] == "received")
    assert received["details"]["promised"] == promised.isoformat()
    assert received["details"]["days_late"] == 1
    figures = (await buying.client.get("/v1/replenishment/suppliers", headers=buying.auth())).json()
    [acme] = figures["items"]
    assert acme["received_orders"] == 1 and acme["on_time_orders"] == 0
    assert acme["on_time_rate"] == "0" and acme["fill_rate"] == "0.9677"  # 60 of 62
    assert acme["late_open_orders"] == 0  # B's 2 short within tolerance: the line is closed
    late = (await buying.client.get("/v1/replenishment/late-orders", headers=buying.auth())).json()
    assert late["items"] == []
    viewer = await buying.client.get("/v1/replenishment/suppliers", headers=buying.auth("viewer"))
    assert viewer.status_code == 200
    bad = await buying.client.get("/v1/replenishment/suppliers?since_days=0", headers=buying.auth())
    assert bad.status_code == 422
