"""kill -9 of the hub during a burst of Shopify webhooks: every webhook answered 200 is kept, and
when Shopify sends again what was not answered (and some of what was), every order is accepted
exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool

from crossdock.engine.database import normalize_url
from crossdock.engine.tables import events
from crossdock.flows.shopify.tables import shopify_orders
from crossdock.migrations import upgrade
from crossdock.sandbox.odoo.server import free_port
from crossdock.webhooks.tables import webhook_inbound
from tests.flows.shopify.conftest import DOMAIN, SECRET, TOKEN, published_order, signed

ROOT = Path(__file__).resolve().parents[3]
ORDERS = 300


def start_hub(url: str, port: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CROSSDOCK_TEST_SHOPIFY_TOKEN": TOKEN,
        "CROSSDOCK_TEST_SHOPIFY_SECRET": SECRET,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.flows.shopify.hub_main", url, str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def counts(url: str) -> tuple[int, int, int, set[str]]:
    engine = create_engine(normalize_url(url), poolclass=NullPool)
    with engine.connect() as conn:
        kept = set(conn.execute(select(webhook_inbound.c.message_id)).scalars())
        received = conn.execute(
            select(func.count())
            .select_from(events)
            .where(events.c.type == "shopify.order_received")
        ).scalar_one()
        accepted = conn.execute(
            select(func.count()).select_from(events).where(events.c.type == "order.accepted")
        ).scalar_one()
        worked = conn.execute(select(func.count()).select_from(shopify_orders)).scalar_one()
    engine.dispose()
    return int(received), int(accepted), int(worked), kept


def delivery(n: int) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(published_order() | {"id": 800_000 + n, "name": f"#K{n}"}).encode()
    return body, {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Hmac-Sha256": signed(body),
        "X-Shopify-Shop-Domain": DOMAIN,
        "X-Shopify-Webhook-Id": f"kill-{n}",
        "X-Shopify-Triggered-At": "2026-12-05T06:00:00Z",
    }


async def burst(port: int, numbers: list[int], answered: set[int], kill_after: int | None,
                proc: subprocess.Popen[str] | None) -> None:  # fmt: skip
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        sem = asyncio.Semaphore(16)

        async def one(n: int) -> None:
            body, headers = delivery(n)
            async with sem:
                try:
                    answer = await client.post(
                        "/v1/channels/shopify/shop/webhooks", content=body, headers=headers
                    )
                except httpx.HTTPError:
                    return  # no answer: Shopify will send it again
            if answer.status_code == 200:
                answered.add(n)
                if kill_after is not None and proc is not None and len(answered) == kill_after:
                    proc.send_signal(signal.SIGKILL)

        await asyncio.gather(*(one(n) for n in numbers))


async def test_kill_9_during_a_burst_loses_nothing_answered_and_doubles_nothing(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    upgrade(url)
    port = free_port()
    proc = start_hub(url, port)
    answered: set[int] = set()
    try:
        await burst(port, list(range(ORDERS)), answered, ORDERS // 3, proc)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        _, _, _, kept = counts(url)
        assert {f"kill-{n}" for n in answered} <= kept  # nothing answered 200 was lost
        assert 0 < len(answered) < ORDERS
        proc = start_hub(url, port)
        # Shopify sends again what was not answered, and re-delivers some of what was
        again: set[int] = set()
        await burst(port, [n for n in range(ORDERS) if n not in answered or n % 10 == 0], again,
                    None, None)  # fmt: skip
        deadline = asyncio.get_running_loop().time() + 120
        while counts(url)[2] < ORDERS:
            assert asyncio.get_running_loop().time() < deadline, counts(url)[:3]
            await asyncio.sleep(0.1)  # polling another process's database
        received, accepted, worked, kept = counts(url)
        assert (received, accepted, worked, len(kept)) == (ORDERS, ORDERS, ORDERS, ORDERS)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
