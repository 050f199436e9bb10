"""Odoo down for a minute: the hub keeps accepting orders the whole time, its circuit to Odoo
opens, nothing goes to the dead letters however long the outage lasts, and once Odoo is back the
backlog drains — every order released with exactly one sale order.

The hub runs as in production (`crossdock serve`, default engine retry settings); the Odoo sandbox
runs in the test process and is really stopped (connections refused), then started again on the
same port and data."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool

from crossdock.engine.tables import dead_letters
from crossdock.flows.tables import exceptions, orders
from crossdock.sandbox.odoo import SandboxServer, SandboxSettings
from tests.flows.served import (
    answers,
    hub_files,
    sale_orders_per_ref,
    seeded,
    send_all,
    start_hub,
)
from tests.support.postgres import free_port
from tests.support.waiting import until_sync

OUTAGE_S = 60.0
BEFORE, DURING = 50, 300


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        by_state = dict(
            conn.execute(select(orders.c.state, func.count()).group_by(orders.c.state)).all()
        )
        dead = conn.execute(select(func.count()).select_from(dead_letters)).scalar_one()
        open_exceptions = conn.execute(
            select(func.count()).where(exceptions.c.state == "open")
        ).scalar_one()
    engine.dispose()
    return {**by_state, "dead": int(dead), "exceptions": int(open_exceptions)}


def _circuit(base: str, token: str) -> str:
    text = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {token}"}).text
    for line in text.splitlines():
        circuit = line.startswith("crossdock_connector_circuit_state{")
        if circuit and 'system="odoo"' in line and line.endswith(" 1.0"):
            return line.split('state="')[1].split('"')[0]
    return "unknown"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_odoo_down_for_a_minute_intake_goes_on_and_the_backlog_drains(tmp_path: Path) -> None:
    settings = SandboxSettings(latency_call_s=0, latency_record_s=0, path=tmp_path / "odoo.db")
    odoo_port = free_port()
    odoo = SandboxServer(settings, port=odoo_port).start()
    client_settings = seeded(odoo.url)
    # The probe interval is an operator's setting; the engine's retry settings are the defaults.
    config, url, token = hub_files(tmp_path, odoo.url, "      breaker_reset_s: 5\n")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    hub = start_hub(config, port)
    try:
        until_sync(lambda: answers(f"{base}/healthz"), what="the hub")
        assert asyncio.run(send_all(base, token, list(range(BEFORE)))) == set(range(BEFORE))
        until_sync(lambda: _counts(url).get("released", 0) == BEFORE, what="the first orders")

        odoo.stop()
        went_down = time.monotonic()
        sent: set[int] = set()
        numbers = list(range(BEFORE, BEFORE + DURING))
        rounds = 10
        for r in range(rounds):
            # the shop keeps selling through the outage: every order is acknowledged
            chunk = numbers[r::rounds]
            assert asyncio.run(send_all(base, token, chunk)) == set(chunk)
            sent |= set(chunk)
            time.sleep(OUTAGE_S / rounds)  # the outage's length: the scenario, not a wait
        assert sent == set(numbers)
        during = _counts(url)
        assert during.get("released", 0) == BEFORE, "nothing can be released while Odoo is down"
        assert during["accepted"] == DURING
        assert during["dead"] == 0 and during["exceptions"] == 0
        assert _circuit(base, token) in ("open", "half_open")
        assert time.monotonic() - went_down >= OUTAGE_S

        odoo = SandboxServer(settings, port=odoo_port).start()
        until_sync(
            lambda: _counts(url).get("released", 0) == BEFORE + DURING,
            timeout=180,
            what="the backlog to drain",
        )
        after = _counts(url)
        assert after["dead"] == 0 and after["exceptions"] == 0
        assert _circuit(base, token) == "closed"
    finally:
        hub.terminate()
        hub.wait(timeout=60)

    refs = [f"shop:K-{n}" for n in range(BEFORE + DURING)]
    try:
        per_ref = sale_orders_per_ref(client_settings, refs)
    finally:
        odoo.stop()
    assert set(per_ref) == set(refs) and max(per_ref.values()) == 1
