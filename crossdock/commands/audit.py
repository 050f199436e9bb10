"""`crossdock audit verify`: recompute the audit trail's hash chain; `crossdock audit list`."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import typer

from crossdock.commands.common import ConfigOption, load
from crossdock.engine import Database, format_time
from crossdock.hub import database_url, migrate
from crossdock.ops.audit import list_audit, verify_chain

app = typer.Typer(no_args_is_help=True, help="The audit trail (append-only, hash-chained).")


def _database(config: ConfigOption) -> Database:
    cfg = load(config)
    migrate(cfg)
    return Database(database_url(cfg))


@app.command()
def verify(config: ConfigOption = None) -> None:
    """Check every entry against its hash and its predecessor's; exit 1 at the first bad one."""
    db = _database(config)
    try:
        result = db.read_sync(verify_chain)
    finally:
        db.close()
    if not result.ok:
        typer.echo(f"audit trail broken at sequence {result.bad_seq}: {result.reason}", err=True)
        raise typer.Exit(1)
    typer.echo(f"audit trail intact: {result.entries} entries, head {result.head_hash}")


@app.command("list")
def list_command(
    config: ConfigOption = None,
    subject: str | None = typer.Option(None, help="Only this business key, e.g. order:<id>."),
    limit: int = typer.Option(50, help="At most this many, newest first."),
) -> None:
    """Recent entries, one JSON object per line."""
    db = _database(config)
    try:
        entries = db.read_sync(
            lambda c: list_audit(c, subject=subject, limit=limit, newest_first=True)
        )
    finally:
        db.close()
    for e in entries:
        when = format_time(datetime.fromtimestamp(e.at, UTC))
        line = {"seq": e.seq, "at": when, "actor": e.actor, "action": e.action}
        typer.echo(json.dumps({**line, "subject": e.subject, "details": e.details}))
