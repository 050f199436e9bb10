"""`crossdock serve`: the API and the workers in one process, or either alone for scale-out."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from collections.abc import Generator

import typer
import uvicorn
import uvloop
from sqlalchemy import Connection

from crossdock.commands.common import ConfigOption, load
from crossdock.config import Config
from crossdock.hub import build_hub, migrate
from crossdock.ops.audit import config_digest, local_actor, record_config
from crossdock.ops.logging import configure_logging


def serve(
    config: ConfigOption = None,
    api_only: bool = typer.Option(False, "--api-only", help="Serve the API; no workers."),
    workers_only: bool = typer.Option(False, "--workers-only", help="Run workers; no API."),
    host: str | None = typer.Option(None, help="Listen address (default: api.host)."),
    port: int | None = typer.Option(None, help="Listen port (default: api.port)."),
) -> None:
    """Run the hub. Refuses to start on an invalid configuration, printing every problem."""
    if api_only and workers_only:
        raise typer.BadParameter("--api-only and --workers-only exclude each other")
    cfg = load(config)
    configure_logging(cfg.observability.log_level)
    migrate(cfg)
    # uvloop, as uvicorn would pick on its own: the API and the workers share this loop
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(run(cfg, api=not workers_only, workers=not api_only, host=host, port=port))


class _Server(uvicorn.Server):
    """Uvicorn without its own signal handling: `run` owns SIGINT/SIGTERM so that the workers
    finish their batches and release their leases before the process exits (with status 0)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def record_config_change(conn: Connection, cfg: Config) -> bool:
    """Audit the effective configuration when it differs from the last one a node started with."""
    digest = config_digest(cfg.model_dump(mode="json"))
    return record_config(conn, digest, actor=local_actor("serve"), source=None)


async def run(
    cfg: Config, *, api: bool, workers: bool, host: str | None = None, port: int | None = None
) -> None:
    from crossdock.api.app import create_app

    hub = build_hub(cfg, flows=workers)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await hub.start(workers=workers, scheduler=workers)
    await hub.engine.writer.submit(lambda c: record_config_change(c, cfg))
    # What start-up built (modules, the app, the hub; the imports alone make ~167,000 objects)
    # lives as long as the process: taken out of the collector's view, a full collection walks
    # only what requests made since, not all of it again (50-115 ms per full collection at that
    # size).
    gc.collect()
    gc.freeze()
    try:
        if api:
            server = _Server(
                uvicorn.Config(
                    create_app(hub),
                    host=host or cfg.api.host,
                    port=port or cfg.api.port,
                    log_config=None,
                    access_log=False,
                )
            )
            serving = asyncio.create_task(server.serve())
            await asyncio.wait(
                [serving, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED
            )
            server.should_exit = True
            await serving
        else:
            await stop.wait()
    finally:
        await hub.stop()
