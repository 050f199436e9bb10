"""`crossdock serve`: the API and the workers in one process, or either alone for scale-out, or
the API in several processes on one port (`--processes`, see `crossdock.commands.supervisor`)."""

from __future__ import annotations

import asyncio
import signal
import socket

import structlog
import typer
import uvicorn
import uvloop
from sqlalchemy import Connection

from crossdock.commands.common import USAGE_ERROR, ConfigOption, load
from crossdock.config import Config
from crossdock.erp import Erp
from crossdock.hub import build_hub, migrate
from crossdock.ops.audit import config_digest, local_actor, record_config
from crossdock.ops.heap import settle_heap
from crossdock.ops.logging import configure_logging
from crossdock.server import Server as _Server

log = structlog.get_logger("crossdock.serve")


def serve(
    config: ConfigOption = None,
    api_only: bool = typer.Option(False, "--api-only", help="Serve the API; no workers."),
    workers_only: bool = typer.Option(False, "--workers-only", help="Run workers; no API."),
    host: str | None = typer.Option(None, help="Listen address (default: api.host)."),
    port: int | None = typer.Option(None, help="Listen port (default: api.port; 0: a free one)."),
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
    """Run the hub. Refuses to start (exit 2) on an invalid configuration, printing every
    problem, or on an address it cannot listen on."""
    if api_only and workers_only:
        raise typer.BadParameter("--api-only and --workers-only exclude each other")
    if processes > 1 and workers_only:
        raise typer.BadParameter("--processes counts API processes: not with --workers-only")
    cfg = load(config)
    configure_logging(cfg.observability.log_level)
    host = host or cfg.api.host
    port = cfg.api.port if port is None else port
    sockets = None
    if processes > 1:
        # Checked (and, for port 0, chosen) once, so that every API process binds the same one.
        with _listening_or_exit(host, port, shared=True, listen=False) as probe:
            port = probe.getsockname()[1]
    elif not workers_only:  # bound before the hub starts: a port in use stops nothing half-way
        sockets = [_listening_or_exit(host, port, shared=reuse_port)]
    migrate(cfg)
    if processes > 1:
        from crossdock.commands.supervisor import children, supervise

        passed = [*(["--config", str(config)] if config else []), "--host", host]
        passed += ["--port", str(port)]
        raise typer.Exit(supervise(children(processes, workers=not api_only, serve_args=passed)))
    # uvloop, as uvicorn would pick on its own: the API and the workers share this loop
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(
            run(
                cfg,
                api=not workers_only,
                workers=not api_only,
                sockets=sockets,
            )
        )


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


def _listening_socket(host: str, port: int, *, shared: bool, listen: bool = True) -> socket.socket:
    """A socket bound to `host:port` (port 0: one the kernel picks), listening unless told not
    to; `shared`: other processes may bind it as well (the kernel spreads connections)."""
    family, _, _, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if shared:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        if listen:
            sock.listen(2048)  # uvicorn's default backlog
    except OSError:
        sock.close()
        raise
    return sock


def _listening_or_exit(host: str, port: int, *, shared: bool, listen: bool = True) -> socket.socket:
    """`_listening_socket`, or one line on standard error and exit status 2 (a port in use, an
    address not on this machine: starting again will not help)."""
    try:
        return _listening_socket(host, port, shared=shared, listen=listen)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        typer.echo(
            f"crossdock serve: cannot listen on {where}: {reason[:1].lower()}{reason[1:]}", err=True
        )
        raise typer.Exit(USAGE_ERROR) from None


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _AnnouncedServer(_Server):
    """Logs `serve.listening` with every URL once its sockets accept connections (the port
    read from them: the one actually bound)."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            api = _url(next(s for server in self.servers for s in server.sockets))
            log.info(
                "serve.listening",
                api=api,
                dashboard=f"{api}/ui",
                docs=f"{api}/docs",
                metrics=f"{api}/metrics",
            )


async def run(
    cfg: Config,
    *,
    api: bool,
    workers: bool,
    sockets: list[socket.socket] | None = None,
) -> None:
    """Run the hub until SIGINT/SIGTERM; with `api`, serve it on `sockets` (bound already)."""
    from crossdock.app import create_app

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
            assert sockets, "the API is served on sockets bound before the hub starts"
            config = uvicorn.Config(create_app(hub), log_config=None, access_log=False)
            server = _AnnouncedServer(config)
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
        log.info("serve.stopped")
