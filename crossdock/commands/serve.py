"""`crossdock serve`: the API and the workers in one process, or either alone for scale-out, or
the API in several processes on one port (`--processes`, see `crossdock.commands.supervisor`)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Generator

import structlog
import typer
import uvicorn
import uvloop
from sqlalchemy import Connection

from crossdock.commands.common import ConfigOption, load
from crossdock.config import Config
from crossdock.erp import Erp
from crossdock.hub import build_hub, migrate
from crossdock.ops.audit import config_digest, local_actor, record_config
from crossdock.ops.heap import settle_heap
from crossdock.ops.logging import configure_logging

log = structlog.get_logger(__name__)


def serve(
    config: ConfigOption = None,
    api_only: bool = typer.Option(False, "--api-only", help="Serve the API; no workers."),
    workers_only: bool = typer.Option(False, "--workers-only", help="Run workers; no API."),
    host: str | None = typer.Option(None, help="Listen address (default: api.host)."),
    port: int | None = typer.Option(None, help="Listen port (default: api.port)."),
    processes: int = typer.Option(
        1,
        min=1,
        help="Serve the API from this many processes on one port; above 1, the workers run in "
        "a process of their own and a supervisor restarts any process that exits.",
    ),
    reuse_port: bool = typer.Option(
        False, "--reuse-port", help="Bind with SO_REUSEPORT: several processes share the port."
    ),
) -> None:
    """Run the hub. Refuses to start on an invalid configuration, printing every problem."""
    if api_only and workers_only:
        raise typer.BadParameter("--api-only and --workers-only exclude each other")
    if processes > 1 and workers_only:
        raise typer.BadParameter("--processes counts API processes: not with --workers-only")
    cfg = load(config)
    configure_logging(cfg.observability.log_level)
    migrate(cfg)
    if processes > 1:
        from crossdock.commands.supervisor import children, supervise

        passed = [*(["--config", str(config)] if config else [])]
        passed += [*(["--host", host] if host else []), *(["--port", str(port)] if port else [])]
        raise typer.Exit(supervise(children(processes, workers=not api_only, serve_args=passed)))
    # uvloop, as uvicorn would pick on its own: the API and the workers share this loop
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(
            run(
                cfg,
                api=not workers_only,
                workers=not api_only,
                host=host,
                port=port,
                reuse_port=reuse_port,
            )
        )


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


async def seed_sandbox(erp: Erp) -> None:
    """A sandbox ERP gets a small catalogue (products, stock, customers) on its first start, so
    that an order for a listed SKU goes through (docs/quickstart.md)."""
    from crossdock.sandbox.seed import SANDBOX_CATALOGUE, seed_once

    if await seed_once(erp.operations, SANDBOX_CATALOGUE):
        skus = [p.sku for p in SANDBOX_CATALOGUE.products]
        log.info("erp.sandbox_seeded", system=erp.name, skus=skus)


def _shared_socket(host: str, port: int) -> socket.socket:
    """A listening socket other processes may bind as well (the kernel spreads connections)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)  # uvicorn's default backlog
    return sock


async def run(
    cfg: Config,
    *,
    api: bool,
    workers: bool,
    host: str | None = None,
    port: int | None = None,
    reuse_port: bool = False,
) -> None:
    from crossdock.api.app import create_app

    hub = build_hub(cfg, flows=workers)
    if hub.erp is not None and hub.erp.sandbox is not None:
        await seed_sandbox(hub.erp)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await hub.start(workers=workers, scheduler=workers)
    await hub.engine.writer.submit(lambda c: record_config_change(c, cfg))
    settle_heap()
    try:
        if api:
            config = uvicorn.Config(
                create_app(hub),
                host=host or cfg.api.host,
                port=port or cfg.api.port,
                log_config=None,
                access_log=False,
            )
            server = _Server(config)
            sockets = [_shared_socket(config.host, config.port)] if reuse_port else None
            serving = asyncio.create_task(server.serve(sockets))
            await asyncio.wait(
                [serving, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED
            )
            server.should_exit = True
            await serving
        else:
            await stop.wait()
    finally:
        await hub.stop()
