"""The ERP a hub works with: the Odoo connector for the configured system and, when that system is
marked `sandbox: true` (the embedded default), the Odoo sandbox served in-process on its URL.

The simulator is found by the system's `kind` in `crossdock.connectors.registry`, which the
composition root fills: this module never imports the sandbox.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import structlog

from crossdock.config import Config
from crossdock.connectors.observer import CallObserver
from crossdock.connectors.odoo import OdooOperations
from crossdock.connectors.odoo.client import OdooClient
from crossdock.connectors.odoo.settings import OdooSettings
from crossdock.connectors.registry import simulator_for
from crossdock.engine import SHARED_DIR_ENV, Engine
from crossdock.flows.order_to_cash import erp_system_of, register
from crossdock.flows.reconciliation.service import register as register_reconciliation
from crossdock.policy import erp_may_create_customers

log = structlog.get_logger(__name__)


@dataclass
class Erp:
    """The connected ERP and, for a sandbox system, the server simulating it."""

    name: str
    operations: OdooOperations
    sandbox: Any = None  # crossdock.sandbox.odoo.server.SandboxServer when simulated

    async def close(self) -> None:
        await self.operations.aclose()
        if self.sandbox is not None:
            self.sandbox.stop()


def sandbox_path(cfg: Config, name: str) -> Path | None:
    """Where a sandbox ERP keeps its data: `options.sandbox_path`, else beside the SQLite file."""
    option = cfg.systems[name].options.get("sandbox_path")
    if option:
        return Path(str(option))
    database = cfg.database.sqlite_path()
    return database.with_name(f"{database.stem}.sandbox-{name}.db") if database else None


def connect_erp(
    cfg: Config, observer: CallObserver | None = None, *, serve_sandbox: bool = True
) -> Erp:
    """The connector for the ERP system; starts the sandbox first when the system is one (unless
    `serve_sandbox` is false: another process of the server serves it). `observer` sees every
    call (spans, latency, errors, circuit state)."""
    name = erp_system_of(cfg)
    system = cfg.systems[name]
    owned = erp_may_create_customers(cfg.ownership.customers, name)
    settings = OdooSettings.from_system(name, system, customers_owned=owned)
    server = None
    if system.sandbox:
        simulator = simulator_for(system.kind)
        options = system.options
        simulated = simulator.settings(
            database=settings.database or "crossdock",
            path=sandbox_path(cfg, name),
            latency_call_s=float(options.get("sandbox_latency_call_s", 0.015)),
            latency_record_s=float(options.get("sandbox_latency_record_s", 0.003)),
        )
        if serve_sandbox:
            port = urlsplit(system.url).port or 8069
            # a taken port (a local Odoo, another hub) moves the simulator to a free one, unless
            # the server's other processes (`serve --processes`) call it on the configured URL
            alone = SHARED_DIR_ENV not in os.environ
            server = simulator.server(simulated, port=port, fallback=alone).start()
            said = log.info if server.port == port else log.warning
            said("erp.sandbox_serving", system=name, url=server.url, configured=system.url)
        settings = replace(
            settings,
            url=server.url if server else settings.url,
            login=settings.login or simulated.login,
            password=settings.password or simulated.password,
            database=simulated.database,
        )
    client = OdooClient(settings, name=name, observer=observer)
    return Erp(name, OdooOperations(client, system=name), server)


def erp_configured(cfg: Config) -> bool:
    return erp_system_of(cfg) in cfg.systems


def attach_order_to_cash(cfg: Config, engine: Engine, observer: CallObserver | None = None) -> Erp:
    """Connect the ERP and subscribe the order-to-cash flow on `engine` (before it starts)."""
    erp = connect_erp(cfg, observer)
    register(engine, erp.operations, cfg)
    register_reconciliation(engine, erp.operations, cfg)  # its schedules and consumer group
    return erp
