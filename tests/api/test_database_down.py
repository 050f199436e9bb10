"""PostgreSQL stopped under a running hub: intake answers 503 problem+json with Retry-After
(never 500); once the server is back the same request is accepted, stored once."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool

from crossdock.api.auth import create_token
from crossdock.engine import Database
from crossdock.flows.tables import orders
from tests.api.test_readiness import served
from tests.flows.served import order
from tests.support.postgres import PostgresServer, find_bindir, free_port
from tests.support.waiting import until


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A server of this test's own: it is stopped and started again."""
    bindir = find_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed here")
    server = PostgresServer.start(bindir)
    try:
        yield server
    finally:
        server.stop()


def _pg_ctl(server: PostgresServer, action: str) -> None:
    options = f"-p {server.port} -k {server.root} -c listen_addresses=127.0.0.1 -c fsync=off"
    args = ["pg_ctl", "-D", str(server.root / "data"), "-m", "fast", "-w", "-o", options]
    args += ["-l", str(server.root / "server.log"), action]
    server._run(*args)


async def test_intake_answers_503_while_the_database_is_down(
    own_postgres: PostgresServer,
) -> None:
    url = own_postgres.create_database()
    nobody = f"http://127.0.0.1:{free_port()}"
    async with served(url, nobody) as client:
        db = Database(url)
        token = db.write_sync(lambda c: create_token(c, "shop", ["admin"], rate_per_s=1e6))
        db.close()
        headers = {"Authorization": f"Bearer {token}"}
        first = await client.post("/v1/orders", json=order(1), headers=headers)
        assert first.status_code == 202, first.text

        _pg_ctl(own_postgres, "stop")
        try:
            down = await client.post("/v1/orders", json=order(2), headers=headers)
            assert down.status_code == 503, down.text
            assert down.headers["content-type"] == "application/problem+json"
            assert int(down.headers["Retry-After"]) > 0
            assert down.json()["type"].endswith("/database-unavailable")
        finally:
            with contextlib.suppress(subprocess.CalledProcessError):
                _pg_ctl(own_postgres, "start")

        async def accepted() -> bool:
            try:
                again = await client.post("/v1/orders", json=order(2), headers=headers)
            except httpx.TransportError:
                return False  # a keep-alive connection the server closed while it idled
            assert again.status_code in (202, 503), again.text
            return again.status_code == 202

        await until(accepted, timeout=60, what="intake back after the restart")
        again = await client.post("/v1/orders", json=order(2), headers=headers)
        assert again.status_code == 202
    sql = create_engine(url, poolclass=NullPool)
    with sql.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(orders)).scalar_one()
    sql.dispose()
    assert stored == 2
