"""`crossdock bench inventory`: a burst of warehouse stock events over real HTTP on 127.0.0.1,
against `crossdock serve` running as in production (its own process: API and workers, SQLite,
group commit), with the Odoo sandbox as the ERP and the warehouse system owning stock.

Set-up (not measured): the sandbox (its own server in this process) gets ``skus`` products; the
warehouse sends a full count of every SKU at ``locations`` locations; the hub writes it to Odoo and
settles. The sandbox then takes its measured latencies.

The burst: ``events`` random receipts, picks and adjustments over the SKUs and locations, with
increasing per-warehouse sequences, in requests of ``per_request`` events on ``concurrency``
keep-alive connections (the bodies are made beforehand, so the client measures the server).

Figures:

- ``accepted_events_per_s``: events over the time from the first request sent to the last 202;
- ``odoo_writes``: stock quantities the hub wrote to Odoo for the burst (its counter), next to
  what the sandbox saw: ``sandbox_quants_adjusted`` (inventory adjustments it made) in
  ``sandbox_quant_create_calls`` calls;
- ``distinct_sku_locations_changed``: positions the burst touched (warehouse, location, SKU);
- ``naive_writes``: one write per event (the reference a connector without coalescing makes),
  with ``naive_odoo_s_at_sandbox_latency`` — how long those writes would keep the sandbox busy;
- ``converge_s``: from the last 202 until the hub reports nothing waiting (the Odoo writes done and
  every channel told) — then checked: Odoo's quantities and each channel's published availability
  must equal what the events add up to, or the bench fails;
- ``sandbox_floor_s``: the least time the sandbox itself needs for those writes at its latencies
  (calls and adjusted quants, over its worker slots) — ``converge_s`` cannot go below it, so the
  difference is what the hub adds.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

import httpx

from crossdock.api.auth import create_token
from crossdock.bench.http import Connection, crossdock_process, free_port
from crossdock.connectors.odoo import OdooClient, OdooOperations, OdooSettings
from crossdock.engine import Database
from crossdock.migrations import upgrade
from crossdock.model import Money, Product
from crossdock.sandbox.odoo import SandboxServer, SandboxSettings

__all__ = ["TARGETS", "run_inventory_bench"]

TARGETS = {
    "accepted_events_per_s": ">= 10000",
    "odoo_writes": "<= distinct_sku_locations_changed",
    "converge_s": "<= 5 (100,000 events over 5,000 SKUs)",
}
WAREHOUSE = "WH"
START_QUANTITY = 1000
CHANNELS = {"web": None, "b2b": Decimal(10)}  # channel -> percentage buffer


@contextmanager
def _served(directory: Path, odoo: SandboxServer) -> Iterator[tuple[str, int, str]]:
    """`crossdock serve` in its own process, the warehouse owning stock, Odoo the sandbox."""
    url = f"sqlite:///{directory / 'inventory.db'}"
    config = directory / "crossdock.yaml"
    s = odoo.settings
    settings: dict[str, Any] = {
        "database": {"url": url},
        "systems": {
            "odoo": {
                "kind": "odoo",
                "url": odoo.url,
                "username": s.login,
                "credentials": {"password": "${CROSSDOCK_BENCH_ODOO_PASSWORD}"},
                "options": {"database": s.database},
            },
            "wms": {"kind": "wms", "url": "http://127.0.0.1:9"},
        },
        "ownership": {"stock": "wms"},
        "channels": {name: {"warehouses": [WAREHOUSE]} for name in CHANNELS},
        "inventory": {
            "warehouses": [WAREHOUSE],
            "channels": {
                name: {"buffer": {"default": {"percent": str(pct)}}}
                for name, pct in CHANNELS.items()
                if pct is not None
            },
        },
        "observability": {"log_level": "warning"},
    }
    config.write_text(json.dumps(settings, indent=2))  # JSON is YAML
    upgrade(url)
    db = Database(url)
    token = db.write_sync(
        lambda c: create_token(c, "bench", ["inventory:write", "inventory:read"], rate_per_s=1e9)
    )
    db.close()
    port = free_port()
    env = {
        **os.environ,
        "CROSSDOCK_CONFIG": str(config),
        "CROSSDOCK_BENCH_ODOO_PASSWORD": s.password,
    }
    args = ["serve", "--config", str(config), "--port", str(port)]
    with crossdock_process(args, port, env, directory / "serve.log"):
        yield "127.0.0.1", port, token


async def _seed_products(odoo: SandboxServer, skus: list[str]) -> None:
    s = odoo.settings
    settings = OdooSettings(
        url=odoo.url, database=s.database, login=s.login, password=s.password, batch_size=1000
    )
    async with OdooClient(settings) as client:
        outcome = await OdooOperations(client).upsert_products(
            [
                Product(
                    external_ref=sku,
                    source="bench",
                    sku=sku,
                    name=f"Bench {sku}",
                    list_price=Money(amount="10", currency="USD"),
                    cost_price=Money(amount="4", currency="USD"),
                )
                for sku in skus
            ]
        )
        if not outcome.ok:
            raise RuntimeError(f"seeding products failed: {list(outcome.failed.items())[:3]}")


def _burst(
    skus: list[str], locations: list[str], events: int, per_request: int, seed: int
) -> tuple[list[bytes], dict[tuple[str, str], int]]:
    """Request bodies and the final quantity of every position."""
    rng = random.Random(seed)
    totals = {(loc, sku): START_QUANTITY for sku in skus for loc in locations}
    bodies: list[bytes] = []
    batch: list[dict[str, Any]] = []
    at = "2026-11-22T10:00:00Z"
    for sequence in range(2, events + 2):  # 1 is the count's
        sku = rng.choice(skus)
        location = rng.choice(locations)
        kind = rng.choice(("receipt", "pick", "pick", "adjustment"))
        quantity = rng.randint(1, 5) if kind == "receipt" else -rng.randint(1, 5)
        if kind == "adjustment":
            quantity = rng.choice((-2, -1, 1, 2))
        totals[(location, sku)] += quantity
        batch.append(
            {
                "kind": kind,
                "warehouse": WAREHOUSE,
                "location": location,
                "sku": sku,
                "quantity": str(quantity),
                "unit": "unit",
                "occurred_at": at,
                "sequence": sequence,
            }
        )
        if len(batch) == per_request:
            bodies.append(json.dumps({"events": batch}).encode())
            batch = []
    if batch:
        bodies.append(json.dumps({"events": batch}).encode())
    return bodies, totals


async def _status(conn: httpx.AsyncClient) -> dict[str, Any]:
    answer = await conn.get("/v1/inventory/status")
    if answer.status_code != 200:
        raise RuntimeError(f"status answered {answer.status_code}: {answer.text[:200]}")
    body: dict[str, Any] = answer.json()
    return body


async def _settle(conn: httpx.AsyncClient, timeout_s: float) -> float:
    """Poll until the hub reports nothing waiting; the time it did."""
    deadline = time.perf_counter() + timeout_s
    while True:
        if (await _status(conn))["settled"]:
            return time.perf_counter()
        if time.perf_counter() > deadline:
            raise RuntimeError(f"the hub did not settle within {timeout_s} s")
        await asyncio.sleep(0.02)


def _odoo_quantities(odoo: SandboxServer, skus: set[str]) -> dict[str, float]:
    """On hand per SKU in the warehouse's stock location, read in the sandbox itself."""
    store = odoo.sandbox.store
    warehouse = next(
        w for w in list(store.table("stock.warehouse").values()) if w.get("code") == WAREHOUSE
    )
    location = warehouse["lot_stock_id"]
    products = {
        pid: p["default_code"]
        for pid, p in list(store.table("product.product").items())
        if p.get("default_code") in skus
    }
    out: dict[str, float] = {}
    for quant in list(store.table("stock.quant").values()):
        sku = products.get(int(quant.get("product_id") or 0))
        if sku is not None and quant.get("location_id") == location:
            out[sku] = out.get(sku, 0.0) + float(quant.get("quantity") or 0.0)
    return out


def _quant_calls(odoo: SandboxServer) -> int:
    return odoo.sandbox.calls.get("stock.quant.create", 0)


def _inventory_moves(odoo: SandboxServer) -> int:
    """Inventory adjustments the sandbox made: one per quant written with a new quantity."""
    moves = list(odoo.sandbox.store.table("stock.move").values())
    return sum(1 for move in moves if move.get("is_inventory"))


async def _availability(conn: httpx.AsyncClient, channel: str) -> dict[str, str]:
    out: dict[str, str] = {}
    after = ""
    while True:
        params: dict[str, str | int] = {"channel": channel, "limit": 5000}
        if after:
            params["after"] = after
        answer = await conn.get("/v1/inventory/availability", params=params)
        if answer.status_code != 200:
            raise RuntimeError(f"availability answered {answer.status_code}")
        page = answer.json()
        out.update({item["sku"]: item["available"] for item in page["items"]})
        if not page["next_after"]:
            return out
        after = page["next_after"]


def _expected_atp(on_hand: int, percent: Decimal | None) -> str:
    free = Decimal(max(on_hand, 0))
    buffer = free * percent / 100 if percent is not None else Decimal(0)
    return str(max(free - buffer, Decimal(0)).quantize(Decimal(1), rounding=ROUND_FLOOR))


async def run_inventory_bench(
    *,
    events: int = 100_000,
    skus: int = 5_000,
    locations: int = 1,
    per_request: int = 1_000,
    concurrency: int = 4,
    latency_call_s: float = 0.015,
    latency_record_s: float = 0.003,
    seed: int = 6,
) -> dict[str, Any]:
    sku_names = [f"INV-{n:05d}" for n in range(skus)]
    location_names = [f"L{n:02d}" for n in range(locations)]
    settings = SandboxSettings(latency_call_s=0, latency_record_s=0)
    with (
        tempfile.TemporaryDirectory(prefix="crossdock-inventory-") as tmp,
        SandboxServer(settings) as odoo,
    ):
        await _seed_products(odoo, sku_names)
        with _served(Path(tmp), odoo) as (host, port, token):
            conn = httpx.AsyncClient(
                base_url=f"http://{host}:{port}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=600,
            )
            try:
                count = "".join(
                    json.dumps({"location": loc, "sku": sku, "quantity": START_QUANTITY}) + "\n"
                    for sku in sku_names
                    for loc in location_names
                ).encode()
                answer = await conn.put(
                    f"/v1/inventory/snapshots/{WAREHOUSE}",
                    params={"sequence": 1},
                    content=count,
                    headers={"Content-Type": "application/x-ndjson"},
                )
                if answer.status_code != 200:
                    raise RuntimeError(f"the count was refused: {answer.text[:300]}")
                await _settle(conn, 300)
                before = await _status(conn)
                bodies, totals = _burst(sku_names, location_names, events, per_request, seed)
                changed = len(
                    {
                        (e["location"], e["sku"])
                        for body in bodies
                        for e in json.loads(body)["events"]
                    }
                )
                settings.latency_call_s = latency_call_s
                settings.latency_record_s = latency_record_s
                quant_calls, moves = _quant_calls(odoo), _inventory_moves(odoo)
                figures = await _fire(host, port, token, bodies, concurrency)
                settled_at = await _settle(conn, 600)
                after = await _status(conn)
                calls = _quant_calls(odoo) - quant_calls
                adjusted = _inventory_moves(odoo) - moves
                per_sku: dict[str, int] = {}
                for (_, sku), quantity in totals.items():
                    per_sku[sku] = per_sku.get(sku, 0) + quantity
                odoo_now = _odoo_quantities(odoo, set(sku_names))
                wrong = [s for s in sku_names if odoo_now.get(s) != float(per_sku[s])]
                if wrong:
                    raise RuntimeError(f"Odoo disagrees on {len(wrong)} SKUs, e.g. {wrong[:3]}")
                for channel, percent in CHANNELS.items():
                    told = await _availability(conn, channel)
                    bad = [
                        s for s in sku_names if told.get(s) != _expected_atp(per_sku[s], percent)
                    ]
                    if bad:
                        raise RuntimeError(f"channel {channel} was told wrong numbers: {bad[:3]}")
            finally:
                await conn.aclose()
    odoo_writes = int(after["erp_writes"]) - int(before["erp_writes"])
    return {
        "server": "crossdock serve (API and workers, SQLite); Odoo: the sandbox",
        "events": events,
        "skus": skus,
        "locations_per_sku": locations,
        "requests": len(bodies),
        "events_per_request": per_request,
        "connections": concurrency,
        "accepted_events_per_s": round(figures["accepted_per_s"]),
        "burst_s": round(figures["burst_s"], 3),
        "request_p99_ms": round(figures["p99_ms"], 1),
        "odoo_writes": odoo_writes,
        "sandbox_quant_create_calls": calls,
        "sandbox_quants_adjusted": adjusted,
        "distinct_sku_locations_changed": changed,
        "naive_writes": events,
        "naive_odoo_s_at_sandbox_latency": round(events * (latency_call_s + latency_record_s), 1),
        "converge_s": round(settled_at - figures["last_answer_at"], 3),
        "sandbox_floor_s": round(
            (calls * latency_call_s + adjusted * latency_record_s) / odoo.settings.workers, 3
        ),
        "after_last_answer_s": {
            "channels_told": _since(after["last_publication_at"], figures["last_answer_wall"]),
            "odoo_written": _since(after["last_erp_write_at"], figures["last_answer_wall"]),
        },
        "checked": "Odoo quantities and every channel's availability equal the events' sum",
        "sandbox_latency": {"per_call_s": latency_call_s, "per_created_record_s": latency_record_s},
        "coalescing": "inventory.coalescing defaults: quiet 500 ms, ERP max delay 30 s",
        "targets": TARGETS,
    }


async def _fire(
    host: str, port: int, token: str, bodies: list[bytes], concurrency: int
) -> dict[str, float]:
    queue = iter(bodies)
    latencies: list[float] = []
    accepted = 0
    last_answer = 0.0

    async def worker() -> None:
        nonlocal accepted, last_answer
        conn = Connection(host, port, token)
        try:
            for body in queue:
                began = time.perf_counter()
                status, payload = await conn.request(
                    "POST", "/v1/inventory/events", body, "application/json"
                )
                last_answer = time.perf_counter()
                latencies.append(last_answer - began)
                if status != 202:
                    raise RuntimeError(f"a request was answered {status}: {payload[:300]!r}")
                accepted += int(json.loads(payload)["applied"])
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    latencies.sort()
    return {
        "accepted_per_s": accepted / (last_answer - started),
        "burst_s": last_answer - started,
        "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000,
        "last_answer_at": last_answer,
        "last_answer_wall": time.time() - (time.perf_counter() - last_answer),
    }


def _since(iso: str | None, wall: float) -> float | None:
    if iso is None:
        return None
    return round(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() - wall, 3)
