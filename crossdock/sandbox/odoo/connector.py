"""The sandboxed variant of the ``odoo`` kind: serves the Odoo sandbox in-process on the system's
URL and connects the Odoo connector to it. Registered with :mod:`crossdock.connectors.registry`
when imported; the registry imports it through the ``crossdock.sandboxes`` entry point, so that
production code never imports the sandbox."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import structlog

from crossdock.config import Config
from crossdock.connectors.odoo.client import OdooClient
from crossdock.connectors.odoo.operations import OdooOperations
from crossdock.connectors.odoo.settings import OdooSettings
from crossdock.connectors.registry import Connected, Request, register
from crossdock.engine import SHARED_DIR_ENV
from crossdock.sandbox.odoo.app import SandboxSettings
from crossdock.sandbox.odoo.server import SandboxServer

__all__ = ["connect_sandboxed_odoo", "sandbox_path"]

log = structlog.get_logger(__name__)


def sandbox_path(cfg: Config, name: str) -> Path | None:
    """Where a sandbox ERP keeps its data: `options.sandbox_path`, else beside the SQLite file."""
    option = cfg.systems[name].options.get("sandbox_path")
    if option:
        return Path(str(option))
    database = cfg.database.sqlite_path()
    return database.with_name(f"{database.stem}.sandbox-{name}.db") if database else None


def connect_sandboxed_odoo(request: Request) -> Connected:
    """The sandbox served on the system's URL (unless ``serve_sandbox`` is false: another process
    of the server serves it), and the Odoo connector logged in to it."""
    name, system, cfg = request.name, request.system, request.config
    settings = OdooSettings.from_system(name, system, customers_owned=request.customers_owned)
    options = system.options
    simulated = SandboxSettings(
        database=settings.database or "crossdock",
        path=sandbox_path(cfg, name),
        latency_call_s=float(options.get("sandbox_latency_call_s", 0.015)),
        latency_record_s=float(options.get("sandbox_latency_record_s", 0.003)),
    )
    server = None
    if request.serve_sandbox:
        port = urlsplit(system.url).port or 8069
        # a taken port (a local Odoo, another hub) moves the simulator to a free one, unless
        # the server's other processes (`serve --processes`) call it on the configured URL
        alone = SHARED_DIR_ENV not in os.environ
        server = SandboxServer(simulated, port=port, fallback=alone).start()
        said = log.info if server.port == port else log.warning
        said("erp.sandbox_serving", system=name, url=server.url, configured=system.url)
    settings = replace(
        settings,
        url=server.url if server else settings.url,
        login=settings.login or simulated.login,
        password=settings.password or simulated.password,
        database=simulated.database,
    )
    client = OdooClient(settings, name=name, observer=request.observer)
    operations = OdooOperations(client, system=name)
    connected = Connected(name, operations, server=server, closers=[])
    if server is not None:
        stop = server.stop

        async def stop_server() -> None:
            stop()

        connected.closers.append(stop_server)
    connected.closers.append(operations.aclose)
    return connected


register("odoo", connect_sandboxed_odoo, sandboxed=True)
