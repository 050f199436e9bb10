"""A delivery survives `kill -9` of the hub mid-retry: the killed process's lease on the message
expires, another hub sends it, nobody sends it while the lease holds, and it is delivered."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.pool import NullPool

from crossdock.engine import Engine, NewEvent
from crossdock.engine.database import normalize_url
from crossdock.webhooks import store
from crossdock.webhooks.tables import webhook_messages
from tests.support.waiting import until
from tests.webhooks.receiver import Received, Receiver, Reply

ROOT = Path(__file__).resolve().parents[2]
LEASE_S = 3.0


def start_hub(url: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.webhooks.hub_main", url, str(LEASE_S)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def message_state(url: str) -> tuple[str, int, float | None]:
    engine = create_engine(normalize_url(url), poolclass=NullPool)
    with engine.connect() as conn:
        row = conn.execute(
            select(
                webhook_messages.c.state,
                webhook_messages.c.attempts,
                webhook_messages.c.lease_until,
            )
        ).one()
    engine.dispose()
    return str(row.state), int(row.attempts), row.lease_until


async def test_delivery_survives_kill_9_mid_retry(db_url: str) -> None:
    hang = asyncio.Event()  # the third attempt hangs until the hub is killed

    def script(request: Received, nth: int) -> Reply:
        if nth <= 2:
            return Reply(500, "not yet")
        if nth == 3:
            return Reply(hold=hang)
        return Reply(200)

    receiver = await Receiver(script=script).start()
    victim = start_hub(db_url)
    survivor: subprocess.Popen[str] | None = None
    try:
        async with Engine(db_url) as engine:
            endpoint = await engine.writer.submit(
                lambda c: store.create_endpoint(c, url=receiver.url, event_types=["order.*"])
            )
            receiver.secrets.append(endpoint.secret)
            event = await engine.append_one(
                NewEvent("order.confirmed", "test", "order:K1", {"order_id": "K1"})
            )

        async def third_attempt_in_flight() -> bool:
            return len(receiver.by_id(event.id)) >= 3

        await until(third_attempt_in_flight, what="the third attempt in flight")
        state, attempts, lease_until = message_state(db_url)
        assert (state, attempts) == ("pending", 2) and lease_until is not None
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        killed_at = time.time()
        survivor = start_hub(db_url)

        async def delivered() -> bool:
            return message_state(db_url)[0] == "delivered"

        await until(delivered, timeout=30, what="delivery by the surviving hub")
        requests = receiver.by_id(event.id)
        assert len(requests) == 4, "sent once more after the kill, not twice"
        assert requests[3].at >= lease_until - 0.05, "nobody may send while the lease holds"
        assert requests[3].at >= killed_at
        assert all(r.verified_by == [0] for r in requests)
        # the killed attempt left no record: the survivor's attempt is the third on record
        assert message_state(db_url)[1] == 3
    finally:
        hang.set()
        for proc in (victim, survivor):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
        await receiver.stop()
