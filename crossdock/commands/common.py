"""What the commands share: the `--config` option and loading it with the problems printed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crossdock.config import CONFIG_ENV_VAR, Config, ConfigError, load_config

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        envvar=CONFIG_ENV_VAR,
        help="Configuration file (default: ./crossdock.yaml, or the built-in demo defaults).",
        dir_okay=False,
        show_default=False,
    ),
]


def load(path: Path | None, *, check_secrets: bool = True) -> Config:
    """Load the configuration or print every problem and exit 1 (`config check` prints the same)."""
    try:
        return load_config(path, check_secrets=check_secrets)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
