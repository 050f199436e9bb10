"""The supplier's side over the API on a MemoryErp: acknowledgements (accepted, changed, rejected
lines) applied per policy, advance ship notices, duplicates, unknown orders and bad lines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from crossdock.flows.exceptions import list_exceptions
from tests.flows.procurement.conftest import Buying, serve
from tests.flows.procurement.test_replenishment_api import placed, run_and_list
from tests.support.waiting import until


def ack(
    ref: str, lines: list[dict[str, Any]], key: str = "ACK-1", status: str = "changed"
) -> dict[str, Any]:
    return {
        "external_ref": key,
        "source": "acme-portal",
        "purchase_order_ref": ref,
        "supplier_ref": "ACME",
        "status": status,
        "acknowledged_at": "2026-12-05T09:00:00Z",
        "lines": lines,
    }


def asn(key: str = "ASN-1", sku: str = "A") -> dict[str, Any]:
    return {
        "external_ref": key,
        "source": "acme-portal",
        "supplier_ref": "ACME",
        "warehouse": "WH",
        "ship_date": "2026-12-15",
        "expected_arrival": "2026-12-18",
        "lines": [{"sku": sku, "quantity": "38", "lot": "L-26", "expiry_date": "2027-12-01"}],
    }


async def ordered_acme(b: Buying) -> str:
    acme, _ = await run_and_list(b)
    r = await b.client.post(
        f"/v1/replenishment/recommendations/{acme['ref']}/approve", json={}, headers=b.auth()
    )
    assert r.status_code == 200
    await placed(b, acme["ref"])
    return str(acme["ref"])


async def test_changed_line_is_applied_and_duplicates_recognised(buying: Buying) -> None:
    ref = await ordered_acme(buying)
    po = buying.erp.purchase_orders[f"crossdock:{ref}"]
    body = ack(
        ref,
        [
            {"sku": "A", "status": "accepted"},
            {"sku": "B", "status": "changed", "quantity": "20", "expected_date": "2026-12-20"},
        ],
    )
    r = await buying.client.post(
        f"/v1/purchase-orders/{ref}/acknowledgement", json=body, headers=buying.auth()
    )
    assert r.status_code == 202, r.text
    assert r.json()["duplicate"] is False
    await until(buying.hub.engine.idle, what="the acknowledgement applied")
    [change] = buying.erp.purchase_line_changes[po.id]
    assert (change.sku, change.quantity, change.expected_date) == (
        "B",
        Decimal(20),
        date(2026, 12, 20),
    )
    again = await buying.client.post(
        f"/v1/purchase-orders/{ref}/acknowledgement", json=body, headers=buying.auth()
    )
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["message_id"] == r.json()["message_id"]
    other = await buying.client.post(
        f"/v1/purchase-orders/{ref}/acknowledgement",
        json=ack(ref, [{"sku": "A", "status": "rejected"}]),
        headers=buying.auth(),
    )
    assert other.status_code == 409
    await until(buying.hub.engine.idle, what="nothing more")
    assert len(buying.erp.purchase_line_changes[po.id]) == 1  # applied once
    shipped = await buying.client.post(
        f"/v1/purchase-orders/{ref}/shipments", json=asn(), headers=buying.auth()
    )
    assert shipped.status_code == 202
    dup = await buying.client.post(
        f"/v1/purchase-orders/{ref}/shipments", json=asn(), headers=buying.auth()
    )
    assert dup.status_code == 200 and dup.json()["duplicate"] is True
    view = (
        await buying.client.get(f"/v1/purchase-orders/{ref}", headers=buying.auth("viewer"))
    ).json()
    assert [s["step"] for s in view["timeline"]] == [
        "recommended",
        "approved",
        "ordered",
        "sent",
        "acknowledged",
        "po-updated",
        "shipped",
    ]
    assert [(m["kind"], m["state"]) for m in view["messages"]] == [
        ("acknowledgement", "applied"),
        ("shipment", "received"),
    ]


async def test_unknown_orders_and_bad_lines(buying: Buying) -> None:
    ref = await ordered_acme(buying)
    unknown = await buying.client.post(
        "/v1/purchase-orders/REC-NOPE/acknowledgement",
        json=ack("REC-NOPE", []),
        headers=buying.auth(),
    )
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    not_ours = await buying.client.post(
        f"/v1/purchase-orders/{ref}/acknowledgement",
        json=ack(ref, [{"sku": "C", "status": "accepted"}]),
        headers=buying.auth(),
    )
    assert not_ours.status_code == 422
    assert not_ours.json()["errors"][0]["pointer"] == "/lines/0/sku"
    other_order = await buying.client.post(
        f"/v1/purchase-orders/{ref}/acknowledgement", json=ack("REC-X", []), headers=buying.auth()
    )
    assert other_order.status_code == 422
    invalid = await buying.client.post(
        f"/v1/purchase-orders/{ref}/shipments", json={"external_ref": "x"}, headers=buying.auth()
    )
    assert invalid.status_code == 422
    unknown_asn = await buying.client.post(
        "/v1/purchase-orders/NOPE/shipments", json=asn(), headers=buying.auth()
    )
    assert unknown_asn.status_code == 404
    viewer = await buying.client.post(
        f"/v1/purchase-orders/{ref}/shipments", json=asn(), headers=buying.auth("viewer")
    )
    assert viewer.status_code == 403


async def test_review_policy_opens_an_exception_for_buying(db_url: str) -> None:
    async with serve(db_url, {"acknowledgement_changes": "review"}) as b:
        ref = await ordered_acme(b)
        r = await b.client.post(
            f"/v1/purchase-orders/{ref}/acknowledgement",
            json=ack(ref, [{"sku": "B", "status": "changed", "unit_price": "11.5"}]),
            headers=b.auth(),
        )
        assert r.status_code == 202
        await until(b.hub.engine.idle, what="the acknowledgement handled")
        assert b.erp.purchase_line_changes == {}
        [exc] = await b.hub.engine.db.read(lambda c: list_exceptions(c, state="open"))
        assert exc.owner == "buying" and exc.subject == f"purchase:{ref}"
        assert "B: price 11.5" in exc.reason


def receipt(ref: str, key: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "external_ref": key,
        "source": "wms",
        "warehouse": "WH",
        "purchase_order_ref": ref,
        "received_at": "2026-12-18T14:00:00Z",
        "lines": lines,
    }


async def test_receipts_within_tolerance_over_it_and_unexpected(db_url: str) -> None:
    tolerances = {"receipt_tolerance": {"over_percent": "5", "under_percent": "10"}}
    async with serve(db_url, tolerances) as b:
        ref = await ordered_acme(b)  # A: 38, B: 24
        shipped = await b.client.post(
            f"/v1/purchase-orders/{ref}/shipments", json=asn(), headers=b.auth()
        )
        assert shipped.status_code == 202  # A: 38 announced, lot L-26
        # A short within 10% (35 of 38 is 7.9% short) and B short beyond (10 of 24): backorder
        short = receipt(
            ref,
            "GRN-1",
            [{"sku": "A", "quantity": "35", "lot": "L-26"}, {"sku": "B", "quantity": "10"}],
        )
        r = await b.client.post(f"/v1/purchase-orders/{ref}/receipts", json=short, headers=b.auth())
        assert r.status_code == 202, r.text
        await until(b.hub.engine.idle, what="the receipt validated")
        assert b.erp.on_hand[("WH", "A")] == Decimal(2 + 35)
        assert b.erp.on_hand[("WH", "B")] == Decimal(10)
        dup = await b.client.post(
            f"/v1/purchase-orders/{ref}/receipts", json=short, headers=b.auth()
        )
        assert dup.status_code == 200 and dup.json()["duplicate"] is True
        await until(b.hub.engine.idle, what="nothing more")
        assert b.erp.on_hand[("WH", "A")] == Decimal(37)  # never received twice
        # B: 14 still open; 16 is over 5%
        over = receipt(ref, "GRN-2", [{"sku": "B", "quantity": "16"}])
        r = await b.client.post(f"/v1/purchase-orders/{ref}/receipts", json=over, headers=b.auth())
        assert r.status_code == 202
        await until(b.hub.engine.idle, what="the over-receipt held")
        assert b.erp.on_hand[("WH", "B")] == Decimal(10)  # nothing received
        [held] = await b.hub.engine.db.read(
            lambda c: list_exceptions(c, type="procurement.receipt_held")
        )
        assert "B: 16 received, 14 expected" in held.reason and held.owner == "buying"
        unexpected = receipt(ref, "GRN-3", [{"sku": "C", "quantity": "1"}])
        r = await b.client.post(
            f"/v1/purchase-orders/{ref}/receipts", json=unexpected, headers=b.auth()
        )
        assert r.status_code == 202
        await until(b.hub.engine.idle, what="the unexpected item held")
        reasons = [
            e.reason
            for e in await b.hub.engine.db.read(
                lambda c: list_exceptions(c, type="procurement.receipt_held")
            )
        ]
        assert any("C: 1 received, not on the order" in r for r in reasons)
        view = (await b.client.get(f"/v1/purchase-orders/{ref}", headers=b.auth())).json()
        steps = [s["step"] for s in view["timeline"]]
        assert steps[-3:] == ["received", "receipt-held", "receipt-held"]
        wrong_wh = receipt(ref, "GRN-4", [{"sku": "A", "quantity": "1"}]) | {"warehouse": "W9"}
        r = await b.client.post(
            f"/v1/purchase-orders/{ref}/receipts", json=wrong_wh, headers=b.auth()
        )
        assert r.status_code == 422


def bill(key: str, lines: list[tuple[str, str, str]]) -> dict[str, Any]:
    return {
        "external_ref": key,
        "source": "acme-portal",
        "direction": "supplier",
        "partner_ref": "ACME",
        "currency": "USD",
        "invoice_date": "2026-12-19",
        "lines": [
            {"sku": sku, "description": sku, "quantity": q, "unit_price": p} for sku, q, p in lines
        ],
    }


async def test_bills_matched_three_ways(buying: Buying) -> None:
    ref = await ordered_acme(buying)  # A: 38 at 4, B: 24 at 10
    grn = receipt(ref, "GRN-1", [{"sku": "A", "quantity": "38"}, {"sku": "B", "quantity": "10"}])
    r = await buying.client.post(
        f"/v1/purchase-orders/{ref}/receipts", json=grn, headers=buying.auth()
    )
    assert r.status_code == 202
    await until(buying.hub.engine.idle, what="the receipt")
    ok = bill("INV-1", [("A", "38", "4.00")])
    r = await buying.client.post(f"/v1/purchase-orders/{ref}/bills", json=ok, headers=buying.auth())
    assert r.status_code == 202, r.text
    off = bill("INV-2", [("B", "12", "10.50")])
    r = await buying.client.post(
        f"/v1/purchase-orders/{ref}/bills", json=off, headers=buying.auth()
    )
    assert r.status_code == 202
    await until(buying.hub.engine.idle, what="the bills matched")
    view = (await buying.client.get(f"/v1/purchase-orders/{ref}", headers=buying.auth())).json()
    assert [s["step"] for s in view["timeline"]][-2:] == ["billed", "bill-held"]
    [held] = await buying.hub.engine.db.read(
        lambda c: list_exceptions(c, type="procurement.bill_mismatch")
    )
    assert held.owner == "accounts_payable"
    assert "B: price 10.5, ordered at 10" in held.reason
    assert "B: 12 billed, 10 received" in held.reason
    customer = bill("INV-3", [("A", "1", "4")]) | {"direction": "customer"}
    r = await buying.client.post(
        f"/v1/purchase-orders/{ref}/bills", json=customer, headers=buying.auth()
    )
    assert r.status_code == 422
    unknown = await buying.client.post(
        "/v1/purchase-orders/NOPE/bills", json=ok, headers=buying.auth()
    )
    assert unknown.status_code == 404
