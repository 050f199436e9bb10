"""The Odoo client against the sandbox: transport choice, retries and the circuit breaker, driven
by the sandbox's failure injection (no mocks)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from crossdock.connectors.odoo import (
    OdooAccessError,
    OdooClient,
    OdooSettings,
    OdooTransientError,
)
from crossdock.connectors.resilience import CircuitBreaker
from crossdock.errors import Unavailable
from crossdock.sandbox.odoo import SandboxServer, SandboxSettings


@pytest.fixture(scope="module")
def v19() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxSettings(version=19, latency_call_s=0, latency_record_s=0)) as s:
        yield s


@pytest.fixture(scope="module")
def v18() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxSettings(latency_call_s=0, latency_record_s=0)) as s:
        yield s


def settings(server: SandboxServer, **overrides: object) -> OdooSettings:
    values: dict[str, object] = {
        "url": server.url,
        "database": "crossdock",
        "login": "admin",
        "password": "admin",
        "retry_base_s": 0.001,
    }
    values.update(overrides)
    return OdooSettings(**values)  # type: ignore[arg-type]


def inject(server: SandboxServer, **faults: object) -> None:
    httpx.post(f"{server.url}/sandbox/faults", json=faults).raise_for_status()


def served(server: SandboxServer) -> int:
    return int(httpx.get(f"{server.url}/sandbox/stats").json()["calls"])


async def test_odoo_19_with_an_api_key_speaks_json2(v19: SandboxServer) -> None:
    async with OdooClient(settings(v19, password=None, api_key="sandbox-api-key")) as client:
        [pid] = await client.create("res.partner", [{"name": "json2"}])
        rows = await client.read("res.partner", [pid], ["name"])
        assert client.info.transport == "json2" and client.info.major == 19
        assert rows[0]["name"] == "json2"
        with pytest.raises(OdooAccessError):
            await client.call("res.partner", "_private", [pid])


async def test_transport_can_be_forced_and_json2_needs_odoo_19(
    v18: SandboxServer, v19: SandboxServer
) -> None:
    async with OdooClient(settings(v19, api_key="sandbox-api-key", transport="jsonrpc")) as c:
        assert c.info.transport == "jsonrpc"
    client = OdooClient(settings(v18, api_key="k", transport="json2"))
    with pytest.raises(OdooAccessError, match="Odoo 19"):
        await client.connect()
    await client.aclose()


async def test_transient_failures_are_retried(v18: SandboxServer) -> None:
    async with OdooClient(settings(v18)) as client:
        inject(v18, fail_next=["serialization", "503", "502"])
        rows = await client.search_read("res.company", [], ["name"])
        assert rows and client.stats.retries == 3


async def test_a_write_that_may_have_been_committed_is_not_retried(v18: SandboxServer) -> None:
    async with OdooClient(settings(v18)) as client:
        inject(v18, fail_next=["504"])
        with pytest.raises(OdooTransientError) as caught:
            await client.create("res.partner", [{"name": "maybe"}])
        assert caught.value.maybe_committed and client.stats.retries == 0
        inject(v18, fail_next=["serialization"])  # rolled back by Odoo: safe to retry
        assert await client.create("res.partner", [{"name": "again"}])
        assert client.stats.retries == 1


async def test_breaker_opens_after_consecutive_failures_and_probes_after_cool_down(
    v18: SandboxServer,
) -> None:
    now = [0.0]
    breaker = CircuitBreaker("odoo", failure_threshold=3, reset_timeout_s=10, clock=lambda: now[0])
    async with OdooClient(settings(v18, retry_attempts=1), breaker=breaker) as client:
        inject(v18, fail_next=["503", "503", "503"])
        for _ in range(3):
            with pytest.raises(OdooTransientError):
                await client.search_read("res.company", [], ["name"])
        before = served(v18)
        with pytest.raises(Unavailable):
            await client.search_read("res.company", [], ["name"])
        assert served(v18) == before  # rejected without calling Odoo
        now[0] = 11.0
        assert await client.search_read("res.company", [], ["name"])
        assert breaker.state == "closed"


async def test_a_slow_call_times_out(v18: SandboxServer) -> None:
    async with OdooClient(settings(v18, timeout_s=0.2, retry_attempts=1)) as client:
        inject(v18, slow_next=[1.0])
        with pytest.raises(OdooTransientError):
            await client.search_read("res.company", [], ["name"])
