"""`crossdock reconcile …`: run a reconciliation now and list drift items and runs.

    crossdock reconcile run orders [--fix/--no-fix] [--json] [--strict]
    crossdock reconcile run all
    crossdock reconcile drift [--kind stock] [--json]
    crossdock reconcile runs [--kind orders] [--json]

`run` works in this process against the configured ERP (a sandbox ERP already served by a running
hub is used as it is; otherwise it is started here) and the hub's database, exactly as a scheduled
run in the hub does. Exit status: 0, or 1 when a run failed, or 2 with `--strict` when drift is
present.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import replace
from urllib.parse import urlsplit

import typer

from crossdock.commands.common import ConfigOption, console, with_engine
from crossdock.config import Config
from crossdock.config.reconciliation import KINDS
from crossdock.connectors.odoo import OdooClient, OdooOperations, OdooSettings
from crossdock.connectors.registry import simulator_for
from crossdock.engine import Engine
from crossdock.erp import Erp, connect_erp
from crossdock.flows.order_to_cash import erp_system_of
from crossdock.flows.reconciliation.report import (
    item_json,
    items_table,
    render,
    report_json,
    run_json,
)
from crossdock.flows.reconciliation.service import Reconciliation, Report
from crossdock.flows.reconciliation.store import list_runs, open_drift
from crossdock.policy import erp_may_create_customers

app = typer.Typer(no_args_is_help=True, help="Reconciliation of orders, invoices and stock.")


def _listening(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), 0.5):
            return True
    except OSError:
        return False


def connect(cfg: Config) -> Erp:
    """The configured ERP; a sandbox ERP that a running hub already serves is joined, not
    started a second time on the same port and file."""
    name = erp_system_of(cfg)
    system = cfg.systems[name]
    if not (system.sandbox and _listening(system.url)):
        return connect_erp(cfg)
    owned = erp_may_create_customers(cfg.ownership.customers, name)
    settings = OdooSettings.from_system(name, system, customers_owned=owned)
    simulated = simulator_for(system.kind).settings(database=settings.database or "crossdock")
    settings = replace(
        settings,
        login=settings.login or simulated.login,
        password=settings.password or simulated.password,
        database=simulated.database,
    )
    return Erp(name, OdooOperations(OdooClient(settings, name=name), system=name))




@app.command("run")
def run_command(
    kind: str = typer.Argument(..., help="orders, invoices, stock, or all."),
    config: ConfigOption = None,
    fix: bool | None = typer.Option(
        None,
        "--fix/--no-fix",
        help="Apply the owner's value where allowed (default: reconciliation.<kind>.auto_correct).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the reports as one JSON document."),
    strict: bool = typer.Option(False, "--strict", help="Exit 2 when drift is present."),
) -> None:
    """Run a reconciliation now, store it, and print its report."""
    if kind != "all" and kind not in KINDS:
        raise typer.BadParameter(f"one of {', '.join(KINDS)} or all", param_hint="KIND")
    kinds = list(KINDS) if kind == "all" else [kind]

    async def work(cfg: Config, engine: Engine) -> tuple[list[Report], list[str]]:
        erp = connect(cfg)
        try:
            service = Reconciliation(engine, erp.operations, cfg)
            reports: list[Report] = []
            failures: list[str] = []
            for name in kinds:
                try:
                    reports.append(await service.run(name, fix=fix, trigger="cli"))
                except Exception as exc:
                    failures.append(f"{name}: {type(exc).__name__}: {exc}")
            return reports, failures
        finally:
            await erp.close()

    reports, failures = with_engine(config, work)
    if as_json:
        document = {"reports": [report_json(r) for r in reports], "failures": failures}
        typer.echo(json.dumps(document, indent=2, default=str))
    else:
        for report in reports:
            console.print(render(report))
        for failure in failures:
            console.print(f"[bold red]{failure}[/bold red]")
    if failures:
        raise typer.Exit(1)
    if strict and any(r.items for r in reports):
        raise typer.Exit(2)


@app.command("drift")
def drift_command(
    config: ConfigOption = None,
    kind: str | None = typer.Option(None, help="Only orders, invoices or stock."),
    limit: int = typer.Option(100, help="At most this many, oldest first."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """Drift items still present (open, or being corrected), oldest first."""
    items = with_engine(
        config, lambda cfg, e: e.db.read(lambda c: open_drift(c, kind, limit=limit))
    )
    now = time.time()
    if as_json:
        for item in items:
            typer.echo(json.dumps(item_json(item, now), default=str))
        return
    console.print(items_table(items, now) if items else "no drift")


@app.command("runs")
def runs_command(
    config: ConfigOption = None,
    kind: str | None = typer.Option(None, help="Only orders, invoices or stock."),
    limit: int = typer.Option(20, help="At most this many, newest first."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """Recent runs, newest first."""
    runs = with_engine(config, lambda cfg, e: e.db.read(lambda c: list_runs(c, kind, limit)))
    if as_json:
        for run in runs:
            typer.echo(json.dumps(run_json(run), default=str))
        return
    from rich.table import Table

    table = Table(
        "started",
        "kind",
        "status",
        "trigger",
        "found",
        "new",
        "closed",
        "corrected",
        "exceptions",
        "value",
    )
    for run in runs:
        r = run_json(run)
        table.add_row(
            str(r["started_at"]),
            run.kind,
            run.status,
            run.trigger,
            str(run.found),
            str(run.new),
            str(run.closed),
            str(run.corrected),
            str(run.exceptions),
            str(run.value),
        )
    console.print(table if runs else "no runs yet")
