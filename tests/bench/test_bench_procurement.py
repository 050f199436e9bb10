"""`crossdock bench procurement` on small sandboxes: every figure is there, every SKU in every
warehouse was recommended, every measured order confirmed and every receipt validated (the bench
checks them), and the hub's calls grow with pages and batches, not with SKUs, orders or receipts
(behaviour, not timings)."""

from __future__ import annotations

from crossdock.bench.procurement import run_procurement_bench


async def test_a_small_run_reports_every_figure_with_few_calls() -> None:
    figures = await run_procurement_bench(skus=300, warehouses=3, orders=40, lines_per_order=2)

    assert figures["recommended_lines"] == 900
    assert figures["odoo_calls"] < 300 / 10  # pages, not one call per SKU
    assert figures["hub_po_calls_per_order"] < figures["reference_po_calls_per_order"]
    assert figures["receipts"] == 40
    assert (
        figures["hub_receipt_calls_per_receipt"]
        < 1
        < figures["reference_receipt_calls_per_receipt"]
    )
    assert figures["recommend_s"] > 0 and figures["po_vs_one_call"] > 0
    assert figures["receipts_vs_one_call"] > 0
    assert figures["targets"] == {
        "odoo_calls_per_sku": "<= 0.01",
        "po_vs_one_call": ">= 4",
        "receipts_vs_one_call": ">= 4",
    }
    assert set(figures["targets_met"]) == set(figures["targets"])
