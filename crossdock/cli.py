"""The `crossdock` command line: one typer app, sub-commands added by the modules that own them."""

from __future__ import annotations

import typer

from crossdock import __version__
from crossdock.commands import audit as audit_cmd
from crossdock.commands import bench as bench_cmd
from crossdock.commands import catalog as catalog_cmd
from crossdock.commands import config as config_cmd
from crossdock.commands import db as db_cmd
from crossdock.commands import engine_cli
from crossdock.commands import reconcile as reconcile_cmd
from crossdock.commands import sandbox as sandbox_cmd
from crossdock.commands import schema as schema_cmd
from crossdock.commands import tokens as tokens_cmd
from crossdock.commands import webhooks as webhooks_cmd
from crossdock.commands.demo import demo
from crossdock.commands.serve import serve

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Crossdock integration hub.")


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(f"crossdock {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """Crossdock integration hub."""


app.add_typer(config_cmd.app, name="config")
app.add_typer(schema_cmd.app, name="schema")
app.add_typer(bench_cmd.app, name="bench")
app.add_typer(db_cmd.app, name="db")
app.add_typer(tokens_cmd.app, name="tokens")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(reconcile_cmd.app, name="reconcile")
app.add_typer(sandbox_cmd.app, name="sandbox")
app.add_typer(engine_cli.dlq, name="dlq")
app.add_typer(engine_cli.events, name="events")
app.add_typer(webhooks_cmd.app, name="webhooks")
app.command("serve")(serve)
app.command("demo")(demo)
app.command("catalog")(catalog_cmd.catalog)
