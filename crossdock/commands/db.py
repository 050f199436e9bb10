"""`crossdock db`: schema migrations."""

from __future__ import annotations

import typer

from crossdock.commands.common import ConfigOption, load
from crossdock.hub import database_url, migrate
from crossdock.migrations import current, heads

app = typer.Typer(no_args_is_help=True, help="Database schema.")


@app.command()
def upgrade(config: ConfigOption = None) -> None:
    """Bring the database to the newest schema (safe to run from several nodes at once)."""
    cfg = load(config)
    migrate(cfg)
    typer.echo(f"schema at {', '.join(current(database_url(cfg)))}")


@app.command("current")
def show_current(config: ConfigOption = None) -> None:
    """Print the schema revision of the database and the newest one this version knows."""
    cfg = load(config)
    at = ", ".join(current(database_url(cfg))) or "empty"
    typer.echo(f"database: {at}\nnewest:   {', '.join(heads())}")
