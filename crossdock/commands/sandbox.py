"""`crossdock sandbox odoo`: the Odoo sandbox served on its own, in the foreground — to explore it
with any JSON-RPC client, or to give it its own process (and core) the way a real Odoo has."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True, help="Run a sandbox system on its own.")


@app.command("odoo")
def odoo(
    port: int = typer.Option(8070, help="Port on 127.0.0.1."),
    path: Path | None = typer.Option(None, help="SQLite file for the data (memory if unset)."),
    version: int = typer.Option(18, help="Odoo version to behave as: 16, 17, 18 or 19."),
    database: str = typer.Option("crossdock", help="Database name clients must send."),
    latency_call_s: float = typer.Option(0.015, help="Simulated latency per call."),
    latency_record_s: float = typer.Option(0.003, help="Simulated latency per record created."),
) -> None:
    """Serve the Odoo sandbox until interrupted (login admin, password admin)."""
    import uvicorn

    from crossdock.sandbox.odoo.app import SandboxSettings, create_app

    settings = SandboxSettings(
        version=version,
        database=database,
        path=path,
        latency_call_s=latency_call_s,
        latency_record_s=latency_record_s,
    )
    uvicorn.run(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        access_log=False,
    )
