"""The ERP a hub works with: the system the registry builds for the configured ERP's `kind` (the
Odoo connector) and, when that system is marked `sandbox: true` (the embedded default), the Odoo
sandbox served in-process on its URL.

Nothing here imports the sandbox: the registry loads the sandboxed variant of a kind when a
configuration asks for one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crossdock.config import Config
from crossdock.connectors.observer import CallObserver
from crossdock.connectors.odoo import OdooOperations
from crossdock.connectors.registry import Connected, connect
from crossdock.engine import Engine
from crossdock.flows.order_to_cash import erp_system_of, register
from crossdock.flows.reconciliation.service import register as register_reconciliation
from crossdock.policy import erp_may_create_customers


@dataclass
class Erp:
    """The connected ERP and, for a sandbox system, the server simulating it."""

    name: str
    operations: OdooOperations
    sandbox: Any  # the simulator's server when the system is sandboxed, else None
    connected: Connected

    async def close(self) -> None:
        await self.connected.close()


def connect_erp(
    cfg: Config, observer: CallObserver | None = None, *, serve_sandbox: bool = True
) -> Erp:
    """The connector for the ERP system, built by the factory of its kind (for a sandbox system:
    the simulator's, which starts it first unless `serve_sandbox` is false: another process of
    the server serves it). `observer` sees every call (spans, latency, errors, circuit state)."""
    name = erp_system_of(cfg)
    owned = erp_may_create_customers(cfg.ownership.customers, name)
    connected = connect(
        cfg, name, observer=observer, serve_sandbox=serve_sandbox, customers_owned=owned
    )
    return Erp(name, connected.port, connected.server, connected)


def erp_configured(cfg: Config) -> bool:
    return erp_system_of(cfg) in cfg.systems


def attach_order_to_cash(cfg: Config, engine: Engine, observer: CallObserver | None = None) -> Erp:
    """Connect the ERP and subscribe the order-to-cash flow on `engine` (before it starts)."""
    erp = connect_erp(cfg, observer)
    register(engine, erp.operations, cfg)
    register_reconciliation(engine, erp.operations, cfg)  # its schedules and consumer group
    return erp
