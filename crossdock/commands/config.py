"""`crossdock config` commands: `check` a configuration file and `show` the effective one."""

from __future__ import annotations

from pathlib import Path

import typer

from crossdock.commands.as2_certificates import certificate_report
from crossdock.commands.common import USAGE_ERROR, ConfigOption, load
from crossdock.config import Config, config_path, dump_config

app = typer.Typer(no_args_is_help=True, help="Check and show the configuration.")


def _source(path: Path | None) -> str:
    file, explicit = config_path(path)
    if not explicit and not file.exists():
        return f"built-in defaults ({file} not found)"
    return str(file)


@app.command()
def check(config: ConfigOption = None) -> None:
    """Validate the configuration and resolve every secret reference; exit 2 on any problem."""
    cfg = load(config, check_secrets=True)
    problems, warnings = certificate_report(cfg)
    for line in problems:
        typer.echo(f"ERROR: {line}", err=True)
    if problems:
        raise typer.Exit(USAGE_ERROR)
    typer.echo(f"OK: {_source(config)}")
    for line in summary(cfg):
        typer.echo(f"  {line}")
    for line in warnings:
        typer.echo(f"WARNING: {line}")


@app.command()
def show(config: ConfigOption = None) -> None:
    """Print the effective configuration (defaults filled in) as YAML; secrets stay references."""
    cfg = load(config, check_secrets=False)
    typer.echo(f"# source: {_source(config)}")
    typer.echo(dump_config(cfg), nl=False)


def summary(cfg: Config) -> list[str]:
    """A few lines describing ``cfg``, safe to print (no secret values)."""
    db = cfg.database
    backend = db.backend
    where = str(db.sqlite_path() or ":memory:") if backend == "sqlite" else db.url
    systems = ", ".join(
        f"{name} ({s.kind}{', sandbox' if s.sandbox else ''})" for name, s in cfg.systems.items()
    )
    owners = ", ".join(f"{domain}={owner}" for domain, owner in cfg.ownership.owners().items())
    lanes = ", ".join(
        f"{name} (priority {lane.priority}, concurrency {lane.concurrency})"
        for name, lane in sorted(cfg.lanes.items(), key=lambda item: -item[1].priority)
    )
    sync = ", ".join(
        f"{name}={p.mode}" + (f" '{p.cron}'" if p.cron else "") for name, p in cfg.sync.items()
    )
    return [
        f"database: {backend} {where}",
        f"systems: {systems or '(none)'}",
        f"ownership: {owners}",
        f"sync: {sync or '(none)'}",
        f"lanes: {lanes}",
        f"api: {cfg.api.host}:{cfg.api.port}",
    ]
