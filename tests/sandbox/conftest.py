"""Helpers of the sandbox's own tests: servers without latency, settings for the connector, fault
injection and call statistics over the sandbox's HTTP control endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from crossdock.connectors.odoo import OdooSettings
from crossdock.sandbox.odoo import OdooSandbox, SandboxServer, SandboxSettings


def quick(**overrides: Any) -> SandboxSettings:
    """Sandbox settings without latency (tests assert behaviour, not timings)."""
    values: dict[str, Any] = {"latency_call_s": 0, "latency_record_s": 0}
    values.update(overrides)
    return SandboxSettings(**values)


def settings_for(server: SandboxServer, **overrides: Any) -> OdooSettings:
    """Connector settings for a sandbox (tiny retry backoff)."""
    values: dict[str, Any] = {
        "url": server.url,
        "database": server.settings.database,
        "login": server.settings.login,
        "password": server.settings.password,
        "retry_base_s": 0.001,
    }
    values.update(overrides)
    return OdooSettings(**values)


def inject(server: SandboxServer, **faults: Any) -> None:
    httpx.post(f"{server.url}/sandbox/faults", json=faults).raise_for_status()


def stats(server: SandboxServer) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/sandbox/stats")
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


def call(
    box: OdooSandbox, model: str, method: str, *ids: int, ctx: Any = None, **params: Any
) -> Any:
    """One call on an in-process sandbox (no HTTP), as ``execute_kw`` would run it."""
    result, _ = box.execute(model, method, list(ids) if ids else None, params, ctx)
    return result


@pytest.fixture(scope="module")
def v18() -> Iterator[SandboxServer]:
    with SandboxServer(quick()) as server:
        yield server
