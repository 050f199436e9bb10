"""`crossdock bench scale`: what one more node costs, for sizing a many-node hub on PostgreSQL.

A machine with few cores cannot show throughput growing with nodes, so this measures what a node
and the database spend per order, from which the sizing table in docs/operations.md follows:

- `cpu_ms_per_order_intake`: CPU of an intake node (`serve --api-only`) per order accepted;
- `cpu_ms_per_order_flow`: CPU of a workers node (`serve --workers-only`) per order carried to
  the ERP (customer, sale order created and confirmed, delivery released);
- `db_statements_per_order`, `db_commits_per_order`: statements (``pg_stat_statements``, when the
  server preloads it; else null) and commits (``pg_stat_database``) of both phases per order;
- `db_cpu_ms_per_order`: CPU of the PostgreSQL server's processes per order (when the server
  runs on this machine and its data directory is readable; else null);
- `takeover_s`: a second workers node running, the first killed with SIGKILL while orders flow:
  seconds from the kill until the last lease the dead node held runs out, its work then free for
  the survivor (target: at most 10 s with the default `engine.lease_seconds`);
  `first_partition_claimed_s` and `all_partitions_claimed_s` say when the survivor actually took
  the first and the last of them (the last waits for the survivor's free workers too).

The ERP is the Odoo sandbox in its own process without simulated latency; the database a scratch
one created on the server `--pg-url` names (dropped at the end).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select, text

from crossdock.api.auth import create_token
from crossdock.bench.engine import _drop_postgres, _fresh_postgres
from crossdock.bench.http import Connection as HttpConnection
from crossdock.bench.http import crossdock_process, free_port
from crossdock.bench.intake import sandbox_process
from crossdock.config.runtime import EngineConfig
from crossdock.engine import Database, cursors_table
from crossdock.migrations import upgrade

ORDERS = "/v1/orders"
SENDERS = 32
TICKS = os.sysconf("SC_CLK_TCK")
TAKEOVER_TARGET_S = 10.0
FLOW_GROUP = "order_to_cash"  # its partitions get new work as orders keep coming


def _order(n: int, sku: str) -> bytes:
    return json.dumps(
        {
            "channel": "bench",
            "external_ref": f"S-{n}",
            "currency": "USD",
            "customer": {
                "external_ref": f"SC-{n % 200}",
                "name": "Scale Customer",
                "address": {
                    "street": "1 Main St",
                    "city": "Springfield",
                    "postal_code": "12345",
                    "country": "US",
                },
            },
            "lines": [{"sku": sku, "quantity": "1", "unit_price": "25.00"}],
        }
    ).encode()


def cpu_ms(pid: int) -> float:
    """CPU (user + system) a process has used, in milliseconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / TICKS


def _server_cpu_ms(postmaster: int | None) -> float | None:
    """CPU of a PostgreSQL server: the postmaster (with its reaped children) and its live
    children."""
    if postmaster is None:
        return None
    try:
        fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
        total = sum(int(f) for f in fields[11:15]) * 1000 / TICKS
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == postmaster:
                total += (int(stat[11]) + int(stat[12])) * 1000 / TICKS
        return total
    except OSError:
        return None


def _postmaster(conn: Connection) -> int | None:
    try:
        directory = conn.execute(text("SHOW data_directory")).scalar_one()
        return int(Path(str(directory), "postmaster.pid").read_text().split()[0])
    except Exception:  # not a superuser, or the server is elsewhere
        return None


def _db_counters(conn: Connection) -> tuple[int, int | None]:
    commits = conn.execute(
        text("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
    ).scalar_one()
    try:
        with conn.begin_nested():
            statements = conn.execute(
                text(
                    "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements "
                    "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
                )
            ).scalar_one()
    except Exception:
        statements = None
    return int(commits), None if statements is None else int(statements)


class _Meter:
    """Database counters and server CPU, read before and after a phase."""

    def __init__(self, db: Database) -> None:
        self.db = db
        with db.write_engine.connect() as conn:
            try:
                with conn.begin():
                    conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
            except Exception:
                pass  # not preloaded, or not allowed: statements are not counted
            self.postmaster = _postmaster(conn)

    def read(self) -> tuple[int, int | None, float | None]:
        with self.db.write_engine.connect() as conn:
            commits, statements = _db_counters(conn)
        return commits, statements, _server_cpu_ms(self.postmaster)

    @staticmethod
    def per_order(
        before: tuple[int, int | None, float | None],
        after: tuple[int, int | None, float | None],
        orders: int,
    ) -> tuple[float, float | None, float | None]:
        commits = (after[0] - before[0]) / orders
        statements = (
            (after[1] - before[1]) / orders
            if after[1] is not None and before[1] is not None
            else None
        )
        cpu = (after[2] - before[2]) / orders if after[2] is not None and before[2] else None
        return commits, statements, cpu


async def _send(port: int, token: str, numbers: list[int], skus: list[str]) -> int:
    queue = iter(numbers)
    accepted = 0

    async def worker() -> None:
        nonlocal accepted
        conn = HttpConnection("127.0.0.1", port, token)
        try:
            for n in queue:
                status = (await conn.request("POST", ORDERS, _order(n, skus[n % len(skus)])))[0]
                accepted += status == 202
        finally:
            await conn.close()

    await asyncio.gather(*(worker() for _ in range(SENDERS)))
    return accepted


async def _keep_sending(
    port: int, token: str, start: int, skus: list[str], stop: asyncio.Event
) -> None:
    n = start
    while not stop.is_set():
        await _send(port, token, list(range(n, n + 50)), skus)
        n += 50


def _placed(db: Database) -> int:
    from crossdock.flows.tables import orders

    def read(conn: Connection) -> int:
        query = select(func.count()).select_from(orders).where(orders.c.state == "released")
        return int(conn.execute(query).scalar_one())

    return db.read_sync(read)


def _held_by(db: Database, pid: int) -> dict[tuple[str, int], float]:
    """The partitions a node's leases hold now, with the time each lease runs out."""

    def read(conn: Connection) -> dict[tuple[str, int], float]:
        c = cursors_table.c
        rows = conn.execute(
            select(c.group_name, c.partition, c.lease_until).where(
                c.group_name == FLOW_GROUP,
                c.lease_owner.like(f"%:{pid}:%"),
                c.lease_until > time.time(),
            )
        ).all()
        return {(r[0], r[1]): float(r[2]) for r in rows}

    return db.read_sync(read)


def _owners(db: Database, wanted: set[tuple[str, int]]) -> dict[tuple[str, int], str | None]:
    def read(conn: Connection) -> dict[tuple[str, int], str | None]:
        rows = conn.execute(
            select(
                cursors_table.c.group_name, cursors_table.c.partition, cursors_table.c.lease_owner
            )
        ).all()
        return {(r[0], r[1]): r[2] for r in rows if (r[0], r[1]) in wanted}

    return db.read_sync(read)


@contextmanager
def _workers(config: Path, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    out = log.open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "crossdock", "serve", "--config", str(config), "--workers-only"],
        stdout=out,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
        out.close()


def _wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)  # polling processes that give no other sign


async def run_scale_bench(*, pg_url: str, orders: int = 1000) -> dict[str, Any]:
    from crossdock.connectors.odoo import OdooClient, OdooOperations, OdooSettings
    from crossdock.demo import SKUS, seed_erp

    url = _fresh_postgres(pg_url)
    erp_port = free_port()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="crossdock-scale-") as tmp,
            sandbox_process(Path(tmp), erp_port),
        ):
            directory = Path(tmp)
            settings = OdooSettings(
                url=f"http://127.0.0.1:{erp_port}",
                database="crossdock",
                login="admin",
                password="admin",
            )
            async with OdooClient(settings) as client:
                await seed_erp(OdooOperations(client))
            config = directory / "crossdock.yaml"
            config.write_text(
                f"database:\n  url: {url}\nobservability:\n  tracing: false\n"
                f"systems:\n  odoo:\n    kind: odoo\n    url: http://127.0.0.1:{erp_port}\n"
                "    username: admin\n    credentials:\n      password: ${BENCH_ODOO_PASSWORD}\n"
                "    options:\n      database: crossdock\n"
                "    limits:\n      rate_per_s: 100000\n      burst: 1000\n      concurrency: 8\n"
            )
            upgrade(url)
            db = Database(url)
            try:
                token = db.write_sync(
                    lambda c: create_token(c, "bench", ["orders:write"], rate_per_s=1e9)
                )
                meter = _Meter(db)
                env = {**os.environ, "BENCH_ODOO_PASSWORD": "admin"}
                log = directory / "nodes.log"
                return await _measure(db, meter, config, env, log, token, orders, list(SKUS))
            finally:
                db.close()
    finally:
        _drop_postgres(pg_url, url)


async def _measure(
    db: Database,
    meter: _Meter,
    config: Path,
    env: dict[str, str],
    log: Path,
    token: str,
    orders: int,
    skus: list[str],
) -> dict[str, Any]:
    port = free_port()
    args = ["serve", "--config", str(config), "--port", str(port), "--api-only"]
    figures: dict[str, Any] = {"orders": orders, "server": "PostgreSQL, nodes on one machine"}
    with crossdock_process(args, port, env, log):
        api = _listener_pid(port)
        # intake alone: nothing runs the flow yet
        before, cpu_before = meter.read(), cpu_ms(api)
        accepted = await _send(port, token, list(range(orders)), skus)
        intake_cpu, after = cpu_ms(api) - cpu_before, meter.read()
        if accepted != orders:
            raise RuntimeError(f"{orders - accepted} orders refused")
        intake_db = meter.per_order(before, after, orders)
        # the flow alone: one workers node carries the backlog to the ERP
        with _workers(config, env, log) as worker:
            began = meter.read()
            worker_began = cpu_ms(worker.pid)
            _wait(lambda: _placed(db) >= orders, 600, "the orders placed")
            flow_cpu = cpu_ms(worker.pid) - worker_began
            flow_db = meter.per_order(began, meter.read(), orders)
            # takeover: a second workers node, the first killed while orders flow
            with _workers(config, env, log) as survivor:
                _wait(lambda: _owned_by(db, survivor.pid), 120, "the second node claiming")
                # orders keep coming until the takeover, so every partition has work to claim
                stop = asyncio.Event()
                sending = asyncio.create_task(_keep_sending(port, token, orders, skus, stop))
                await asyncio.to_thread(
                    _wait, lambda: bool(_held_by(db, worker.pid)), 120, "a lease of the first"
                )
                worker.send_signal(signal.SIGKILL)
                killed, killed_at = time.monotonic(), time.time()
                worker.wait()
                leases = _held_by(db, worker.pid)
                held = set(leases)
                if not held:
                    raise RuntimeError("the first node released its leases before the kill")
                tag = f":{survivor.pid}:"

                def claimed() -> int:
                    return sum(bool(o and tag in o) for o in _owners(db, held).values())

                await asyncio.to_thread(_wait, lambda: claimed() > 0, 300, "a first takeover")
                first_claimed = time.monotonic() - killed
                await asyncio.to_thread(
                    _wait, lambda: claimed() == len(held), 300, "the survivor taking all over"
                )
                all_claimed = time.monotonic() - killed
                # the dead node's work is free for the others once its last lease runs out
                takeover = max(leases.values(), default=killed_at) - killed_at
                stop.set()
                await sending
    commits = intake_db[0] + flow_db[0]
    statements = (
        intake_db[1] + flow_db[1] if intake_db[1] is not None and flow_db[1] is not None else None
    )
    db_cpu = intake_db[2] + flow_db[2] if intake_db[2] is not None and flow_db[2] else None
    figures.update(
        cpu_ms_per_order_intake=round(intake_cpu / orders, 3),
        cpu_ms_per_order_flow=round(flow_cpu / orders, 3),
        db_statements_per_order=None if statements is None else round(statements, 1),
        db_commits_per_order=round(commits, 2),
        db_cpu_ms_per_order=None if db_cpu is None else round(db_cpu, 3),
        takeover_s=round(takeover, 2),
        first_partition_claimed_s=round(first_claimed, 2),
        all_partitions_claimed_s=round(all_claimed, 2),
        lease_seconds=EngineConfig().lease_seconds,
        partitions_taken_over=len(held),
        targets={"takeover_s": f"<= {TAKEOVER_TARGET_S:g}"},
    )
    return figures


def _owned_by(db: Database, pid: int) -> bool:
    def read(conn: Connection) -> bool:
        query = select(func.count()).where(cursors_table.c.lease_owner.like(f"%:{pid}:%"))
        return int(conn.execute(query).scalar_one()) > 0

    return db.read_sync(read)


def _listener_pid(port: int) -> int:
    """The process listening on 127.0.0.1:`port` (the intake node)."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        if parts[3] == "0A" and int(parts[1].split(":")[1], 16) == port:
            inode = parts[9]
            break
    if inode is None:
        raise RuntimeError(f"nothing listens on port {port}")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fds = os.listdir(f"/proc/{entry}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{entry}/fd/{fd}") == f"socket:[{inode}]":
                    return int(entry)
            except OSError:
                continue
    raise RuntimeError(f"no process found for port {port}")
