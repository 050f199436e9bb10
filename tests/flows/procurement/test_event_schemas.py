"""What procure-to-stock publishes is what the event catalog says: the flow driven end to end on a
MemoryErp (recommendation → approval → purchase order → acknowledgement → notice → receipt →
bill, forecasts in, export and baseline requests, every schedule fired) and every event it
appended validated against its type's schema in the catalog."""

from __future__ import annotations

import time
from pathlib import Path

from crossdock.engine import Event
from tests.catalog.conformance import problems
from tests.flows.procurement.conftest import Buying, serve
from tests.flows.procurement.test_forecasts import settled, week
from tests.flows.procurement.test_landed_costs import cost_bill
from tests.flows.procurement.test_supplier_api import ack, asn, bill, ordered_acme, receipt
from tests.support.waiting import until

PUBLISHED = {
    "procurement.recommend_requested",
    "procurement.approved",
    "purchase.ordered",
    "purchase.acknowledged",
    "purchase.shipped",
    "purchase.receipt_posted",
    "purchase.received",
    "purchase.bill_posted",
    "purchase.cost_bill_posted",
    "forecast.imported",
    "forecast.applied",
    "forecast.rejected",
    "forecasting.export_requested",
    "forecasting.baseline_requested",
    "forecasting.drop_scan",
}


async def _supplier_path(b: Buying) -> None:
    ref = await ordered_acme(b)
    for path, body in (
        ("acknowledgement", ack(ref, [{"sku": "B", "status": "changed", "quantity": "20"}])),
        ("shipments", asn()),
        ("receipts", receipt(ref, "GRN-1", [{"sku": "A", "quantity": "38"}])),
        ("bills", bill("INV-1", [("A", "38", "4.00")])),
        ("landed-costs", cost_bill("FRT-1", [{"type": "freight", "amount": "12"}])),
    ):
        r = await b.client.post(f"/v1/purchase-orders/{ref}/{path}", json=body, headers=b.auth())
        assert r.status_code == 202, (path, r.text)
        await until(b.hub.engine.idle, what=f"the {path} handled")


async def _forecasts(b: Buying) -> None:
    for import_id, sku in (("plan-ok", "A"), ("plan-unknown", "NOPE")):
        line = {"sku": sku, "warehouse": "WH", "period": week(), "quantity": "7"}
        r = await b.client.post(
            "/v1/forecasts", json={"import_id": import_id, "lines": [line]}, headers=b.auth()
        )
        assert r.status_code == 202, r.text
        await settled(b, r.json()["version"])
    for path in ("exports", "baseline"):
        r = await b.client.post(f"/v1/forecasts/{path}", headers=b.auth())
        assert r.status_code == 202, r.text


async def _all_events(b: Buying) -> list[Event]:
    out: list[Event] = []
    while batch := await b.hub.engine.events_after(out[-1].position if out else 0, 500):
        out.extend(batch)
    return out


async def test_every_published_event_matches_its_catalog_schema(
    db_url: str, tmp_path: Path
) -> None:
    forecasting = {
        "export_schedule": "0 1 * * *",
        "baseline_schedule": "0 2 * * 1",
        "drop_directory": str(tmp_path / "drop"),
    }
    async with serve(db_url, {"schedule": "0 6 * * *"}, forecasting=forecasting) as b:
        now = time.time()
        await b.hub.engine.fire_schedules(now)  # a schedule seen first starts at its next tick
        await b.hub.engine.fire_schedules(now + 8 * 86400)
        await until(b.hub.engine.idle, what="the scheduled work done")
        await _supplier_path(b)
        await _forecasts(b)
        await until(b.hub.engine.idle, what="everything handled")
        events = await _all_events(b)
    seen = {e.type for e in events}
    assert seen >= PUBLISHED, sorted(PUBLISHED - seen)
    assert problems(events) == []
