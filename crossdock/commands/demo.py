"""`crossdock demo`: the hub on SQLite with the Odoo sandbox, a simulated shop and warehouse."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.console import Console

from crossdock.demo import RealOdoo, print_report, run_demo
from crossdock.ops.logging import configure_logging


def demo(
    directory: Path = typer.Option(Path("var"), "--dir", help="Where the demo's files go."),
    orders: int = typer.Option(300, help="Orders the simulated shop sends."),
    serve: bool = typer.Option(False, "--serve", help="Keep the hub running afterwards."),
    odoo_url: str | None = typer.Option(None, help="A real Odoo instead of the sandbox."),
    db: str | None = typer.Option(None, help="With --odoo-url: the Odoo database."),
    user: str = typer.Option("admin", help="With --odoo-url: the login."),
    password: str | None = typer.Option(
        None, envvar="CROSSDOCK_ODOO_PASSWORD", help="With --odoo-url: the password."
    ),
) -> None:
    """Send a few hundred orders through the hub and the ERP; print what happened."""
    configure_logging("error")
    odoo = None
    if odoo_url:
        if not db or not password:
            raise typer.BadParameter("--odoo-url needs --db and --password")
        odoo = RealOdoo(odoo_url.rstrip("/"), db, user, password)
    console = Console()
    report = asyncio.run(
        run_demo(directory, orders=orders, odoo=odoo, serve=serve, console=console)
    )
    print_report(report, directory, console)
