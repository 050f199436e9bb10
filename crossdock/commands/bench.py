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
    rounds: int = typer.Option(
        5, min=1, help="Rounds of raw references and batched append (medians are reported)."
    ),
) -> None:
    """Event engine: append, handle and latency, next to a raw SQLite insert reference."""
    from crossdock.bench.engine import run_engine_bench

    configure_logging("warning")
    figures = run_engine_bench(
        events=events, pg_url=pg_url, synchronous=synchronous, rounds_count=rounds
    )
    _emit(asyncio.run(figures), as_json)


@app.command("intake")
def intake_bench(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    orders: int = typer.Option(3000, help="Orders per concurrency level."),
) -> None:
    """Order intake over real HTTP against `crossdock serve`: throughput and accept latency."""
    from crossdock.bench.intake import run_intake_bench

    configure_logging("warning")
    _emit(asyncio.run(run_intake_bench(orders=orders)), as_json)


@app.command("shopify")
def shopify_bench(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    burst: int = typer.Option(2000, help="Webhooks of the acknowledgement burst."),
    skus: int = typer.Option(2500, help="SKUs of the stock publication (at 4 locations)."),
) -> None:
    """Shopify: webhooks acknowledged, and stock published within the cost bucket."""
    from crossdock.bench.shopify import run_shopify_bench

    configure_logging("warning")
    _emit(asyncio.run(run_shopify_bench(burst=burst, skus=skus)), as_json)


@app.command("odoo")
def odoo_bench(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    orders: int = typer.Option(200, help="Sale orders per measurement (three measurements)."),
    lines: int = typer.Option(3, "--lines", help="Lines per order."),
    odoo_url: str | None = typer.Option(
        None, "--odoo-url", help="A real Odoo to measure (default: a sandbox started here)."
    ),
    db: str | None = typer.Option(None, "--db", help="Database of the real Odoo."),
    user: str | None = typer.Option(None, "--user", help="Login on the real Odoo."),
    password: str | None = typer.Option(
        None,
        "--password",
        envvar="CROSSDOCK_ODOO_PASSWORD",
        show_envvar=True,
        help="Password (or API key) of the login.",
    ),
) -> None:
    """Odoo sale orders created and confirmed: the hub next to plain one-call and batched clients.

    Without --odoo-url a sandbox with realistic latencies is started on a temporary file.
    """
    from crossdock.bench.odoo import run_odoo_bench

    if odoo_url and not (db and user and password):
        raise typer.BadParameter(
            "--odoo-url needs --db, --user and --password", param_hint="--odoo-url"
        )
    configure_logging("warning")
    _emit(
        asyncio.run(
            run_odoo_bench(
                orders=orders,
                lines_per_order=lines,
                url=odoo_url,
                db=db,
                user=user,
                password=password if odoo_url else None,
            )
        ),
        as_json,
    )


@app.command("payments")
def payments_bench(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    payments: int = typer.Option(10_000, help="Payment events matched and registered."),
    batch_size: int = typer.Option(500, help="Events per batch of the payments flow."),
) -> None:
    """Payments matched and registered in Odoo (the sandbox), next to one wizard per payment."""
    from crossdock.bench.payments import run_payments_bench

    configure_logging("warning")
    _emit(asyncio.run(run_payments_bench(payments=payments, batch_size=batch_size)), as_json)


@app.command("inventory")
def inventory_bench(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    events: int = typer.Option(100_000, help="Stock events in the burst."),
    skus: int = typer.Option(5_000, help="SKUs the events spread over."),
    locations: int = typer.Option(1, help="Warehouse locations per SKU."),
    per_request: int = typer.Option(1_000, "--per-request", help="Events per HTTP request."),
    concurrency: int = typer.Option(4, help="Connections sending at once."),
    latency_call: float = typer.Option(0.015, help="Sandbox latency per Odoo call (s)."),
    latency_record: float = typer.Option(
        0.003, help="Sandbox latency per record Odoo creates (s)."
    ),
) -> None:
    """Stock events over real HTTP against `crossdock serve`: intake, Odoo writes, convergence."""
    from crossdock.bench.inventory import run_inventory_bench

    configure_logging("warning")
    _emit(
        asyncio.run(
            run_inventory_bench(
                events=events,
                skus=skus,
                locations=locations,
                per_request=per_request,
                concurrency=concurrency,
                latency_call_s=latency_call,
                latency_record_s=latency_record,
            )
        ),
        as_json,
    )


@app.command("lanes")
def lanes_bench(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    events: int = typer.Option(200_000, help="Stock events in the burst."),
    skus: int = typer.Option(5_000, help="SKUs the events spread over."),
    orders_per_s: float = typer.Option(10, "--orders-per-s", help="Orders arriving a second."),
    phase_s: float = typer.Option(15.0, "--phase-s", help="Each idle phase's length (s)."),
) -> None:
    """Orders through `crossdock serve` while a stock burst goes in: accept→confirmed p99 during
    the burst against idle."""
    from crossdock.bench.lanes import run_lanes_bench

    configure_logging("warning")
    _emit(
        run_lanes_bench(events=events, skus=skus, orders_per_s=orders_per_s, phase_s=phase_s),
        as_json,
    )


@app.command("webhooks")
def webhooks_bench(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    events: int = typer.Option(5000, help="Events per burst."),
    concurrency: int = typer.Option(512, help="Deliveries in flight."),
) -> None:
    """Outbound webhooks: deliveries/s with a receiver at 0 ms and 50 ms, event-to-delivery p99."""
    from crossdock.bench.webhooks import run_webhooks_bench

    configure_logging("warning")
    _emit(asyncio.run(run_webhooks_bench(events=events, concurrency=concurrency)), as_json)


@app.command("edi")
def edi_bench(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    megabytes: int = typer.Option(200, "--mb", help="Size of the interchange parsed (MB)."),
    lines: int = typer.Option(20, help="PO1 lines per 850."),
    rounds: int = typer.Option(3, min=1, help="Rounds of split and parse (medians)."),
    validate_mb: int = typer.Option(20, "--validate-mb", help="Interchange validated (MB)."),
) -> None:
    """X12 codec: streaming parse of a large interchange next to a bare split, and its memory."""
    from crossdock.bench.edi import run_edi_bench

    configure_logging("warning")
    _emit(
        run_edi_bench(
            megabytes=megabytes, lines=lines, rounds=rounds, validate_megabytes=validate_mb
        ),
        as_json,
    )


@app.command("procurement")
def procurement_bench(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    skus: int = typer.Option(50_000, help="SKUs with a reorder rule in every warehouse."),
    warehouses: int = typer.Option(3, help="Warehouses replenished (1 to 5)."),
    orders: int = typer.Option(1000, help="Purchase orders per measurement."),
    lines: int = typer.Option(5, help="Lines per purchase order."),
    odoo_url: str | None = typer.Option(
        None,
        "--odoo-url",
        help="A real Odoo to measure purchase orders and receipts on (default: a sandbox).",
    ),
    db: str | None = typer.Option(None, "--db", help="Database of the real Odoo."),
    user: str | None = typer.Option(None, "--user", help="Login on the real Odoo."),
    password: str | None = typer.Option(
        None,
        "--password",
        envvar="CROSSDOCK_ODOO_PASSWORD",
        show_envvar=True,
        help="Password (or API key) of the login.",
    ),
) -> None:
    """Replenishment reads (calls per SKU), purchase orders and receipts against one-call
    references.

    Recommendations always read a sandbox; with --odoo-url, purchase orders and receipts are
    measured on that real Odoo.
    """
    from crossdock.bench.procurement import BenchOdoo, run_procurement_bench

    if odoo_url and not (db and user and password):
        raise typer.BadParameter(
            "--odoo-url needs --db, --user and --password", param_hint="--odoo-url"
        )
    configure_logging("warning")
    _emit(
        asyncio.run(
            run_procurement_bench(
                skus=skus,
                warehouses=warehouses,
                orders=orders,
                lines_per_order=lines,
                real=BenchOdoo(odoo_url.rstrip("/"), db or "", user or "", password or "")
                if odoo_url
                else None,
            )
        ),
        as_json,
    )


@app.command("scale")
def scale_bench(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    pg_url: str = typer.Option(
        ...,
        "--pg-url",
        envvar="CROSSDOCK_BENCH_PG_URL",
        help="PostgreSQL server to measure on (a scratch database is created and dropped).",
    ),
    orders: int = typer.Option(1000, min=10, help="Orders through intake and the flow."),
) -> None:
    """Many nodes on PostgreSQL: CPU, statements and commits per order, and takeover time."""
    from crossdock.bench.scale import run_scale_bench

    configure_logging("warning")
    _emit(asyncio.run(run_scale_bench(pg_url=pg_url, orders=orders)), as_json)
