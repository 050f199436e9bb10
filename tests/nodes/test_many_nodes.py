"""Three `crossdock serve` nodes on one PostgreSQL and one Odoo sandbox, as a distributor that
outgrew one machine runs them: orders sent round-robin, customers repeated across nodes.

Every customer is created once in the ERP and every order has one sale order, whatever node
took it; a node killed with SIGKILL loses its leases within the configured lease; nothing is
dead-lettered. The ERP sandbox runs in the test process, so it outlives any node.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool

from crossdock.api.auth import create_token
from crossdock.connectors.odoo import OdooClient, OdooSettings
from crossdock.demo import SKUS
from crossdock.engine import cursors_table, dead_letters_table
from crossdock.engine.database import Database
from crossdock.flows.reconciliation.tables import reconciliation_runs
from crossdock.flows.tables import orders
from crossdock.migrations import upgrade
from crossdock.sandbox.odoo import SandboxServer, SandboxSettings
from tests.flows.served import ROOT, answers, seeded, write_config
from tests.support.postgres import PostgresServer, find_bindir, free_port
from tests.support.waiting import until_sync

NODES = 3
CUSTOMERS = 20  # not a multiple of NODES: each customer's orders land on every node
ORDERS = 120
LEASE_S = 4.0
OUTAGE_S = 8.0

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def order(n: int) -> dict[str, Any]:
    return {
        "channel": "shop",
        "external_ref": f"MN-{n}",
        "currency": "USD",
        "customer": {
            "external_ref": f"NODE-C-{n % CUSTOMERS}",
            "name": f"Node Customer {n % CUSTOMERS}",
            "address": {
                "street": "1 Main St",
                "city": "Springfield",
                "postal_code": "12345",
                "country": "US",
            },
        },
        "lines": [{"sku": SKUS[n % len(SKUS)], "quantity": "1", "unit_price": "25.00"}],
    }


async def send_round_robin(bases: list[str], token: str, numbers: list[int]) -> set[int]:
    """POST each order to node ``n % len(bases)``, all at once; the numbers acknowledged."""
    async with httpx.AsyncClient(
        timeout=30, headers={"Authorization": f"Bearer {token}"}
    ) as client:

        async def send(n: int) -> int | None:
            base = bases[n % len(bases)]
            for _ in range(50):
                try:
                    response = await client.post(f"{base}/v1/orders", json=order(n))
                except httpx.HTTPError:
                    return None
                if response.status_code == 202:
                    return n
                if response.status_code != 503:
                    raise AssertionError(f"order {n}: {response.status_code} {response.text}")
                await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
            return None

        done = await asyncio.gather(*(send(n) for n in numbers))
    return {n for n in done if n is not None}


def start_node(config: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "crossdock", "serve", "--config", str(config), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        env={**os.environ, "HUB_ODOO_PASSWORD": "admin"},
    )


def partners_per_ref(settings: OdooSettings, refs: list[str]) -> Counter[str]:
    async def read() -> Counter[str]:
        async with OdooClient(settings) as client:
            rows = await client.search_read("res.partner", [["ref", "in", refs]], ["ref"])
        return Counter(str(r["ref"]) for r in rows)

    return asyncio.run(read())


def sale_orders_per_ref(settings: OdooSettings, refs: list[str]) -> Counter[str]:
    async def read() -> Counter[str]:
        async with OdooClient(settings) as client:
            rows = await client.search_read(
                "sale.order", [["client_order_ref", "in", refs]], ["client_order_ref"]
            )
        return Counter(str(r["client_order_ref"]) for r in rows)

    return asyncio.run(read())


class Cluster:
    """The nodes of one run and the database they share."""

    def __init__(self, tmp_path: Path, url: str, odoo_url: str, options: str = "") -> None:
        self.url = url
        self.config = write_config(
            tmp_path / "crossdock.yaml",
            url,
            odoo_url,
            # `options` continues the Odoo system's options, then the engine section
            options + f"engine:\n  lease_seconds: {LEASE_S}\n  poll_interval_ms: 50\n",
        )
        self.tmp = tmp_path
        self.ports = [free_port() for _ in range(NODES)]
        self.nodes: list[subprocess.Popen[bytes] | None] = [None] * NODES
        self.sql = create_engine(url, poolclass=NullPool)

    @property
    def bases(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.ports]

    def start(self) -> None:
        for i, port in enumerate(self.ports):
            self.nodes[i] = start_node(self.config, port, self.tmp / f"node{i}.log")
        for base in self.bases:
            until_sync(lambda b=base: answers(f"{b}/healthz"), what=f"node {base}")

    def stop(self) -> None:
        for node in self.nodes:
            if node is not None and node.poll() is None:
                node.send_signal(signal.SIGTERM)
        for node in self.nodes:
            if node is not None:
                try:
                    node.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    node.kill()
                    node.wait()
        self.sql.dispose()

    def scalar(self, query: Any) -> int:
        with self.sql.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def waiting(self) -> int:
        """Orders not yet released to the warehouse."""
        return self.scalar(
            select(func.count()).select_from(orders).where(orders.c.state != "released")
        )

    def counted(self) -> int:
        return self.scalar(select(func.count()).select_from(orders))

    def dead(self) -> int:
        return self.scalar(select(func.count()).select_from(dead_letters_table))

    def leases(self) -> list[tuple[str, int, str | None, float | None]]:
        with self.sql.connect() as conn:
            rows = conn.execute(
                select(
                    cursors_table.c.group_name,
                    cursors_table.c.partition,
                    cursors_table.c.lease_owner,
                    cursors_table.c.lease_until,
                )
            ).all()
        return [(r[0], r[1], r[2], r[3]) for r in rows]


@pytest.fixture
def hub_db(postgres: PostgresServer | None) -> Iterator[tuple[str, str]]:
    """A migrated PostgreSQL hub database and an admin token."""
    if postgres is None:
        pytest.skip("PostgreSQL is not installed here")
    url = postgres.create_database()
    try:
        upgrade(url)
        db = Database(url)
        token = db.write_sync(lambda c: create_token(c, "shop", ["admin"], rate_per_s=1e6))
        db.close()
        yield url, token
    finally:
        postgres.drop_database(url)


def assert_exactly_once(settings: OdooSettings, accepted: set[int]) -> None:
    refs = [f"NODE-C-{c}" for c in range(CUSTOMERS)]
    partners = partners_per_ref(settings, [f"shop:{r}" for r in refs])
    doubled = {ref: n for ref, n in partners.items() if n != 1}
    assert not doubled, f"customers created more than once: {doubled}"
    assert len(partners) == CUSTOMERS
    sale_orders = sale_orders_per_ref(settings, [f"shop:MN-{n}" for n in sorted(accepted)])
    assert set(sale_orders) == {f"shop:MN-{n}" for n in accepted}
    assert set(sale_orders.values()) == {1}


def test_three_nodes_create_each_customer_once(tmp_path: Path, hub_db: tuple[str, str]) -> None:
    url, token = hub_db
    # ERP latency widens the window between a node's look-up and its create, as a real Odoo does
    with SandboxServer(
        SandboxSettings(latency_call_s=0.05, latency_record_s=0, path=tmp_path / "odoo.db")
    ) as odoo:
        settings = seeded(odoo.url)
        cluster = Cluster(tmp_path, url, odoo.url)
        try:
            cluster.start()
            accepted = asyncio.run(send_round_robin(cluster.bases, token, list(range(ORDERS))))
            assert accepted == set(range(ORDERS))
            until_sync(lambda: cluster.waiting() == 0, timeout=180, what="every order placed")
            assert cluster.dead() == 0
            assert_exactly_once(settings, accepted)
        finally:
            cluster.stop()


def test_a_killed_node_loses_its_leases_within_the_lease(
    tmp_path: Path, hub_db: tuple[str, str]
) -> None:
    url, token = hub_db
    with SandboxServer(
        SandboxSettings(latency_call_s=0.02, latency_record_s=0, path=tmp_path / "odoo.db")
    ) as odoo:
        settings = seeded(odoo.url)
        cluster = Cluster(tmp_path, url, odoo.url)
        try:
            cluster.start()
            first = asyncio.run(send_round_robin(cluster.bases, token, list(range(ORDERS // 2))))
            assert first == set(range(ORDERS // 2))
            victim = cluster.nodes[0]
            assert victim is not None
            tag = f":{victim.pid}:"
            until_sync(
                lambda: any(o and tag in o for _, _, o, _ in cluster.leases()),
                timeout=60,
                what="the victim holding a lease",
            )
            victim.send_signal(signal.SIGKILL)
            killed_at = time.time()
            victim.wait()
            held = [(g, p, until) for g, p, o, until in cluster.leases() if o and tag in o]
            # The proof of the bound: what the dead node holds expires within one lease of its
            # death (its last renewal), and then the survivors may claim it.
            assert held, "the victim held no lease when killed"
            assert all(until is not None and until <= killed_at + LEASE_S for _, _, until in held)
            rest = list(range(ORDERS // 2, ORDERS))
            second = asyncio.run(send_round_robin(cluster.bases[1:], token, rest))
            assert second == set(rest)
            until_sync(lambda: cluster.waiting() == 0, timeout=180, what="every order placed")
            # every partition the victim held was taken over (or released) by a survivor
            assert not any(o and tag in o for _, _, o, _ in cluster.leases())
            assert cluster.dead() == 0
            assert_exactly_once(settings, first | second)
        finally:
            cluster.stop()


def circuit(base: str, token: str) -> str:
    """The state of a node's circuit to Odoo, from its `/metrics`."""
    text = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {token}"}).text
    for line in text.splitlines():
        if (
            line.startswith("crossdock_connector_circuit_state{")
            and 'system="odoo"' in line
            and line.endswith(" 1.0")
        ):
            return line.split('state="')[1].split('"')[0]
    return "unknown"


def runs_of(cluster: Cluster, kind: str) -> list[str]:
    with cluster.sql.connect() as conn:
        rows = conn.execute(
            select(reconciliation_runs.c.status).where(reconciliation_runs.c.kind == kind)
        ).all()
    return [str(r[0]) for r in rows]


def test_an_erp_outage_across_a_reconciliation_dead_letters_nothing(
    tmp_path: Path, hub_db: tuple[str, str]
) -> None:
    url, token = hub_db
    sandbox = SandboxSettings(latency_call_s=0.01, latency_record_s=0, path=tmp_path / "odoo.db")
    odoo_port = free_port()
    odoo = SandboxServer(sandbox, port=odoo_port).start()
    try:
        settings = seeded(odoo.url)
        cluster = Cluster(tmp_path, url, odoo.url, "      breaker_reset_s: 2\n")
        try:
            cluster.start()
            first = set(range(ORDERS // 2))
            assert asyncio.run(send_round_robin(cluster.bases, token, sorted(first))) == first
            until_sync(lambda: cluster.waiting() == 0, timeout=120, what="the first orders")

            odoo.stop()
            rest = set(range(ORDERS // 2, ORDERS))
            # the shops go on selling through the outage: every order is acknowledged
            assert asyncio.run(send_round_robin(cluster.bases, token, sorted(rest))) == rest
            until_sync(
                lambda: all(circuit(b, token) in ("open", "half_open") for b in cluster.bases),
                timeout=120,
                what="every node's circuit open",
            )
            # the reconciliation requested while Odoo is down (as its schedule would)
            asked = httpx.post(
                f"{cluster.bases[0]}/v1/reconciliation/runs",
                json={"kind": "orders"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert asked.status_code == 202, asked.text
            time.sleep(OUTAGE_S)  # the outage's length: the scenario, not a wait
            assert cluster.dead() == 0
            assert "ok" not in runs_of(cluster, "orders")

            odoo = SandboxServer(sandbox, port=odoo_port).start()
            until_sync(lambda: cluster.waiting() == 0, timeout=180, what="the backlog drained")
            until_sync(
                lambda: "ok" in runs_of(cluster, "orders"), timeout=120, what="the reconciliation"
            )
            assert runs_of(cluster, "orders").count("ok") == 1
            assert cluster.dead() == 0
            assert_exactly_once(settings, first | rest)
        finally:
            cluster.stop()
    finally:
        odoo.stop()


def test_postgresql_restarted_mid_run_loses_and_doubles_nothing(tmp_path: Path) -> None:
    bindir = find_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed here")
    server = PostgresServer.start(bindir)  # its own: it is restarted
    try:
        url = server.create_database()
        upgrade(url)
        db = Database(url)
        token = db.write_sync(lambda c: create_token(c, "shop", ["admin"], rate_per_s=1e6))
        db.close()
        with SandboxServer(
            SandboxSettings(latency_call_s=0.01, latency_record_s=0, path=tmp_path / "odoo.db")
        ) as odoo:
            settings = seeded(odoo.url)
            cluster = Cluster(tmp_path, url, odoo.url)
            try:
                cluster.start()
                first = set(range(ORDERS // 2))
                assert asyncio.run(send_round_robin(cluster.bases, token, sorted(first))) == first
                cluster.sql.dispose()
                restart(server)
                # the shop retries what was refused with 503 (Retry-After) until acknowledged
                rest = set(range(ORDERS // 2, ORDERS))
                assert asyncio.run(send_round_robin(cluster.bases, token, sorted(rest))) == rest
                until_sync(lambda: cluster.waiting() == 0, timeout=180, what="every order placed")
                assert cluster.counted() == ORDERS
                assert cluster.dead() == 0
                assert_exactly_once(settings, first | rest)
            finally:
                cluster.stop()
    finally:
        server.stop()


def restart(server: PostgresServer) -> None:
    """Stop the server (fast: sessions cut), then start it again with the same options."""
    options = " ".join(
        [
            f"-p {server.port}",
            f"-k {server.root}",
            "-c listen_addresses=127.0.0.1",
            "-c max_connections=300",
            "-c fsync=off",
        ]
    )
    data = str(server.root / "data")
    server._run("pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
    server._run("pg_ctl", "-D", data, "-o", options, "-w", "-l", str(server.root / "log"), "start")
