"""Failure injection of the sandbox, seen through the connector's client: an outage window answers
503 to everything until it ends (the client reports a transient error, or rides the outage out on
its retries), and an error rate fails model calls with Odoo's serialisation failure."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from crossdock.connectors.odoo import OdooClient, OdooTransientError
from crossdock.sandbox.odoo import SandboxServer
from tests.sandbox.conftest import inject, quick, settings_for, stats


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(quick(seed=7)) as s:
        yield s


async def test_an_outage_answers_503_to_every_call_and_the_client_maps_it(
    server: SandboxServer,
) -> None:
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    async with OdooClient(settings_for(server, retry_attempts=3), sleep=no_wait) as client:
        inject(server, outage_s=600)
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": "common", "method": "version", "args": []},
            "id": 1,
        }
        raw = httpx.post(f"{server.url}/jsonrpc", json=body)
        served_before = stats(server)["calls"]

        with pytest.raises(OdooTransientError) as caught:
            await client.search_read("res.partner", [], ["name"], limit=1)

        assert raw.status_code == 503
        assert "503" in caught.value.message and not caught.value.maybe_committed
        assert client.stats.calls - 3 == 3 and len(waits) == 2  # connect = 3 calls; 3 attempts
        assert stats(server)["calls"] == served_before  # nothing ran during the outage
        assert client.breaker.consecutive_failures == 3

        inject(server, clear=True)  # the outage is over
        assert await client.search_read("res.partner", [], ["name"], limit=1)
        assert client.breaker.consecutive_failures == 0


async def test_the_client_rides_out_an_outage_that_ends_while_it_backs_off(
    server: SandboxServer,
) -> None:
    async def outage_ends(seconds: float) -> None:
        async with httpx.AsyncClient() as http:
            await http.post(f"{server.url}/sandbox/faults", json={"clear": True})

    async with OdooClient(settings_for(server, retry_attempts=3), sleep=outage_ends) as client:
        inject(server, outage_s=600)
        [partner] = await client.create("res.partner", [{"name": "After the outage"}])

        rows = await client.read("res.partner", [partner], ["name"])
        # a 503 means the call did not run: even a create is safely retried
        assert rows[0]["name"] == "After the outage" and client.stats.retries == 1


async def test_an_error_rate_of_one_fails_every_model_call_as_a_serialisation_failure(
    server: SandboxServer,
) -> None:
    async def no_wait(seconds: float) -> None:
        return None

    async with OdooClient(settings_for(server, retry_attempts=2), sleep=no_wait) as client:
        inject(server, error_rate=1.0)
        with pytest.raises(OdooTransientError) as read_error:
            await client.search_read("res.partner", [], ["name"], limit=1)
        with pytest.raises(OdooTransientError) as write_error:
            await client.create("res.partner", [{"name": "never"}])
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": "common", "method": "version", "args": []},
            "id": 1,
        }
        version = httpx.post(f"{server.url}/jsonrpc", json=body).json()
        inject(server, error_rate=0.0)
        made = await client.search_read("res.partner", [["name", "=", "never"]], ["id"])

    assert read_error.value.odoo_name == "psycopg2.errors.SerializationFailure"
    assert write_error.value.odoo_name == "psycopg2.errors.SerializationFailure"
    assert client.stats.retries == 2  # rolled back by Odoo: reads and writes are retried
    assert "result" in version  # service calls touch no records: never failed
    assert made == []


async def test_a_partial_error_rate_fails_some_calls_and_retries_get_them_all_through(
    server: SandboxServer,
) -> None:
    async def no_wait(seconds: float) -> None:
        return None

    generous = settings_for(server, retry_attempts=10, breaker_failures=1000)
    async with OdooClient(generous, sleep=no_wait) as client:
        inject(server, error_rate=0.5)
        ids = [
            (await client.create("res.partner", [{"name": f"rate {n}", "ref": "rate-test"}]))[0]
            for n in range(20)
        ]
        inject(server, error_rate=0.0)
        rows = await client.search_read("res.partner", [["ref", "=", "rate-test"]], ["id"])

    assert sorted(r["id"] for r in rows) == sorted(ids)  # each created exactly once
    assert 0 < client.stats.retries < client.stats.calls


async def test_an_error_rate_can_be_configured_from_the_start() -> None:
    async def no_wait(seconds: float) -> None:
        return None

    with SandboxServer(quick(error_rate=1.0)) as server:
        client = OdooClient(settings_for(server, retry_attempts=2), sleep=no_wait)
        try:
            with pytest.raises(OdooTransientError):  # version and login pass, the first read not
                await client.connect()
            assert client.stats.by_method is not None
            assert client.stats.by_method["res.users.search_read"] == 2
        finally:
            await client.aclose()
