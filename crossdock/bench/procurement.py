"""`crossdock bench procurement`: replenishment reads over many SKUs, and purchase orders created
and confirmed by the connector next to a one-call-per-document reference, in one run.

Two sandboxes (temporary SQLite files) are started:

- *recommend*: ``skus`` storable products with a min/max rule in each of ``warehouses``
  warehouses and one vendor price each (seeded in large batches with no per-record latency, the
  reads then measured with the sandbox's per-call latency). ``recommend_s`` is the time of
  :meth:`~crossdock.connectors.odoo.OdooOperations.replenishment_inputs` plus
  :func:`~crossdock.flows.procurement.recommend.recommend` over every SKU and warehouse;
  ``odoo_calls_per_sku`` the calls that took, per SKU (target ``<= 0.01``).
- *purchase orders*: realistic latencies (per call and per created record). ``orders`` purchase
  orders of ``lines_per_order`` lines: the reference creates each with one ``create`` and
  confirms it with one ``button_confirm`` (bare ``httpx``, no Crossdock code); the hub sends
  canonical :class:`~crossdock.model.PurchaseOrder` objects through
  :meth:`~crossdock.connectors.odoo.OdooOperations.create_purchase_orders` and
  :meth:`~crossdock.connectors.odoo.OdooOperations.confirm_purchase_orders` in batches (up to
  ``hub_concurrency`` in flight on the one client, as a flow's consumer runs). Each in two
  halves (reference, hub, then hub, reference) so a drifting server weighs on both alike; both
  are checked afterwards (every order exists once, confirmed). ``po_vs_one_call`` is the ratio of
  their rates (target ``>= 4``).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from crossdock.bench.odoo import PlainJsonRpc
from crossdock.connectors.odoo import OdooClient, OdooOperations, OdooSettings
from crossdock.flows.procurement.recommend import recommend
from crossdock.model import PurchaseOrder
from crossdock.sandbox.odoo import SandboxServer, SandboxSettings

__all__ = ["TARGETS", "run_procurement_bench"]

TARGETS = {"odoo_calls_per_sku": "<= 0.01", "po_vs_one_call": ">= 4"}
SEED_BATCH = 5000
EXTRA_WAREHOUSES = ("BW2", "BW3", "BW4", "BW5")


async def _seed_catalogue(client: OdooClient, skus: int, warehouses: int) -> list[str]:
    """Products, warehouses, min/max rules (stock 0: every one recommends) and vendor prices."""
    codes = ["WH"]
    for code in EXTRA_WAREHOUSES[: warehouses - 1]:
        await client.create("stock.warehouse", [{"name": f"Bench {code}", "code": code}])
        codes.append(code)
    rows = await client.search_read("stock.warehouse", [["code", "in", codes]], ["code"])
    wh_ids = [int(r["id"]) for r in rows]
    [partner] = await client.create(
        "res.partner", [{"name": "Bench supplier", "ref": "BENCH-SUP", "is_company": True}]
    )
    product_ids: list[int] = []
    for start in range(0, skus, SEED_BATCH):
        product_ids += await client.create(
            "product.product",
            [
                {
                    "name": f"Bench {n}",
                    "default_code": f"BP-{n}",
                    "type": "consu",
                    "is_storable": True,
                }
                for n in range(start, min(skus, start + SEED_BATCH))
            ],
        )
    templates = await client.read("product.product", product_ids[:1], ["product_tmpl_id"])
    first_template = int(templates[0]["product_tmpl_id"][0])
    for start in range(0, len(product_ids), SEED_BATCH):
        chunk = product_ids[start : start + SEED_BATCH]
        await client.create(
            "stock.warehouse.orderpoint",
            [
                {
                    "product_id": pid,
                    "warehouse_id": wh,
                    "product_min_qty": 10,
                    "product_max_qty": 40,
                    "trigger": "manual",
                }
                for pid in chunk
                for wh in wh_ids
            ],
        )
        # the sandbox numbers templates like products: template of product n is first + n
        await client.create(
            "product.supplierinfo",
            [
                {
                    "partner_id": partner,
                    "product_tmpl_id": first_template + (pid - product_ids[0]),
                    "min_qty": 12,
                    "price": 2.5,
                    "delay": 5,
                }
                for pid in chunk
            ],
        )
    return codes


async def _recommend(
    url: str, db: str, login: str, password: str, skus: int, wh: int
) -> dict[str, Any]:
    settings = OdooSettings(url=url, database=db, login=login, password=password, timeout_s=600)
    async with OdooClient(settings, name="bench-seed") as seed:
        codes = await _seed_catalogue(seed, skus, wh)
    ops = OdooOperations(OdooClient(settings, name="bench-recommend"))
    try:
        await ops.client.connect()
        before = ops.client.stats.calls
        started = time.perf_counter()
        inputs = await ops.replenishment_inputs(codes)
        read_s = time.perf_counter() - started
        recs, skipped = recommend(inputs)
        total_s = time.perf_counter() - started
        calls = ops.client.stats.calls - before
        by_method = dict(sorted((ops.client.stats.by_method or {}).items()))
    finally:
        await ops.aclose()
    lines = sum(len(r.lines) for r in recs)
    if lines != skus * wh or skipped:
        raise RuntimeError(
            f"expected {skus * wh} recommended lines, got {lines} ({len(skipped)} skipped)"
        )
    return {
        "skus": skus,
        "warehouses": wh,
        "recommend_s": round(total_s, 2),
        "recommend_read_s": round(read_s, 2),
        "recommended_lines": lines,
        "recommendations": len(recs),
        "odoo_calls": calls,
        "odoo_calls_per_sku": round(calls / skus, 5),
        "recommend_calls_by_method": by_method,
    }


def _order(n: int, tag: str, skus: Sequence[str], lines: int) -> PurchaseOrder:
    return PurchaseOrder(
        external_ref=f"{tag}-{n}",
        source="bench",
        supplier_ref="BENCH-PO-SUP",
        currency="USD",
        order_date=datetime.now(UTC).date(),
        warehouse="WH",
        lines=[
            {"sku": skus[(n * lines + j) % len(skus)], "quantity": "3", "unit_price": "2.5"}
            for j in range(lines)
        ],
    )


async def _orders(
    url: str,
    db: str,
    login: str,
    password: str,
    orders: int,
    lines: int,
    batch_size: int,
    concurrency: int,
) -> dict[str, Any]:
    settings = OdooSettings(
        url=url, database=db, login=login, password=password, timeout_s=600, batch_size=batch_size
    )
    tag = uuid.uuid4().hex[:8]
    async with OdooClient(settings, name="bench-seed") as seed:
        [partner] = await seed.create(
            "res.partner",
            [{"name": "Bench PO supplier", "ref": "BENCH-PO-SUP", "is_company": True}],
        )
        skus = [f"PO-{tag}-{n}" for n in range(20)]
        ids = await seed.create(
            "product.product",
            [{"name": s, "default_code": s, "type": "consu", "is_storable": True} for s in skus],
        )
        product_ids = dict(zip(skus, ids, strict=True))
    hub_orders = [_order(n, f"hub-{tag}", skus, lines) for n in range(orders)]
    one_s = hub_s = 0.0
    async with httpx.AsyncClient() as http:
        plain = PlainJsonRpc(http, url, db, password)
        await plain.login(login)
        ops = OdooOperations(OdooClient(settings, name="bench-po"))
        await ops.client.connect()
        try:
            halves = [range(0, (orders + 1) // 2), range((orders + 1) // 2, orders)]
            for index, numbers in enumerate(halves):
                steps = ["one", "hub"] if index == 0 else ["hub", "one"]
                for step in steps:
                    started = time.perf_counter()
                    if step == "one":
                        for n in numbers:
                            [po] = await plain.execute(
                                "purchase.order",
                                "create",
                                [[_plain_vals(n, tag, partner, product_ids, skus, lines)]],
                            )
                            await plain.execute("purchase.order", "button_confirm", [[po]])
                        one_s += time.perf_counter() - started
                    else:
                        part = hub_orders[numbers.start : numbers.stop]
                        slots = asyncio.Semaphore(concurrency)

                        async def place(
                            batch: list[PurchaseOrder], slots: asyncio.Semaphore = slots
                        ) -> None:
                            async with slots:
                                outcome = await ops.create_purchase_orders(batch)
                                if outcome.failed:
                                    raise RuntimeError(f"hub orders failed: {outcome.failed}")
                                await ops.confirm_purchase_orders(
                                    [r.id for r in outcome.done.values()]
                                )

                        await asyncio.gather(
                            *(
                                place(part[start : start + batch_size])
                                for start in range(0, len(part), batch_size)
                            )
                        )
                        hub_s += time.perf_counter() - started
            hub_calls = ops.client.stats.calls
        finally:
            await ops.aclose()
        for prefix in (f"bench-one:{tag}-", f"bench:hub-{tag}-"):
            rows = await plain.execute(
                "purchase.order",
                "search_read",
                [[["origin", "=like", f"{prefix}%"]]],
                {"fields": ["state"]},
            )
            if len(rows) != orders or any(r["state"] != "purchase" for r in rows):
                raise RuntimeError(f"{prefix}: {len(rows)} orders, not all confirmed")
    one_rate, hub_rate = orders / one_s, orders / hub_s
    return {
        "orders": orders,
        "lines_per_order": lines,
        "hub_po_per_s": round(hub_rate, 2),
        "reference_one_call_po_per_s": round(one_rate, 2),
        "po_vs_one_call": round(hub_rate / one_rate, 2),
        "hub_po_calls_per_order": round(hub_calls / orders, 3),
        "reference_po_calls_per_order": 2.0,
        "hub_po_batch_size": batch_size,
        "hub_po_batches_in_flight": concurrency,
    }


def _plain_vals(
    n: int, tag: str, partner: int, product_ids: dict[str, int], skus: Sequence[str], lines: int
) -> dict[str, Any]:
    return {
        "partner_id": partner,
        "origin": f"bench-one:{tag}-{n}",
        "partner_ref": f"{tag}-{n}",
        "order_line": [
            (
                0,
                0,
                {
                    "product_id": product_ids[skus[(n * lines + j) % len(skus)]],
                    "name": skus[(n * lines + j) % len(skus)],
                    "product_qty": 3,
                    "price_unit": 2.5,
                },
            )
            for j in range(lines)
        ],
    }


async def run_procurement_bench(
    *,
    skus: int = 50_000,
    warehouses: int = 3,
    orders: int = 1000,
    lines_per_order: int = 5,
    batch_size: int = 50,
    hub_concurrency: int = 2,
) -> dict[str, Any]:
    if not 1 <= warehouses <= 1 + len(EXTRA_WAREHOUSES):
        raise ValueError(f"warehouses: 1 to {1 + len(EXTRA_WAREHOUSES)}")
    if skus < 1 or orders < 2 or lines_per_order < 1 or batch_size < 1:
        raise ValueError("skus, lines_per_order and batch_size must be >= 1, orders >= 2")
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="crossdock-bench-procurement-") as directory:
        reads = SandboxSettings(latency_record_s=0, path=Path(directory) / "recommend.db")
        server = SandboxServer(reads)
        await asyncio.to_thread(server.start)
        try:
            figures.update(
                await _recommend(
                    server.url, reads.database, reads.login, reads.password, skus, warehouses
                )
            )
        finally:
            await asyncio.to_thread(server.stop)
        writes = SandboxSettings(path=Path(directory) / "orders.db")
        server = SandboxServer(writes)
        await asyncio.to_thread(server.start)
        try:
            figures.update(
                await _orders(
                    server.url,
                    writes.database,
                    writes.login,
                    writes.password,
                    orders,
                    lines_per_order,
                    batch_size,
                    hub_concurrency,
                )
            )
        finally:
            await asyncio.to_thread(server.stop)
    figures["targets"] = dict(TARGETS)
    figures["targets_met"] = {
        "odoo_calls_per_sku": figures["odoo_calls_per_sku"] <= 0.01,
        "po_vs_one_call": figures["po_vs_one_call"] >= 4,
    }
    figures["server"] = "sandbox"
    return figures
