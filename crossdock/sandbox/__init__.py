"""Simulators of external systems for the demo, tests and load tests. Never imported by
production code paths: the composition root calls :func:`register`, and production code finds a
simulator by its system's `kind` in `crossdock.connectors.registry`."""

from __future__ import annotations

from crossdock.connectors.registry import Simulator, register_simulator


def _odoo() -> Simulator:
    from crossdock.sandbox.odoo.app import SandboxSettings
    from crossdock.sandbox.odoo.server import SandboxServer

    return Simulator(SandboxSettings, SandboxServer)


def register() -> None:
    """Register each simulator as the implementation of its `kind` with `sandbox: true`."""
    register_simulator("odoo", _odoo)
