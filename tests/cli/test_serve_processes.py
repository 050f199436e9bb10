"""`crossdock serve --processes 2` as a real server on 127.0.0.1: two API processes share the port
and a third runs the workers; the API processes ask the ERP about new SKUs and share each
token's rate limit; a scrape of either API process shows the figures of all of them (each
request and each flow step counted once); a killed process is started again; SIGTERM stops
every process and the server exits 0."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool

from crossdock.api.auth import create_token
from crossdock.bench.http import listeners
from crossdock.demo import SKUS
from crossdock.engine.database import Database
from crossdock.flows.tables import order_steps, orders
from crossdock.sandbox.odoo import SandboxServer, SandboxSettings
from tests.flows.served import ROOT, answers, hub_files, seeded, send_all
from tests.support.postgres import free_port
from tests.support.waiting import until_sync

ORDERS = 120
SERVE = [sys.executable, "-m", "crossdock", "serve"]


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry))
    return found


def command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")


def scraped(base: str, token: str, name: str, **labels: str) -> float:
    """A sample of `/metrics` summed over the series whose labels match, on a new connection
    (so that successive scrapes land on either API process)."""
    text = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {token}"}).text
    total = 0.0
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}(?:\{{(.*)\}})? (\S+)", line)
        if match is None:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(match.group(2))
    return total


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_two_api_processes_share_the_port_metrics_and_restarts(tmp_path: Path) -> None:
    with SandboxServer(
        SandboxSettings(latency_call_s=0, latency_record_s=0, path=tmp_path / "odoo.db")
    ) as odoo:
        seeded(odoo.url)
        config, url, token = hub_files(tmp_path, odoo.url, "inventory:\n  warehouses: [WH]\n")
        hub_db = Database(url)
        slow = hub_db.write_sync(lambda c: create_token(c, "slow", ["orders:read"], rate_per_s=1))
        hub_db.close()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [*SERVE, "--config", str(config), "--port", str(port), "--processes", "2"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "HUB_ODOO_PASSWORD": "admin"},
        )
        try:
            until_sync(lambda: listeners(port) == 2, what="two API processes")
            processes = children_of(server.pid)
            api = {p for p in processes if "--api-only" in command_line(p)}
            workers = {p for p in processes if "--workers-only" in command_line(p)}
            assert len(api) == 2 and len(workers) == 1

            accepted = asyncio.run(send_all(base, token, list(range(ORDERS))))
            assert len(accepted) == ORDERS
            # API processes run no flows, yet ask the ERP about SKUs they have not seen.
            stock = {"kind": "adjustment", "warehouse": "WH", "location": "L1", "sku": SKUS[0]}
            stock |= {"quantity": "1", "unit": "unit", "occurred_at": "2026-11-22T10:00:00Z"}
            answer = httpx.post(
                f"{base}/v1/inventory/events",
                json={"events": [{**stock, "sequence": 1}]},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.status_code == 202, answer.text

            # A token's rate holds for the server, not per process: 1/s (a burst of 2), forty
            # requests on new connections (spread over both processes by the kernel). The rate
            # is low so that some are refused however slowly a loaded machine sends them.
            started = time.monotonic()
            statuses = [
                httpx.get(
                    f"{base}/v1/orders", headers={"Authorization": f"Bearer {slow}"}
                ).status_code
                for _ in range(40)
            ]
            allowed = 2 + (time.monotonic() - started) + 1  # the burst, 1/s, one in flight
            assert set(statuses) == {200, 429}
            assert statuses.count(200) <= allowed, statuses
            database = create_engine(url, poolclass=NullPool)

            def waiting() -> int:
                with database.connect() as conn:
                    query = select(func.count()).select_from(orders)
                    return int(conn.execute(query.where(orders.c.state == "accepted")).scalar())

            until_sync(lambda: waiting() == 0, timeout=300, what="the flow (workers process)")
            with database.connect() as conn:
                steps = int(
                    conn.execute(
                        select(func.count())
                        .select_from(order_steps)
                        .where(order_steps.c.step == "accepted")
                    ).scalar_one()
                )
            database.dispose()
            # Several scrapes, spread over both processes by the kernel: every one shows all
            # requests, and the steps counted by the first scrapes are not counted again.
            for _ in range(6):
                requests = scraped(
                    base,
                    token,
                    "crossdock_http_request_seconds_count",
                    route="/v1/orders",
                    status="202",
                )
                assert requests == ORDERS
                counted = scraped(base, token, "crossdock_flow_steps_total", step="accepted")
                assert counted == steps == ORDERS

            # A process killed outright is started again and the port keeps answering.
            victim = min(api)
            os.kill(victim, signal.SIGKILL)
            until_sync(
                lambda: (
                    victim not in children_of(server.pid)
                    and len(children_of(server.pid)) == 3
                    and listeners(port) == 2
                ),
                what="the API process started again",
            )
            assert answers(f"{base}/healthz")
            processes = children_of(server.pid)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=120)
        assert server.returncode == 0
        assert not any(Path(f"/proc/{p}").exists() for p in processes)
        assert listeners(port) == 0


def test_processes_count_api_processes_only(tmp_path: Path) -> None:
    config = tmp_path / "crossdock.yaml"
    config.write_text(f"database:\n  url: sqlite:///{tmp_path / 'hub.db'}\n")
    proc = subprocess.run(
        [*SERVE, "--config", str(config), "--workers-only", "--processes", "2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "--processes" in proc.stderr
