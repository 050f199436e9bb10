"""`crossdock bench edi` on a small interchange: the figures are there and every set was read."""

from __future__ import annotations

from crossdock.bench.edi import run_edi_bench


def test_edi_bench_reports_its_figures() -> None:
    figures = run_edi_bench(megabytes=1, lines=5, rounds=1, validate_megabytes=1)
    for key in (
        "parse_mb_per_s",
        "split_mb_per_s",
        "parse_vs_split",
        "peak_rss_mb_above_baseline",
        "parse_validate_mb_per_s",
    ):
        assert figures[key] > 0 or key == "peak_rss_mb_above_baseline"
    assert figures["transaction_sets"] > 100
    assert set(figures["targets_met"]) == {"parse_vs_split", "peak_rss_mb_above_baseline"}
