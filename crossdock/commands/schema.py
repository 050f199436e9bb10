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
