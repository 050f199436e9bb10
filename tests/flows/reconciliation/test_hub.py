"""Reconciliation in the hub: the schedule per kind fires runs, the API lists runs and drift and
asks for a run (which a worker node runs), and the drift metrics appear on `/metrics`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import uvicorn
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from crossdock.api.auth import create_token
from crossdock.app import create_app
from crossdock.commands.serve import _Server
from crossdock.config import validate_config
from crossdock.config.schema import Config
from crossdock.connectors.odoo import OdooOperations
from crossdock.connectors.odoo.port import ErpPort
from crossdock.engine import Engine
from crossdock.flows.reconciliation import metrics
from crossdock.flows.reconciliation.service import register, schedule_of
from crossdock.flows.reconciliation.store import DriftTotal
from crossdock.hub import Hub, build_hub
from crossdock.ops.metrics import REGISTRY
from tests.contract.odoo.conftest import Target, stocked_products
from tests.flows.harness import make_order
from tests.flows.reconciliation.conftest import MakeRecon
from tests.support.waiting import until

T0 = 1_790_000_000.0


def _metric(name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(generate_latest(REGISTRY).decode()):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return None


async def _unknown_sale_order(
    ops: OdooOperations, channel: str, uid: str, ref: str, price: float = 7.0
) -> int:
    """A sale order with the channel's prefix that no order accepted by the hub explains."""
    [a] = await stocked_products(ops, f"{uid}{ref}", {"A": 5})
    product = (await ops.resolve_products([a])).found[a].id
    customer = make_order("x", f"c-{uid}", [(a, "1")], channel=channel).customer
    partner = await ops.find_or_create_customers([customer])
    [so] = await ops.client.create(
        "sale.order",
        [
            {
                "partner_id": next(iter(partner.done.values())),
                "client_order_ref": f"{channel}:{ref}-{uid}",
                "order_line": [(0, 0, {"product_id": product, "price_unit": price})],
            }
        ],
    )
    return int(so)


def test_schedules_come_from_the_kind_or_the_reconciliation_workflow() -> None:
    default = Config()
    assert [schedule_of(default, k) for k in ("orders", "invoices", "stock")] == ["0 2 * * *"] * 3
    own = validate_config(
        {
            "reconciliation": {
                "stock": {"schedule": "*/30 * * * *"},
                "orders": {"schedule": "off"},
            },
            "sync": {"reconciliation": {"mode": "realtime"}},
        }
    )
    assert schedule_of(own, "stock") == "*/30 * * * *"
    assert schedule_of(own, "orders") is None and schedule_of(own, "invoices") is None


def test_schedules_are_read_in_the_workflows_time_zone(tmp_path: Path) -> None:
    config = validate_config(
        {
            "sync": {
                "reconciliation": {
                    "mode": "batch",
                    "cron": "0 2 * * *",
                    "timezone": "Europe/Brussels",
                }
            }
        }
    )
    engine = Engine(f"sqlite:///{tmp_path / 'hub.db'}")
    register(engine, cast(ErpPort, None), config)
    assert {s.timezone for s in engine.schedules} == {"Europe/Brussels"}
    july = datetime(2026, 7, 15, 12, tzinfo=UTC).timestamp()
    assert {s.latest_tick(july) for s in engine.schedules} == {
        datetime(2026, 7, 15, 0, tzinfo=UTC).timestamp()  # 02:00 CEST
    }


async def test_the_schedule_runs_each_kind_once_per_tick(make_recon: MakeRecon) -> None:
    recon = await make_recon(
        hub=True,
        orders={"schedule": "*/5 * * * *"},
        invoices={"schedule": "off"},
        stock={"schedule": "@daily"},
    )
    assert {s.name: s.cron for s in recon.engine.schedules} == {
        "reconcile-orders": "*/5 * * * *",
        "reconcile-stock": "@daily",
    }
    base = (T0 // 300) * 300 + 1  # 14:10:01 UTC: no daily tick within the next minutes
    await recon.engine.fire_schedules(base)  # the first sight of a schedule starts at its next tick
    await asyncio.gather(*(recon.engine.fire_schedules(base + 300) for _ in range(3)))

    async def ran() -> bool:
        return any(r.trigger == "schedule" for r in await recon.runs())

    await until(ran, 30, "a scheduled run")
    await until(recon.engine.idle, 30, "the engine to be idle")
    runs = await recon.runs()
    assert [(r.kind, r.trigger, r.status) for r in runs] == [("orders", "schedule", "ok")]


async def test_drift_metrics_after_a_run(make_recon: MakeRecon) -> None:
    began = time.time()
    recon = await make_recon()
    await _unknown_sale_order(recon.ops, recon.channel, recon.uid, "U1", 7.0)
    await _unknown_sale_order(recon.ops, recon.channel, recon.uid, "U2", 5.0)
    before = _metric("crossdock_reconciliation_runs_total", kind="orders", status="ok") or 0.0

    await recon.run("orders")

    labels = {"kind": "orders", "type": "order_unknown_in_hub"}
    assert _metric("crossdock_reconciliation_drift_items", **labels) == 2
    assert _metric("crossdock_reconciliation_drift_value", **labels) == 12.0
    assert _metric("crossdock_reconciliation_runs_total", kind="orders", status="ok") == before + 1
    last = _metric("crossdock_reconciliation_last_run_timestamp_seconds", kind="orders")
    assert last is not None and began <= last <= time.time()
    oldest = _metric("crossdock_reconciliation_drift_oldest_age_seconds", kind="orders")
    # at most the test's time, plus a second: Odoo dates the records in whole seconds
    assert oldest is not None and 0 <= oldest <= time.time() - began + 1
    assert _metric("crossdock_reconciliation_run_seconds_count", kind="orders")


def test_drift_gauges_are_replaced_not_accumulated() -> None:
    now = time.time()
    metrics.set_totals([DriftTotal("stock", "stock_drift", 3, Decimal("12.5"), now - 30)], {}, now)
    metrics.set_totals([], {"stock": now}, now)
    assert _metric("crossdock_reconciliation_drift_items", kind="stock", type="stock_drift") is None
    assert _metric("crossdock_reconciliation_last_run_timestamp_seconds", kind="stock") == now


# -- the hub as `serve` builds it: flows, reconciliation and the API -------------------------------


@pytest.fixture
async def served(
    odoo: Target, db_url: str, uid: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Hub, httpx.AsyncClient, dict[str, str]]]:
    if odoo.password is None:
        pytest.skip("an API-key Odoo: this test logs in with a password")
    monkeypatch.setenv("CROSSDOCK_TEST_ODOO_PASSWORD", odoo.password)
    cfg = validate_config(
        {
            "database": {"url": db_url},
            "api": {"port": 0},
            "systems": {
                "odoo": {
                    "kind": "odoo",
                    "url": odoo.url,
                    "username": odoo.login,
                    "credentials": {"password": "${CROSSDOCK_TEST_ODOO_PASSWORD}"},
                    "options": {"database": odoo.database},
                },
                "shop": {"kind": "shop", "url": "http://127.0.0.1:9"},
            },
            "ownership": {"orders": "odoo"},
            "channels": {f"r{uid}": {}},
            "lanes": {"orders": {"priority": 10}, "batch": {"priority": -10}},
            "engine": {"poll_interval_ms": 20},
        }
    )
    hub = build_hub(cfg, flows=True)
    await hub.start()
    tokens = {
        name: await hub.engine.writer.submit(lambda c, n=name, s=scopes: create_token(c, n, s))
        for name, scopes in {"viewer": ["ops:read"], "ops": ["ops:read", "ops:write"]}.items()
    }
    server = _Server(uvicorn.Config(create_app(hub), host="127.0.0.1", port=0, log_config=None))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    auth = {n: f"Bearer {t}" for n, t in tokens.items()}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        yield hub, client, auth
    server.should_exit = True
    await task
    await hub.stop()


async def test_api_asks_for_a_run_and_shows_runs_drift_and_metrics(
    served: tuple[Hub, httpx.AsyncClient, dict[str, str]], uid: str
) -> None:
    hub, client, auth = served
    assert hub.erp is not None
    so = await _unknown_sale_order(hub.erp.operations, f"r{uid}", uid, "API")

    refused = await client.post(
        "/v1/reconciliation/runs",
        json={"kind": "orders"},
        headers={"Authorization": auth["viewer"]},
    )
    assert refused.status_code == 403
    bad = await client.post(
        "/v1/reconciliation/runs", json={"kind": "nope"}, headers={"Authorization": auth["ops"]}
    )
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    asked = await client.post(
        "/v1/reconciliation/runs", json={"kind": "orders"}, headers={"Authorization": auth["ops"]}
    )
    assert asked.status_code == 202 and asked.json()["kind"] == "orders"

    async def listed() -> list[dict[str, Any]]:
        response = await client.get(
            "/v1/reconciliation/runs", headers={"Authorization": auth["viewer"]}
        )
        assert response.status_code == 200
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def ran() -> bool:
        return bool(await listed())

    await until(ran, 30, "the requested run")
    [run] = await listed()
    assert run["kind"] == "orders" and run["trigger"] == "api:ops" and run["status"] == "ok"
    one = await client.get(
        f"/v1/reconciliation/runs/{run['id']}", headers={"Authorization": auth["viewer"]}
    )
    assert one.json()["id"] == run["id"]
    drift = await client.get(
        "/v1/reconciliation/drift?kind=orders", headers={"Authorization": auth["viewer"]}
    )
    [item] = drift.json()["items"]
    assert item["subject"] == f"sale_order:{so}" and item["value"] == "7.00"
    assert item["age_s"] >= 0 and item["type"] == "order_unknown_in_hub"
    unknown_type = await client.get(
        "/v1/reconciliation/drift?type=nope", headers={"Authorization": auth["viewer"]}
    )
    assert unknown_type.status_code == 400
    scraped = await client.get("/metrics", headers={"Authorization": auth["viewer"]})
    assert (
        'crossdock_reconciliation_drift_items{kind="orders",type="order_unknown_in_hub"} 1.0'
        in scraped.text
    )
    audit = await client.get(
        "/v1/audit?subject=reconciliation:orders", headers={"Authorization": auth["viewer"]}
    )
    assert [e["action"] for e in audit.json()["items"]] == ["reconciliation.requested"]
    assert hub.engine.subscriptions["reconciliation"].lane == "batch"
