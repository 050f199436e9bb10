"""What the commands share: the `--config` option and loading it with the problems printed, a
console for tables, and an engine opened on the configured database for one piece of work."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console

from crossdock.config import CONFIG_ENV_VAR, Config, ConfigError, load_config

if TYPE_CHECKING:
    from crossdock.engine import Engine

T = TypeVar("T")
# Piped output (scripts, logs) gets room for whole values instead of a terminal's 80 columns.
console = Console(width=None if sys.stdout.isatty() else 200)

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


# A configuration or a command line that can never work (as for typer's usage errors), unlike
# a failure that may pass when tried again (status 1).
USAGE_ERROR = 2


def load(path: Path | None, *, check_secrets: bool = True) -> Config:
    """Load the configuration or print every problem and exit 2 (`config check` prints the same)."""
    try:
        return load_config(path, check_secrets=check_secrets)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(USAGE_ERROR) from None


def with_engine(config: Path | None, work: Callable[[Config, Engine], Awaitable[T]]) -> T:
    """Run `work` with the configuration and an engine on its database (migrated, no workers)."""
    from crossdock.hub import build_hub, migrate
    from crossdock.ops.logging import configure_logging

    configure_logging("warning")
    cfg = load(config)
    migrate(cfg)

    async def main() -> T:
        engine = build_hub(cfg).engine
        await engine.start(workers=False, scheduler=False)
        try:
            return await work(cfg, engine)
        finally:
            await engine.stop()

    return asyncio.run(main())
