"""`crossdock bench <name>`: benchmarks printing one JSON object of figures and references."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import typer

from crossdock.ops.logging import configure_logging

app = typer.Typer(no_args_is_help=True, help="Benchmarks (JSON figures with their references).")


def _emit(figures: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(figures, indent=2))
        return
    for key, value in figures.items():
        typer.echo(f"{key:40} {value}")


@app.command("engine")
def engine_bench(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    events: int = typer.Option(50_000, help="Events per measurement."),
    pg_url: str | None = typer.Option(
        None, "--pg-url", help="PostgreSQL server to measure too (a scratch database is created)."
    ),
    synchronous: str = typer.Option("FULL", help="SQLite synchronous pragma: FULL or NORMAL."),
) -> None:
    """Event engine: append, handle and latency, next to a raw SQLite insert reference."""
    from crossdock.bench.engine import run_engine_bench

    configure_logging("warning")
    _emit(
        asyncio.run(run_engine_bench(events=events, pg_url=pg_url, synchronous=synchronous)),
        as_json,
    )
