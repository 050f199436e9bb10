"""`crossdock schema` commands: export the canonical model's JSON Schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crossdock.model.schema import export_schemas

app = typer.Typer(
    no_args_is_help=True, help="Canonical object schemas: export (and check against a stored set)."
)


@app.command("export")
def export(
    directory: Annotated[
        Path,
        typer.Argument(
            metavar="DIR",
            file_okay=False,
            help="Directory to write the schemas to (created if missing).",
        ),
    ],
) -> None:
    """Write one JSON Schema per canonical object and version (`order.v1.json`, ...) to DIR."""
    written = export_schemas(directory)
    for path in written:
        typer.echo(f"wrote {path}")
    typer.echo(f"{len(written)} schemas exported to {directory}")


@app.command("check")
def check(
    against: Annotated[
        Path,
        typer.Option(
            "--against",
            metavar="DIR",
            file_okay=False,
            exists=True,
            help="The stored schema set to compare with (e.g. schemas/).",
        ),
    ],
    update: Annotated[
        bool, typer.Option("--update", help="After a passing check, write the current set to DIR.")
    ] = False,
) -> None:
    """Fail on a backward-incompatible change (field removed, type changed, new required field,
    enum value removed) unless the schema's version was raised."""
    from crossdock.catalog.compat import check as compare
    from crossdock.catalog.schemas import current_schemas, read_schemas, write_schemas

    current = current_schemas()
    breaking = compare(read_schemas(against), current)
    for problem in breaking:
        typer.echo(f"breaking: {problem}", err=True)
    if breaking:
        typer.echo(
            f"{len(breaking)} breaking change(s): revert them or raise the schema's version",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(f"{len(current)} schemas compatible with {against}")
    if update:
        write_schemas(against, current)
        typer.echo(f"wrote {len(current)} schemas to {against}")
