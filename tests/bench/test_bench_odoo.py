"""`crossdock bench odoo` on a sandbox without latency: every figure is there and positive, every
measured order was really created and confirmed (the bench checks it), and the hub needs far fewer
calls per order than the plain one-call client (behaviour, not timings)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from crossdock.bench.odoo import run_odoo_bench
from crossdock.cli import app
from crossdock.sandbox.odoo import SandboxSettings

RATES = (
    "hub_orders_per_s",
    "reference_one_call_orders_per_s",
    "reference_batched_orders_per_s",
    "hub_vs_one_call",
    "hub_vs_batched",
    "reference_one_call_create_orders_per_s",
    "reference_one_call_confirm_orders_per_s",
    "reference_batched_create_orders_per_s",
    "reference_batched_confirm_orders_per_s",
)


async def test_a_small_run_reports_every_figure_and_few_calls_per_order() -> None:
    quiet = SandboxSettings(latency_call_s=0, latency_record_s=0)

    figures = await run_odoo_bench(orders=20, lines_per_order=2, sandbox=quiet)

    assert (figures["orders"], figures["lines_per_order"]) == (20, 2)
    assert all(figures[key] > 0 for key in RATES), {k: figures[k] for k in RATES}
    assert (figures["server"], figures["version"], figures["transport"]) == (
        "sandbox",
        "18.0",
        "jsonrpc",
    )
    assert figures["targets"] == {"hub_vs_one_call": ">= 4", "hub_vs_batched": ">= 0.8"}
    assert set(figures["targets_met"]) == {"hub_vs_one_call", "hub_vs_batched"}
    assert figures["reference_one_call_calls_per_order"] == 2.0
    # two batches of 10 (one per half of the run): per batch one natural-key lookup, one create,
    # one read of the names, one confirm; customers, SKUs and the currency's pricelist (the
    # currency, then its pricelist) looked up once, then cached
    assert figures["odoo_calls_per_order"] == 0.6
    calls = figures["hub_calls_by_method"]
    assert calls["sale.order.create"] == calls["sale.order.action_confirm"] == 2
    assert calls["res.partner.search_read"] == calls["product.product.search_read"] == 1
    assert calls["res.currency.search_read"] == calls["product.pricelist.search_read"] == 1
    assert sum(calls.values()) == 12
    # past the look-ups made once a run, a quarter of the one-call reference's calls or fewer
    lookups = ("res.partner", "product.product", "res.currency", "product.pricelist")
    once = sum(calls[f"{model}.search_read"] for model in lookups)
    per_order = (sum(calls.values()) - once) / figures["orders"]
    assert per_order <= figures["reference_one_call_calls_per_order"] / 4


def test_the_command_prints_one_json_object() -> None:
    result = CliRunner().invoke(app, ["bench", "odoo", "--json", "--orders", "4", "--lines", "1"])

    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["orders"] == 4 and figures["lines_per_order"] == 1
    assert figures["server"] == "sandbox" and figures["hub_orders_per_s"] > 0


def test_a_real_odoo_needs_its_database_and_login() -> None:
    result = CliRunner().invoke(
        app, ["bench", "odoo", "--odoo-url", "http://127.0.0.1:1"], env={}
    )

    assert result.exit_code != 0
    assert "--db" in result.output
