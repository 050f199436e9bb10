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
- *receipts*, on the same server: the receipt of every order of both sets validated, every tenth
  one a unit short (a backorder kept). The reference, for each receipt, writes its moves'
  quantities and calls ``button_validate``, answering the backorder wizard when it comes (its
  pickings and moves are read for it before it is timed); the hub sends canonical
  :class:`~crossdock.model.Receipt` objects through
  :meth:`~crossdock.connectors.odoo.OdooOperations.receive_many` in batches (one write per
  distinct quantity, one ``button_validate`` per batch), in halves as above. Both are checked
  afterwards (every receipt done, the expected backorders open). ``receipts_vs_one_call`` is
  the ratio of their rates (target ``>= 4``); ``hub_receipt_call_ms_per_receipt`` and
  ``reference_receipt_call_ms_per_receipt`` split the time of their calls by ``model.method``
  (on a real Odoo, its validation of the moves is most of both).
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from crossdock.bench.odoo import PlainJsonRpc
from crossdock.connectors.odoo import OdooClient, OdooOperations, OdooSettings
from crossdock.flows.procurement.recommend import recommend
from crossdock.model import PurchaseOrder, Receipt
from crossdock.sandbox.odoo import SandboxServer, SandboxSettings

__all__ = ["TARGETS", "run_procurement_bench"]

TARGETS = {
    "odoo_calls_per_sku": "<= 0.01",
    "po_vs_one_call": ">= 4",
    "receipts_vs_one_call": ">= 4",
}
SEED_BATCH = 5000
EXTRA_WAREHOUSES = ("BW2", "BW3", "BW4", "BW5")


@dataclass
class _CallTimes:
    """A call observer summing the time of the hub's calls by ``model.method``."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def calling(
        self, system: str, operation: str, attributes: Mapping[str, str]
    ) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            spent = time.perf_counter() - started
            self.seconds[operation] = self.seconds.get(operation, 0.0) + spent

    def retrying(self, system: str, error: BaseException) -> None:
        return None

    def watch_circuit(self, system: str, state: object) -> None:
        return None

    def outgoing_headers(self) -> Mapping[str, str]:
        return {}


def _ms_per(seconds: Mapping[str, float], count: int) -> dict[str, float]:
    """Time spent in each kind of call, in milliseconds per document, largest first."""
    return {
        k: round(v / count * 1000, 1)
        for k, v in sorted(seconds.items(), key=lambda kv: -kv[1])
        if v > 0
    }


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


def _order(n: int, tag: str, supplier: str, skus: Sequence[str], lines: int) -> PurchaseOrder:
    return PurchaseOrder(
        external_ref=f"{tag}-{n}",
        source="bench",
        supplier_ref=supplier,
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
            [{"name": "Bench PO supplier", "ref": f"BENCH-PO-SUP-{tag}", "is_company": True}],
        )
        skus = [f"PO-{tag}-{n}" for n in range(20)]
        ids = await seed.create(
            "product.product",
            [{"name": s, "default_code": s, "type": "consu", "is_storable": True} for s in skus],
        )
        product_ids = dict(zip(skus, ids, strict=True))
    hub_orders = [
        _order(n, f"hub-{tag}", f"BENCH-PO-SUP-{tag}", skus, lines) for n in range(orders)
    ]
    halves = [range(0, (orders + 1) // 2), range((orders + 1) // 2, orders)]
    one_ids: dict[int, int] = {}
    hub_ids: dict[int, int] = {}
    one_s = hub_s = 0.0
    async with httpx.AsyncClient() as http:
        plain = PlainJsonRpc(http, url, db, password)
        await plain.login(login)
        times = _CallTimes()
        ops = OdooOperations(OdooClient(settings, name="bench-po", observer=times))
        await ops.client.connect()
        try:
            for index, numbers in enumerate(halves):
                for step in ["one", "hub"] if index == 0 else ["hub", "one"]:
                    started = time.perf_counter()
                    if step == "one":
                        for n in numbers:
                            [po] = await plain.execute(
                                "purchase.order",
                                "create",
                                [[_plain_vals(n, tag, partner, product_ids, skus, lines)]],
                            )
                            await plain.execute("purchase.order", "button_confirm", [[po]])
                            one_ids[n] = int(po)
                        one_s += time.perf_counter() - started
                    else:
                        hub_ids.update(
                            await _hub_orders(
                                ops,
                                hub_orders,
                                numbers,
                                f"bench:hub-{tag}-",
                                batch_size,
                                concurrency,
                            )
                        )
                        hub_s += time.perf_counter() - started
            hub_calls = ops.client.stats.calls
            for prefix in (f"bench-one:{tag}-", f"bench:hub-{tag}-"):
                rows = await plain.execute(
                    "purchase.order",
                    "search_read",
                    [[["origin", "=like", f"{prefix}%"]]],
                    {"fields": ["state"]},
                )
                if len(rows) != orders or any(r["state"] != "purchase" for r in rows):
                    raise RuntimeError(f"{prefix}: {len(rows)} orders, not all confirmed")
            receipts = await _receipts(
                plain, ops, times, one_ids, hub_ids, halves, skus, lines, batch_size, concurrency
            )
        finally:
            await ops.aclose()
    one_rate, hub_rate = orders / one_s, orders / hub_s
    return {
        "orders": orders,
        "lines_per_order": lines,
        "hub_po_per_s": round(hub_rate, 2),
        "reference_one_call_po_per_s": round(one_rate, 2),
        "po_vs_one_call": round(hub_rate / one_rate, 2),
        "hub_po_calls_per_order": round(hub_calls / orders, 3),
        "reference_po_calls_per_order": 2.0,
        **receipts,
        "hub_batch_size": batch_size,
        "hub_batches_in_flight": concurrency,
    }


async def _hub_orders(
    ops: OdooOperations,
    hub_orders: Sequence[PurchaseOrder],
    numbers: range,
    prefix: str,
    batch_size: int,
    concurrency: int,
) -> dict[int, int]:
    """The orders ``numbers`` created and confirmed by the connector, ``concurrency`` batches in
    flight, each batch created then confirmed; their ids by order number."""
    pending = [
        hub_orders[start : min(start + batch_size, numbers.stop)]
        for start in range(numbers.start, numbers.stop, batch_size)
    ]
    placed: dict[int, int] = {}

    async def flow() -> None:
        while pending:
            batch = pending.pop(0)
            outcome = await ops.create_purchase_orders(batch)
            outcome.raise_first()
            await ops.confirm_purchase_orders([r.id for r in outcome.done.values()])
            for key, ref in outcome.done.items():
                placed[int(key.removeprefix(prefix))] = ref.id

    await asyncio.gather(*(flow() for _ in range(max(1, concurrency))))
    return placed


def _short(n: int) -> bool:
    """Every tenth receipt comes one unit short of its first line (a backorder is kept)."""
    return n % 10 == 0


async def _receipts(
    plain: PlainJsonRpc,
    ops: OdooOperations,
    times: _CallTimes,
    one_ids: dict[int, int],
    hub_ids: dict[int, int],
    halves: Sequence[range],
    skus: Sequence[str],
    lines: int,
    batch_size: int,
    concurrency: int,
) -> dict[str, Any]:
    """The receipts of both sets of orders validated: by the reference, for each receipt its
    moves' quantities written and ``button_validate`` (the backorder wizard answered when short),
    by the hub, :class:`~crossdock.model.Receipt` objects through
    :meth:`~crossdock.connectors.odoo.OdooOperations.receive_many` in batches."""
    # the reference is given its pickings and moves, read before it is timed
    rows = await plain.execute(
        "stock.picking",
        "search_read",
        [[["purchase_id", "in", sorted(one_ids.values())]]],
        {"fields": ["purchase_id", "move_ids"]},
    )
    picking_of = {int(r["purchase_id"][0]): (int(r["id"]), list(r["move_ids"])) for r in rows}
    receipt_vals = {"quantity": 3, "picked": True}
    one_times: dict[str, float] = {}
    hub_times: dict[str, float] = {}

    async def reference_call(
        model: str, method: str, args: list[Any], kwargs: dict[str, Any] | None = None
    ) -> Any:
        started = time.perf_counter()
        try:
            return await plain.execute(model, method, args, kwargs)
        finally:
            key = f"{model}.{method}"
            one_times[key] = one_times.get(key, 0.0) + time.perf_counter() - started

    one_s = hub_s = 0.0
    one_calls = 0
    hub_calls = 0
    for index, numbers in enumerate(halves):
        for step in ["one", "hub"] if index == 0 else ["hub", "one"]:
            started = time.perf_counter()
            if step == "one":
                before = plain.calls
                for n in numbers:
                    picking, moves = picking_of[one_ids[n]]
                    await reference_call("stock.move", "write", [moves, receipt_vals])
                    if _short(n):
                        await reference_call("stock.move", "write", [moves[:1], {"quantity": 2}])
                    answer = await reference_call("stock.picking", "button_validate", [[picking]])
                    if isinstance(answer, dict) and answer.get("res_model"):
                        model, context = str(answer["res_model"]), dict(answer["context"])
                        [wizard] = await reference_call(
                            model, "create", [[{}]], {"context": context}
                        )
                        await reference_call(model, "process", [[wizard]], {"context": context})
                one_s += time.perf_counter() - started
                one_calls += plain.calls - before
            else:
                before = ops.client.stats.calls
                spent = dict(times.seconds)
                work = [(hub_ids[n], _receipt(n, skus, lines)) for n in numbers]
                pending = [work[i : i + batch_size] for i in range(0, len(work), batch_size)]

                async def flow(pending: list[list[tuple[int, Receipt]]] = pending) -> None:
                    while pending:
                        outcome = await ops.receive_many(pending.pop(0), backorder="create")
                        outcome.raise_first()

                await asyncio.gather(*(flow() for _ in range(max(1, concurrency))))
                hub_s += time.perf_counter() - started
                hub_calls += ops.client.stats.calls - before
                for key, value in times.seconds.items():
                    hub_times[key] = hub_times.get(key, 0.0) + value - spent.get(key, 0.0)
    for name, order_ids in (("reference", one_ids), ("hub", hub_ids)):
        rows = await plain.execute(
            "stock.picking",
            "search_read",
            [[["purchase_id", "in", sorted(order_ids.values())]]],
            {"fields": ["state", "backorder_id"]},
        )
        done = sum(1 for r in rows if r["state"] == "done" and not r["backorder_id"])
        backorders = sum(1 for r in rows if r["backorder_id"] and r["state"] != "done")
        expected_backorders = sum(1 for n in order_ids if _short(n))
        if done != len(order_ids) or backorders != expected_backorders:
            raise RuntimeError(
                f"{name} receipts: {done} of {len(order_ids)} validated, "
                f"{backorders} backorders ({expected_backorders} expected)"
            )
    receipts = len(hub_ids)
    one_rate, hub_rate = receipts / one_s, receipts / hub_s
    return {
        "receipts": receipts,
        "hub_receipts_per_s": round(hub_rate, 2),
        "reference_one_call_receipts_per_s": round(one_rate, 2),
        "receipts_vs_one_call": round(hub_rate / one_rate, 2),
        "hub_receipt_calls_per_receipt": round(hub_calls / receipts, 3),
        "reference_receipt_calls_per_receipt": round(one_calls / receipts, 3),
        "hub_receipt_call_ms_per_receipt": _ms_per(hub_times, receipts),
        "reference_receipt_call_ms_per_receipt": _ms_per(one_times, receipts),
    }


def _receipt(n: int, skus: Sequence[str], lines: int) -> Receipt:
    quantities: dict[str, int] = {}
    for j in range(lines):
        sku = skus[(n * lines + j) % len(skus)]
        quantities[sku] = quantities.get(sku, 0) + 3
    if _short(n):
        quantities[skus[(n * lines) % len(skus)]] -= 1
    return Receipt(
        external_ref=f"bench-receipt-{n}",
        source="bench",
        warehouse="WH",
        received_at=datetime.now(UTC),
        lines=[{"sku": sku, "quantity": str(qty)} for sku, qty in quantities.items()],
    )


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


@dataclass(frozen=True)
class BenchOdoo:
    """A real Odoo to measure purchase orders and receipts on (17 or later)."""

    url: str
    database: str
    login: str
    password: str


async def run_procurement_bench(
    *,
    skus: int = 50_000,
    warehouses: int = 3,
    orders: int = 1000,
    lines_per_order: int = 5,
    batch_size: int = 50,
    hub_concurrency: int = 2,
    real: BenchOdoo | None = None,
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
        if real is not None:
            figures.update(
                await _orders(
                    real.url,
                    real.database,
                    real.login,
                    real.password,
                    orders,
                    lines_per_order,
                    batch_size,
                    hub_concurrency,
                )
            )
        else:
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
        "receipts_vs_one_call": figures["receipts_vs_one_call"] >= 4,
    }
    figures["server"] = "sandbox" if real is None else f"sandbox; orders and receipts: {real.url}"
    return figures
