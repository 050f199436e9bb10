"""`crossdock demo`: run the sample scenario on the embedded default and show what happened."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.console import Console

from crossdock.demo import demo_config, print_report, run_demo
from crossdock.ops.logging import configure_logging


def demo(
    directory: Path = typer.Option(Path("var"), "--dir", help="Where the demo database goes."),
) -> None:
    """Run sample orders and a warehouse burst through the hub on SQLite; print a summary."""
    configure_logging("error")
    cfg, path = demo_config(directory)
    report = asyncio.run(run_demo(cfg))
    print_report(report, path, Console())
