"""`crossdock bench payments`: payment events matched to invoices and registered in Odoo.

One run, on one server (the sandbox with its default latencies on a temporary SQLite file):
``payments`` invoices are posted for the hub and as many for the reference, then

- ``payments_per_s``: as many ``payment.reported`` events (each naming its invoice, as a gateway
  or a bank statement does) appended to an engine on a temporary SQLite file, and consumed by the
  payments flow with its workers — matched (invoices looked up by reference), allocated,
  registered through the connector (:meth:`~crossdock.connectors.odoo.OdooOperations.
  register_payments`: full payments of a batch in one ``account.payment.register`` wizard) and
  recorded — from the first append to the last payment recorded;
- ``reference_one_call_per_s``: a plain JSON-RPC client (bare ``httpx``) registering each payment
  on its own: one wizard per payment (``create`` with the amount, then
  ``action_create_payments``), no matching, what a script paying invoices one by one does.

``payments_vs_one_call`` is their ratio (target >= 4); ``odoo_calls_per_payment`` counts the
hub's calls to Odoo (retries included) from the connector's counters. Both are checked afterwards:
every invoice of each side must be paid exactly once, or the bench fails.
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from crossdock.bench.odoo import PlainJsonRpc
from crossdock.config.schema import Config, EngineConfig
from crossdock.connectors.gateway.report import PaymentReport
from crossdock.connectors.odoo import OdooClient, OdooOperations, OdooSettings
from crossdock.engine import Engine, EngineSettings, Lane, NewEvent, insert_events
from crossdock.flows.payments import register
from crossdock.flows.payments.events import REPORTED, STREAM
from crossdock.flows.payments.store import counts
from crossdock.migrations import upgrade
from crossdock.sandbox.odoo import SandboxServer, SandboxSettings

__all__ = ["TARGETS", "run_payments_bench"]

TARGETS = {"payments_vs_one_call": ">= 4"}
CHUNK = 1000
PER_CUSTOMER = 100


async def _invoices(ops: OdooOperations, tag: str, count: int) -> list[tuple[int, str, Decimal]]:
    """``count`` posted invoices (id, number, amount), ``PER_CUSTOMER`` per new customer."""
    out: list[tuple[int, str, Decimal]] = []
    for start in range(0, count, CHUNK):
        size = min(CHUNK, count - start)
        partners = await ops.client.create(
            "res.partner",
            [
                {"name": f"Bench payer {tag}-{start + n}", "ref": f"bench:{tag}-{start + n}"}
                for n in range(0, size, PER_CUSTOMER)
            ],
        )
        amounts = [Decimal(10 + (start + n) % 90) for n in range(size)]
        moves = await ops.client.create(
            "account.move",
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": partners[n // PER_CUSTOMER],
                    "invoice_date": date.today().isoformat(),
                    "invoice_line_ids": [
                        (0, 0, {"name": "Goods", "quantity": 1, "price_unit": float(amount),
                                "tax_ids": [(6, 0, [])]})
                    ],
                }
                for n, amount in enumerate(amounts)
            ],
        )  # fmt: skip
        await ops.client.call("account.move", "action_post", moves)
        rows = await ops.client.read("account.move", moves, ["name"])
        names = {int(r["id"]): str(r["name"]) for r in rows}
        out += [(m, names[m], a) for m, a in zip(moves, amounts, strict=True)]
    return out


async def _unpaid(ops: OdooOperations, names: list[str]) -> int:
    found = []
    for start in range(0, len(names), CHUNK):
        found += await ops.find_invoices(names[start : start + CHUNK])
    return sum(1 for i in found if not i.paid) + len(names) - len(found)


async def _hub(
    ops: OdooOperations, invoices: list[tuple[int, str, Decimal]], folder: Path, batch_size: int
) -> tuple[float, int]:
    url = f"sqlite:///{folder / 'hub.db'}"
    upgrade(url)
    engine = Engine(url, settings=EngineSettings(partitions=8), lanes=[Lane("default", 0, 1)])
    config = Config(engine=EngineConfig(batch_size=batch_size, max_attempts=5))
    register(engine, ops, config)
    now = datetime.now(UTC)
    events = [
        NewEvent(
            REPORTED,
            "gateway:bench",
            STREAM,
            {
                "payment": PaymentReport(
                    f"bench:{name}", "bench", "captured", amount, "USD", name, None, now
                ).data()
            },
            idempotency_key=f"bench:{name}",
        )
        for _, name, amount in invoices
    ]
    calls_before = ops.client.stats.calls
    await engine.start(workers=True, scheduler=False)
    try:
        started = time.perf_counter()
        for start in range(0, len(events), CHUNK):
            chunk = events[start : start + CHUNK]
            await engine.writer.submit(
                lambda c, chunk=chunk: insert_events(c, chunk, engine.partitions),  # type: ignore[misc]
                appends=True,
            )
        while True:
            done = await engine.db.read(counts)
            pending = done.get("received", 0) + done.get("registering", 0)
            if sum(done.values()) >= len(events) and not pending:
                break
            await asyncio.sleep(0.05)  # a bench waits on the outcome; tests never sleep
        elapsed = time.perf_counter() - started
    finally:
        await engine.stop()
    if done.get("registered", 0) != len(events):
        raise RuntimeError(f"the hub did not register every payment: {done}")
    return elapsed, ops.client.stats.calls - calls_before


async def _reference(client: PlainJsonRpc, invoices: list[tuple[int, str, Decimal]]) -> float:
    started = time.perf_counter()
    for move, name, amount in invoices:
        context = {"active_model": "account.move", "active_ids": [move], "active_id": move}
        wizard = await client.execute(
            "account.payment.register",
            "create",
            [[{"amount": float(amount), "communication": f"reference {name}"}]],
            {"context": context},
        )
        wizard_id = wizard[0] if isinstance(wizard, list) else wizard
        await client.execute(
            "account.payment.register",
            "action_create_payments",
            [[wizard_id]],
            {"context": context},
        )
    return time.perf_counter() - started


async def run_payments_bench(
    *, payments: int = 10_000, batch_size: int = 500, sandbox: SandboxSettings | None = None
) -> dict[str, Any]:
    """Measure the hub and the reference on one sandbox; figures as one JSON-able dict."""
    if payments < 1 or batch_size < 1:
        raise ValueError("payments and batch_size must be at least 1")
    with tempfile.TemporaryDirectory(prefix="crossdock-bench-payments-") as directory:
        folder = Path(directory)
        settings = sandbox or SandboxSettings()
        if settings.path is None:
            settings = dataclasses.replace(settings, path=folder / "odoo.db")
        server = SandboxServer(settings)
        await asyncio.to_thread(server.start)
        try:
            odoo = OdooSettings(
                url=server.url,
                database=settings.database,
                login=settings.login,
                password=settings.password,
            )
            ops = OdooOperations(OdooClient(odoo))
            tag = uuid.uuid4().hex[:6]
            hub_invoices = await _invoices(ops, f"{tag}h", payments)
            reference_invoices = await _invoices(ops, f"{tag}r", payments)
            hub_s, hub_calls = await _hub(ops, hub_invoices, folder, batch_size)
            async with httpx.AsyncClient() as http:
                client = PlainJsonRpc(http, server.url, settings.database, settings.password)
                await client.login(settings.login)
                reference_s = await _reference(client, reference_invoices)
            unpaid = await _unpaid(ops, [n for _, n, _ in hub_invoices + reference_invoices])
            await ops.aclose()
        finally:
            await asyncio.to_thread(server.stop)
    if unpaid:
        raise RuntimeError(f"{unpaid} invoices are not paid after the bench")
    hub_rate = payments / hub_s
    reference_rate = payments / reference_s
    return {
        "bench": "payments",
        "odoo": "sandbox",
        "payments": payments,
        "batch_size": batch_size,
        "payments_per_s": round(hub_rate, 1),
        "reference_one_call_per_s": round(reference_rate, 1),
        "payments_vs_one_call": round(hub_rate / reference_rate, 2),
        "odoo_calls_per_payment": round(hub_calls / payments, 4),
        "targets": TARGETS,
    }
