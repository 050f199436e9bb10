"""`crossdock bench procurement` on small sandboxes: every figure is there, every SKU in every
warehouse was recommended and every measured order confirmed (the bench checks both), and the
hub's calls grow with pages, not with SKUs or orders (behaviour, not timings)."""

from __future__ import annotations

from crossdock.bench.procurement import run_procurement_bench


async def test_a_small_run_reports_every_figure_with_few_calls() -> None:
    figures = await run_procurement_bench(skus=300, warehouses=3, orders=40, lines_per_order=2)

    assert figures["recommended_lines"] == 900
    assert figures["odoo_calls"] < 300 / 10  # pages, not one call per SKU
    assert figures["hub_po_calls_per_order"] < figures["reference_po_calls_per_order"]
    assert figures["recommend_s"] > 0 and figures["po_vs_one_call"] > 0
    assert figures["targets"] == {"odoo_calls_per_sku": "<= 0.01", "po_vs_one_call": ">= 4"}
    assert set(figures["targets_met"]) == {"odoo_calls_per_sku", "po_vs_one_call"}
