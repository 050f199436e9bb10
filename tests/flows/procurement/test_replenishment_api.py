"""Replenishment end to end on a MemoryErp: a run through the API, review, approval (edited,
partial, second approver), rejection, purchase orders placed by the consumer, audit entries."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from crossdock.connectors.odoo.records import PurchaseRef
from crossdock.engine import events_table
from crossdock.ops.audit import list_audit
from tests.flows.procurement.conftest import Buying, serve
from tests.support.waiting import until


async def run_and_list(b: Buying) -> list[dict[str, Any]]:
    r = await b.client.post("/v1/replenishment/runs", headers=b.auth())
    assert r.status_code == 202, r.text
    await until(b.hub.engine.idle, what="the recommendation run committed")
    got = await b.client.get(
        "/v1/replenishment/recommendations?state=pending", headers=b.auth("viewer")
    )
    items: list[dict[str, Any]] = got.json()["items"]
    return sorted(items, key=lambda r: r["supplier_ref"])


async def placed(b: Buying, ref: str) -> PurchaseRef:
    async def done() -> bool:
        got = await b.client.get(f"/v1/replenishment/recommendations/{ref}", headers=b.auth())
        return bool(got.json()["state"] == "ordered")

    await until(done, what=f"purchase order of {ref}")
    return b.erp.purchase_orders[f"crossdock:{ref}"]


async def test_run_recommends_per_supplier_with_reasons(buying: Buying) -> None:
    acme, bolt = await run_and_list(buying)
    assert (acme["supplier_ref"], acme["warehouse"], acme["state"]) == ("ACME", "WH", "pending")
    lines = {ln["sku"]: ln for ln in acme["lines"]}
    assert lines["A"]["quantity"] == "38"  # 40 - 2
    assert lines["B"]["quantity"] == "24"  # 20, raised to the supplier's minimum 24
    assert "minimum 24" in lines["B"]["reason"]
    assert acme["amount"] == "392"  # 38 x 4 + 24 x 10
    assert [ln["sku"] for ln in bolt["lines"]] == ["C"]  # D is covered


async def test_approve_with_edits_places_one_confirmed_order(buying: Buying) -> None:
    acme, _ = await run_and_list(buying)
    ref = acme["ref"]
    r = await buying.client.post(
        f"/v1/replenishment/recommendations/{ref}/approve",
        json={"lines": [{"sku": "A", "quantity": "40"}], "note": "B comes from stock transfer"},
        headers=buying.auth(),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "approved"
    assert {ln["sku"]: ln["quantity"] for ln in body["lines"]} == {"A": "40", "B": "0"}
    assert body["amount"] == "160"
    po = await placed(buying, ref)
    assert po.state == "purchase"
    got = (
        await buying.client.get(f"/v1/replenishment/recommendations/{ref}", headers=buying.auth())
    ).json()
    assert got["purchase_order"] == po.name
    assert [s["step"] for s in got["timeline"]] == ["recommended", "approved", "ordered", "sent"]
    # the purchase order went out as `purchase.ordered`, with the approved lines only
    rows = await buying.hub.engine.db.read(
        lambda c: c.execute(
            select(events_table.c.data).where(events_table.c.type == "purchase.ordered")
        ).all()
    )
    assert len(rows) == 1
    audit = await buying.hub.engine.db.read(lambda c: list_audit(c))
    approved = [e for e in audit if e.action == "procurement.recommendation.approved"]
    assert approved and approved[0].actor == "token:buyer"
    assert approved[0].details["edited"] == {"A": "40", "B": "0"}
    # deciding again: 409
    again = await buying.client.post(
        f"/v1/replenishment/recommendations/{ref}/approve", json={}, headers=buying.auth()
    )
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")


async def test_a_second_run_updates_the_open_recommendation(buying: Buying) -> None:
    acme, _ = await run_and_list(buying)
    buying.erp.on_hand[("WH", "A")] = Decimal(5)
    again, _ = await run_and_list(buying)
    assert again["ref"] == acme["ref"]
    assert {ln["sku"]: ln["quantity"] for ln in again["lines"]}["A"] == "35"


async def test_reject_and_bad_decisions(buying: Buying) -> None:
    _, bolt = await run_and_list(buying)
    ref = bolt["ref"]
    unknown = await buying.client.post(
        "/v1/replenishment/recommendations/REC-NOPE/approve", json={}, headers=buying.auth()
    )
    assert unknown.status_code == 404
    bad_sku = await buying.client.post(
        f"/v1/replenishment/recommendations/{ref}/approve",
        json={"lines": [{"sku": "ZZZ", "quantity": "1"}]},
        headers=buying.auth(),
    )
    assert bad_sku.status_code == 422
    assert bad_sku.json()["errors"][0]["pointer"] == "/lines/0/sku"
    nothing = await buying.client.post(
        f"/v1/replenishment/recommendations/{ref}/approve",
        json={"lines": [{"sku": "C", "quantity": "0"}]},
        headers=buying.auth(),
    )
    assert nothing.status_code == 422
    negative = await buying.client.post(
        f"/v1/replenishment/recommendations/{ref}/approve",
        json={"lines": [{"sku": "C", "quantity": "-1"}]},
        headers=buying.auth(),
    )
    assert negative.status_code == 422
    viewer = await buying.client.post(
        f"/v1/replenishment/recommendations/{ref}/approve", json={}, headers=buying.auth("viewer")
    )
    assert viewer.status_code == 403
    r = await buying.client.post(
        f"/v1/replenishment/recommendations/{ref}/reject",
        json={"note": "discontinued"},
        headers=buying.auth(),
    )
    assert r.status_code == 200 and r.json()["state"] == "rejected"
    assert f"crossdock:{ref}" not in buying.erp.purchase_orders
    audit = await buying.hub.engine.db.read(lambda c: list_audit(c))
    assert any(e.action == "procurement.recommendation.rejected" for e in audit)


async def test_second_approver_above_the_threshold(db_url: str) -> None:
    async with serve(db_url, {"second_approver_above": "100"}) as b:
        acme, bolt = await run_and_list(b)
        first = await b.client.post(
            f"/v1/replenishment/recommendations/{acme['ref']}/approve", json={}, headers=b.auth()
        )
        assert first.json()["state"] == "awaiting_second"
        same = await b.client.post(
            f"/v1/replenishment/recommendations/{acme['ref']}/approve", json={}, headers=b.auth()
        )
        assert same.status_code == 409
        second = await b.client.post(
            f"/v1/replenishment/recommendations/{acme['ref']}/approve",
            json={},
            headers=b.auth("buyer2"),
        )
        assert second.json()["state"] == "approved"
        assert [a["by"] for a in second.json()["approvals"]] == ["token:buyer", "token:buyer2"]
        await placed(b, acme["ref"])
        # BOLT's (9) is below the threshold: one approver is enough
        small = await b.client.post(
            f"/v1/replenishment/recommendations/{bolt['ref']}/approve", json={}, headers=b.auth()
        )
        assert small.json()["state"] == "approved"


async def test_automatic_approval_below_a_threshold(db_url: str) -> None:
    async with serve(db_url, {"auto_approve_below": "50"}) as b:
        r = await b.client.post("/v1/replenishment/runs", headers=b.auth())
        assert r.status_code == 202

        async def bolt_ordered() -> bool:
            return any(k.startswith("crossdock:") for k in b.erp.purchase_orders)

        await until(bolt_ordered, what="the automatic approval's order")
        items = (await b.client.get("/v1/replenishment/recommendations", headers=b.auth())).json()[
            "items"
        ]
        states = {i["supplier_ref"]: i["state"] for i in items}
        assert states["ACME"] == "pending"  # 392 is above 50
        assert states["BOLT"] in ("approved", "ordered")
        bolt = next(i for i in items if i["supplier_ref"] == "BOLT")
        assert bolt["decided_by"] == "hub:auto-approval"
