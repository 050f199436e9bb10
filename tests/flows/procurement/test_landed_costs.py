"""Landed costs over the API on a MemoryErp: a matched supplier bill's charges and a carrier's
cost bill landed on the order's receipts with the configured products and split methods, once
only; what cannot land (no receipt yet, a charge type without a product, the ERP's module
missing) is an exception for accounts payable, retried by sending the cost bill again; bad
bills are 422 problems naming the field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crossdock.api.auth import create_token
from crossdock.flows.exceptions import list_exceptions
from crossdock.flows.procurement.landed import landed_key
from tests.flows.procurement.conftest import Buying, serve
from tests.flows.procurement.test_supplier_api import bill, ordered_acme, receipt
from tests.support.waiting import until

LANDED = {
    "landed_costs": {
        "products": {"freight": "LC-FREIGHT", "duty": "LC-DUTY"},
        "split_methods": {"duty": "by_current_cost_price"},
    }
}


def cost_bill(key: str, charges: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    return {
        "external_ref": key,
        "source": "carrier-portal",
        "partner_ref": "FASTFREIGHT",
        "currency": "USD",
        "bill_date": "2026-12-20",
        "charges": charges,
        **more,
    }


async def steps(b: Buying, ref: str) -> list[dict[str, Any]]:
    view = (await b.client.get(f"/v1/purchase-orders/{ref}", headers=b.auth())).json()
    return list(view["timeline"])


async def landed_exceptions(b: Buying) -> list[Any]:
    return list(
        await b.hub.engine.db.read(lambda c: list_exceptions(c, type="procurement.landed_cost"))
    )


async def received(b: Buying, ref: str) -> None:
    grn = receipt(ref, "GRN-1", [{"sku": "A", "quantity": "38"}, {"sku": "B", "quantity": "24"}])
    r = await b.client.post(f"/v1/purchase-orders/{ref}/receipts", json=grn, headers=b.auth())
    assert r.status_code == 202, r.text
    await until(b.hub.engine.idle, what="the receipt")


async def test_supplier_bill_charges_land_once(db_url: str) -> None:
    async with serve(db_url, LANDED) as b:
        b.erp.landed_costs.products = {"LC-FREIGHT": "by_quantity", "LC-DUTY": None}
        ref = await ordered_acme(b)  # A: 38 at 4, B: 24 at 10
        await received(b, ref)
        body = bill("INV-1", [("A", "38", "4.00"), ("B", "24", "10")]) | {
            "charges": [
                {"type": "freight", "amount": "50.00", "split_method": "by_weight"},
                {"type": "duty", "amount": "12.40", "description": "Duty entry 7781"},
            ]
        }
        r = await b.client.post(f"/v1/purchase-orders/{ref}/bills", json=body, headers=b.auth())
        assert r.status_code == 202, r.text
        await until(b.hub.engine.idle, what="the bill and its charges")
        key = landed_key("crossdock", ref, "ACME", "INV-1")
        cost = b.erp.landed_costs.costs[key]
        assert cost.state == "done" and cost.amount_total == Decimal("62.40")
        freight, duty = b.erp.landed_costs.requests[key].charges
        assert (freight.product_sku, freight.amount, freight.split_method) == (
            "LC-FREIGHT",
            Decimal("50.00"),
            "by_weight",  # the charge's own split method wins
        )
        assert (duty.product_sku, duty.label, duty.split_method) == (
            "LC-DUTY",
            "Duty entry 7781",
            "by_current_cost_price",  # the configured one for its type
        )
        timeline = await steps(b, ref)
        assert [s["step"] for s in timeline][-2:] == ["billed", "landed-cost"]
        assert timeline[-1]["details"]["landed_cost"] == cost.name
        again = await b.client.post(f"/v1/purchase-orders/{ref}/bills", json=body, headers=b.auth())
        assert again.status_code == 200 and again.json()["duplicate"] is True
        await until(b.hub.engine.idle, what="nothing more")
        assert len(b.erp.landed_costs.costs) == 1
        assert b.erp.calls["create_landed_costs"] == 1
        # the same charges posted as a cost bill by the supplier under the bill's number: the
        # same natural key, answered with the landed cost made already
        same = cost_bill("INV-1", body["charges"]) | {"partner_ref": "ACME"}
        r = await b.client.post(
            f"/v1/purchase-orders/{ref}/landed-costs", json=same, headers=b.auth()
        )
        assert r.status_code == 202
        await until(b.hub.engine.idle, what="the cost bill")
        assert len(b.erp.landed_costs.costs) == 1
        last = (await steps(b, ref))[-1]
        assert last["step"] == "landed-cost" and last["details"]["again"] is True
        assert await landed_exceptions(b) == []


async def test_cost_bill_before_the_receipt_is_retried(db_url: str) -> None:
    async with serve(db_url, LANDED) as b:
        b.erp.landed_costs.products = {"LC-FREIGHT": None, "LC-DUTY": None}
        ref = await ordered_acme(b)
        body = cost_bill("FRT-1", [{"type": "freight", "amount": "285"}])
        r = await b.client.post(
            f"/v1/purchase-orders/{ref}/landed-costs", json=body, headers=b.auth()
        )
        assert r.status_code == 202, r.text
        await until(b.hub.engine.idle, what="the cost bill")
        [held] = await landed_exceptions(b)
        assert held.owner == "accounts_payable"
        assert "no validated receipt yet" in held.reason and "FRT-1" in held.reason
        assert (await steps(b, ref))[-1]["step"] == "landed-cost-held"
        assert b.erp.landed_costs.costs == {}
        await received(b, ref)
        retry = await b.client.post(
            f"/v1/purchase-orders/{ref}/landed-costs", json=body, headers=b.auth()
        )
        assert retry.status_code == 200 and retry.json()["duplicate"] is True
        await until(b.hub.engine.idle, what="the retried cost bill")
        [cost] = b.erp.landed_costs.costs.values()
        assert cost.amount_total == Decimal(285)
        assert (await steps(b, ref))[-1]["step"] == "landed-cost"
        once_more = await b.client.post(
            f"/v1/purchase-orders/{ref}/landed-costs", json=body, headers=b.auth()
        )
        assert once_more.status_code == 200  # landed: a plain duplicate now
        await until(b.hub.engine.idle, what="nothing more")
        assert b.erp.calls["create_landed_costs"] == 2


async def test_what_cannot_land_is_an_exception(db_url: str) -> None:
    async with serve(db_url, LANDED) as b:
        b.erp.landed_costs.products = {"LC-FREIGHT": None}  # LC-DUTY is not a landed cost
        ref = await ordered_acme(b)
        await received(b, ref)
        post = f"/v1/purchase-orders/{ref}/landed-costs"
        unconfigured = cost_bill("BRK-1", [{"type": "brokerage", "amount": "40"}])
        assert (await b.client.post(post, json=unconfigured, headers=b.auth())).status_code == 202
        not_landed = cost_bill("DTY-1", [{"type": "duty", "amount": "40"}])
        assert (await b.client.post(post, json=not_landed, headers=b.auth())).status_code == 202
        await until(b.hub.engine.idle, what="the cost bills")
        reasons = sorted(e.reason for e in await landed_exceptions(b))
        assert "brokerage (procurement.landed_costs.products.brokerage)" in reasons[0]
        assert "'LC-DUTY' is not a landed cost (landed_cost_ok is off)" in reasons[1]
        b.erp.landed_costs.installed = False
        uninstalled = cost_bill("FRT-9", [{"type": "freight", "amount": "1"}])
        assert (await b.client.post(post, json=uninstalled, headers=b.auth())).status_code == 202
        await until(b.hub.engine.idle, what="the third cost bill")
        assert any(
            "stock_landed_costs, which is not installed" in e.reason
            for e in await landed_exceptions(b)
        )
        assert b.erp.landed_costs.costs == {}


async def test_bad_cost_bills_are_422_problems(buying: Buying) -> None:
    ref = await ordered_acme(buying)
    post = f"/v1/purchase-orders/{ref}/landed-costs"
    cases = {
        "/charges/0/type": cost_bill("X-1", [{"type": "postage", "amount": "1"}]),
        "/charges/0/amount": cost_bill("X-2", [{"type": "freight", "amount": "-5"}]),
        "/charges/0/split_method": cost_bill(
            "X-3", [{"type": "freight", "amount": "5", "split_method": "by_mood"}]
        ),
        "/charges": cost_bill("X-4", []),
        "/total": cost_bill("X-5", [{"type": "freight", "amount": "5"}], total="6"),
        "/currency": cost_bill("X-6", [{"type": "freight", "amount": "5"}], currency="EUR"),
    }
    for pointer, body in cases.items():
        r = await buying.client.post(post, json=body, headers=buying.auth())
        assert r.status_code == 422, (pointer, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert pointer in [e["pointer"] for e in r.json()["errors"]], r.text
    unknown = await buying.client.post(
        "/v1/purchase-orders/NOPE/landed-costs",
        json=cost_bill("X-7", [{"type": "freight", "amount": "5"}]),
        headers=buying.auth(),
    )
    assert unknown.status_code == 404
    viewer = await buying.client.post(
        post,
        json=cost_bill("X-8", [{"type": "freight", "amount": "5"}]),
        headers=buying.auth("viewer"),
    )
    assert viewer.status_code == 403


async def test_charges_without_configuration_are_noted(buying: Buying) -> None:
    ref = await ordered_acme(buying)
    await received(buying, ref)
    body = bill("INV-1", [("A", "38", "4.00")]) | {
        "charges": [{"type": "freight", "amount": "50.00"}]
    }
    r = await buying.client.post(
        f"/v1/purchase-orders/{ref}/bills", json=body, headers=buying.auth()
    )
    assert r.status_code == 202
    await until(buying.hub.engine.idle, what="the bill")
    last = (await steps(buying, ref))[-1]
    assert last["step"] == "charges-noted"
    assert last["details"]["charges"] == [{"type": "freight", "amount": "50.00"}]
    assert buying.erp.calls.get("create_landed_costs") is None


async def test_retry_from_the_exceptions_queue(db_url: str) -> None:
    async with serve(db_url, LANDED) as b:
        b.erp.landed_costs.products = {"LC-FREIGHT": None}  # LC-DUTY not a landed cost yet
        ref = await ordered_acme(b)
        await received(b, ref)
        body = bill("INV-9", [("A", "38", "4.00")]) | {
            "charges": [
                {"type": "freight", "amount": "30.00"},
                {"type": "duty", "amount": "9.00"},
            ]
        }
        r = await b.client.post(f"/v1/purchase-orders/{ref}/bills", json=body, headers=b.auth())
        assert r.status_code == 202
        await until(b.hub.engine.idle, what="the bill")
        [held] = await landed_exceptions(b)
        assert "'LC-DUTY' is not a landed cost" in held.reason
        assert [s["step"] for s in await steps(b, ref)][-2:] == ["billed", "landed-cost-held"]
        b.erp.landed_costs.products["LC-DUTY"] = None  # fixed in the ERP
        ops = await b.hub.engine.writer.submit(lambda c: create_token(c, "ap", ["ops:write"]))
        r = await b.client.post(
            f"/v1/exceptions/{held.id}/resolve",
            json={"action": "retry", "note": "LC-DUTY is a landed cost now"},
            headers={"Authorization": f"Bearer {ops}"},
        )
        assert r.status_code == 200, r.text
        await until(b.hub.engine.idle, what="the charges landed again")
        key = landed_key("crossdock", ref, "ACME", "INV-9")
        assert b.erp.landed_costs.costs[key].amount_total == Decimal("39.00")
        last = (await steps(b, ref))[-1]
        assert last["step"] == "landed-cost" and last["details"]["bill"] == "INV-9"
        assert await landed_exceptions(b) == []  # resolved: none open
