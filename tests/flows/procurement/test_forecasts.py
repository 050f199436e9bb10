"""Forecasts in over the API (CSV and NDJSON streamed, JSON), checked per line, versioned and
idempotent by import id; the file drop; recommendations from the forecast in force."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from crossdock.connectors.odoo.replenishment_records import SupplierTerm
from tests.flows.procurement.conftest import Buying, serve
from tests.support.waiting import until


def week(offset: int = 0) -> str:
    year, number, _ = (datetime.now(UTC).date() + timedelta(weeks=offset)).isocalendar()
    return f"{year}-W{number:02d}"


async def settled(b: Buying, version: int) -> dict[str, Any]:
    async def done() -> bool:
        r = await b.client.get(f"/v1/forecasts/{version}", headers=b.auth())
        return bool(r.json()["state"] != "received")

    await until(done, what=f"forecast version {version} settled")
    body: dict[str, Any] = (await b.client.get(f"/v1/forecasts/{version}", headers=b.auth())).json()
    return body


def csv_post(b: Buying, text: str, import_id: str, policy: str | None = None) -> Any:
    params = {"import_id": import_id} | ({"policy": policy} if policy else {})
    return b.client.post(
        "/v1/forecasts",
        params=params,
        content=text.encode(),
        headers=b.auth() | {"content-type": "text/csv"},
    )


async def test_bad_lines_reject_the_whole_import_with_line_field_and_rule(buying: Buying) -> None:
    text = (
        "sku,warehouse,period,quantity,confidence\n"
        f"A,WH,{week()},70,0.9\n"
        f"B,WH,{week()},-5,\n"
        f"C,WH,2026-13,10,\n"
        f"D,WH,{week()},99999999,\n"
        f"A,WH,{week()},1,1.5\n"
        f"C,WH,{week()},abc,\n"
    )
    r = await csv_post(buying, text, "plan-1")
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    found = {(e["line"], e["field"], e["rule"]) for e in problem["errors"]}
    assert found == {
        (3, "quantity", "non_negative"),
        (4, "period", "period"),
        (5, "quantity", "absurd"),
        (6, "confidence", "range"),
        (7, "quantity", "number"),
    }
    listed = (await buying.client.get("/v1/forecasts", headers=buying.auth())).json()
    assert listed["in_force"] is None
    [version] = listed["items"]
    assert version["state"] == "rejected" and version["lines_applied"] == 0
    assert version["lines_total"] == 6 and version["lines_rejected"] == 5
    # the same import again is recognised, not recorded twice
    again = await csv_post(buying, text, "plan-1")
    assert again.status_code == 200 and again.json()["version"] == version["version"]
    other = await csv_post(buying, text.replace("70", "71"), "plan-1")
    assert other.status_code == 409


async def test_apply_valid_keeps_good_lines_and_rejects_unknown_skus(buying: Buying) -> None:
    lines = [
        {"sku": "A", "warehouse": "WH", "period": week(), "quantity": 70},
        {"sku": "NOPE", "warehouse": "WH", "period": week(), "quantity": 5},
        {"sku": "B", "warehouse": "WH", "period": week(), "quantity": -1},
        {"sku": "A", "warehouse": "WH", "period": week(), "quantity": 3},
        {"sku": "B", "warehouse": "WH", "period": week(1), "quantity": 14, "confidence": 0.5},
    ]
    body = "".join(json.dumps(ln) + "\n" for ln in lines)
    r = await buying.client.post(
        "/v1/forecasts?import_id=plan-2&policy=apply_valid",
        content=body.encode(),
        headers=buying.auth() | {"content-type": "application/x-ndjson"},
    )
    assert r.status_code == 202, r.text
    assert r.headers["location"] == "/v1/forecasts/1"
    version = await settled(buying, 1)
    assert version["state"] == "applied" and version["in_force"] is True
    assert version["lines_applied"] == 2
    rejected = [(p["line"], p["field"], p["rule"]) for p in version["rejected"]]
    assert rejected == [
        (2, "sku", "unknown_sku"),
        (3, "quantity", "non_negative"),
        (4, "period", "duplicate"),
    ]
    assert buying.erp.calls["resolve_products"] == 1  # one look-up for every SKU of the import


async def test_all_or_nothing_rejects_an_import_with_an_unknown_sku(buying: Buying) -> None:
    r = await buying.client.post(
        "/v1/forecasts",
        json={
            "import_id": "plan-3",
            "lines": [
                {"sku": "A", "warehouse": "WH", "period": week(), "quantity": "7"},
                {"sku": "ZZZ", "warehouse": "WH", "period": week(), "quantity": "7"},
            ],
        },
        headers=buying.auth(),
    )
    assert r.status_code == 202, r.text
    version = await settled(buying, r.json()["version"])
    assert version["state"] == "rejected" and version["lines_applied"] == 0
    assert version["rejected"][0]["line"] == 2 and version["rejected"][0]["rule"] == "unknown_sku"


async def test_requests_without_what_is_required(buying: Buying) -> None:
    r = await buying.client.post(
        "/v1/forecasts",
        content=b"sku,warehouse\n",
        headers=buying.auth() | {"content-type": "text/csv"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/import_id"
    r = await csv_post(buying, "sku,warehouse\nA,WH\n", "plan-4")
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "columns"
    r = await buying.client.post(
        "/v1/forecasts?import_id=x1",
        content=b"<xml/>",
        headers=buying.auth() | {"content-type": "application/xml"},
    )
    assert r.status_code == 415
    r = await buying.client.post(
        "/v1/forecasts?import_id=x2",
        content=b"{",
        headers=buying.auth() | {"content-type": "application/json"},
    )
    assert r.status_code == 422
    r = await buying.client.post("/v1/forecasts", json={"import_id": "x3"}, headers=buying.auth())
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/lines"
    viewer = await csv_post(buying, "", "x4")
    assert viewer.status_code == 422
    r = await buying.client.post(
        "/v1/forecasts?import_id=x5",
        content=b"sku,warehouse,period,quantity\nA,WH,2026-W01,1\n",
        headers=buying.auth("viewer") | {"content-type": "text/csv"},
    )
    assert r.status_code == 403
    missing = await buying.client.get("/v1/forecasts/99", headers=buying.auth())
    assert missing.status_code == 404
    huge = await buying.client.get(f"/v1/forecasts/{10**30}", headers=buying.auth())
    assert huge.status_code == 422
    wrong = await buying.client.get("/v1/forecasts/baseline", headers=buying.auth())
    assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"


async def test_recommendations_use_the_forecast_over_lead_time_plus_safety(db_url: str) -> None:
    async with serve(db_url, {"safety_days": 1}) as b:
        # D: 100 on hand, min 10 (the rule orders nothing); its forecast: 700 a week
        text = f"sku,warehouse,period,quantity\nD,WH,{week()},700\nD,WH,{week(1)},700\n"
        r = await csv_post(b, text, "plan-5")
        assert r.status_code == 202, r.text
        await settled(b, 1)
        r = await b.client.post("/v1/replenishment/runs", headers=b.auth())
        assert r.status_code == 202
        await until(b.hub.engine.idle, what="the run")
        recs = (await b.client.get("/v1/replenishment/recommendations", headers=b.auth())).json()
        bolt = next(x for x in recs["items"] if x["supplier_ref"] == "BOLT")
        lines = {ln["sku"]: ln for ln in bolt["lines"]}
        # 100 a day over lead time 2 d + safety 1 d = 300 > 100: up to 100 x (2 + 1 + 7) = 1000
        assert Decimal(lines["D"]["quantity"]) == Decimal(900)
        assert "forecast v1 (api) 100/day" in lines["D"]["reason"]
        assert "lead time 2 d + safety 1 d" in lines["D"]["reason"]
        assert "below min 10" in lines["C"]["reason"]  # no forecast: the min/max rule


async def test_a_dropped_file_is_imported_and_moved(db_url: str, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    async with serve(db_url, {}, forecasting={"drop_directory": str(drop)}) as b:
        (drop / "plan-w1.csv").write_text(f"sku,warehouse,period,quantity\nA,WH,{week()},14\n")
        (drop / "bad.csv").write_text(f"sku,warehouse,period,quantity\nA,WH,{week()},-1\n")
        assert await b.forecasting.scan_drop() == 2
        assert (drop / "done" / "plan-w1.csv").exists()
        assert (drop / "rejected" / "bad.csv").exists()
        await until(b.hub.engine.idle, what="the import settled")
        listed = (await b.client.get("/v1/forecasts", headers=b.auth())).json()
        states = {v["import_id"]: v["state"] for v in listed["items"]}
        assert states == {"file:plan-w1.csv": "applied", "file:bad.csv": "rejected"}


async def test_an_erp_term_without_forecast_keeps_its_rule(buying: Buying) -> None:
    buying.erp.add_supplier_term(SupplierTerm("A", "ZED", 9, Decimal(0), Decimal("9"), "USD", 1))
    r = await buying.client.post("/v1/replenishment/runs", headers=buying.auth())
    assert r.status_code == 202
    await until(buying.hub.engine.idle, what="the run")
    recs = (
        await buying.client.get("/v1/replenishment/recommendations", headers=buying.auth())
    ).json()
    acme = next(x for x in recs["items"] if x["supplier_ref"] == "ACME")
    assert all("below min" in ln["reason"] for ln in acme["lines"])


async def test_malformed_bytes_are_lines_refused_never_a_server_error(buying: Buying) -> None:
    deep = "[" * 5000 + "]" * 5000
    r = await buying.client.post(
        "/v1/forecasts?import_id=bytes-0",
        content=f"{deep}\n".encode(),
        headers=buying.auth() | {"content-type": "application/x-ndjson"},
    )
    assert r.status_code == 422  # refused by the API's JSON depth limit before any parser
    ndjson = (
        '{"sku": "A"}\n[[[1]]]\nnot json\n'
        '{"sku": "A", "warehouse": "WH", "period": "1999-01", "quantity": 1}\n'
    )
    r = await buying.client.post(
        "/v1/forecasts?import_id=bytes-1",
        content=ndjson.encode(),
        headers=buying.auth() | {"content-type": "application/x-ndjson"},
    )
    assert r.status_code == 422, r.text
    rules = {(e["line"], e["rule"]) for e in r.json()["errors"]}
    assert {(1, "required"), (2, "object"), (3, "object"), (4, "period")} <= rules
    csv_body = b"sku,warehouse,period,quantity\nA,WH,2026-W10,1\x00\nB,WH,2026-W60,\xff\xfe\n"
    r = await buying.client.post(
        "/v1/forecasts?import_id=bytes-2",
        content=csv_body,
        headers=buying.auth() | {"content-type": "text/csv"},
    )
    assert r.status_code == 422, r.text
    rules = {(e["line"], e["field"], e["rule"]) for e in r.json()["errors"]}
    assert (2, "quantity", "number") in rules and (3, "period", "period") in rules
    assert (3, "quantity", "number") in rules
    nul_header = await buying.client.post(
        "/v1/forecasts?import_id=bytes-3",
        content=b"sku\x00,warehouse\n",
        headers=buying.auth() | {"content-type": "text/csv"},
    )
    assert nul_header.status_code == 422 and nul_header.json()["errors"][0]["rule"] == "columns"
    deep_json = b'{"import_id": "bytes-4", "lines": ' + b"[" * 500 + b"]" * 500 + b"}"
    r = await buying.client.post(
        "/v1/forecasts",
        content=deep_json,
        headers=buying.auth() | {"content-type": "application/json"},
    )
    assert r.status_code == 422
