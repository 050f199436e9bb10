"""`crossdock tokens`: create (shown once), list and revoke API tokens."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Connection

from crossdock.api.auth import SCOPES, check_scopes, create_token, list_tokens, revoke_token
from crossdock.commands.common import ConfigOption, load
from crossdock.engine import Database
from crossdock.hub import database_url, migrate
from crossdock.ops.audit import append_audit, local_actor

app = typer.Typer(no_args_is_help=True, help="API tokens.")


def _database(config: ConfigOption) -> Database:
    cfg = load(config)
    migrate(cfg)
    return Database(database_url(cfg))


def _create_audited(conn: Connection, name: str, scopes: list[str], rate: float | None) -> str:
    token = create_token(conn, name, scopes, rate_per_s=rate)
    details = {"name": name, "scopes": scopes, "rate_per_s": rate}
    append_audit(
        conn, actor=local_actor(), action="token.created", subject=f"token:{name}", details=details
    )
    return token


def _revoke_audited(conn: Connection, name: str) -> bool:
    done = revoke_token(conn, name)
    if done:
        append_audit(
            conn, actor=local_actor(), action="token.revoked", subject=f"token:{name}", details={}
        )
    return done


@app.command()
def create(
    name: str = typer.Option(..., help="Who or what uses the token (unique)."),
    scopes: str = typer.Option(..., help=f"Comma-separated, from: {', '.join(SCOPES)}."),
    rate: float | None = typer.Option(None, help="Requests per second allowed (default 1000)."),
    config: ConfigOption = None,
) -> None:
    """Create a token and print it. It is stored hashed: this is the only time it is shown."""
    try:
        chosen = check_scopes(s.strip() for s in scopes.split(",") if s.strip())
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    db = _database(config)
    try:
        token = db.write_sync(lambda c: _create_audited(c, name, chosen, rate))
    except Exception as exc:
        if "unique" in str(exc).lower():
            typer.echo(f"a token named {name!r} exists", err=True)
            raise typer.Exit(1) from None
        raise
    finally:
        db.close()
    typer.echo(token)


@app.command("list")
def list_command(config: ConfigOption = None) -> None:
    """Tokens by name with their scopes (never the tokens themselves)."""
    db = _database(config)
    try:
        tokens = db.read_sync(list_tokens)
    finally:
        db.close()
    table = Table("name", "scopes", "rate/s", "revoked")
    for t in tokens:
        table.add_row(
            t["name"],
            " ".join(t["scopes"]),
            str(t["rate_per_s"] or "default"),
            "yes" if t["revoked"] else "",
        )
    Console().print(table)


@app.command()
def revoke(name: str, config: ConfigOption = None) -> None:
    """Revoke a token (effective within seconds on every node)."""
    db = _database(config)
    try:
        done = db.write_sync(lambda c: _revoke_audited(c, name))
    finally:
        db.close()
    if not done:
        typer.echo(f"no active token named {name!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {name}")
