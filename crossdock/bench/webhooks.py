"""`crossdock bench webhooks`: outbound webhook throughput and latency on this machine.

A hub on a scratch SQLite database fans events out to one subscription whose receiver runs in its
own process on 127.0.0.1 (`webhook_receiver`). Measured:

- `deliveries_per_s_0ms` / `deliveries_per_s_50ms`: a burst of events appended as fast as
  possible, from the first append to the last delivery received, with a receiver answering at
  once and after 50 ms (the concurrency of the delivery worker is what carries the second);
- `event_to_delivery_p99_ms` (and p50): from the event's time to its arrival at the receiver, for
  events appended at a steady rate (not a burst), receiver at 0 ms.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from crossdock.config import validate_config
from crossdock.engine import NewEvent
from crossdock.hub import Hub, build_hub, migrate
from crossdock.webhooks import store


class _Receiver:
    def __init__(self, latency_ms: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "crossdock.bench.webhook_receiver", str(latency_ms)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.url = f"http://127.0.0.1:{int(self.proc.stdout.readline())}"

    async def stats(self, client: httpx.AsyncClient) -> dict[str, Any]:
        answer = await client.get(f"{self.url}/stats")
        stats: dict[str, Any] = answer.json()
        return stats

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


async def _subscribe(hub: Hub, url: str, cap: int) -> str:
    endpoint = await hub.engine.writer.submit(
        lambda c: store.create_endpoint(c, url=url, event_types=["order.*"], max_in_flight=cap)
    )
    return endpoint.id


async def _drop(hub: Hub, endpoint_id: str) -> None:
    assert hub.webhooks is not None
    while hub.webhooks.worker.busy:  # let the last attempts be recorded
        await asyncio.sleep(0.01)
    await hub.engine.writer.submit(lambda c: store.delete_endpoint(c, endpoint_id))


def _events(start: int, count: int) -> list[NewEvent]:
    return [
        NewEvent("order.confirmed", "bench", f"order:B{n}", {"order_id": f"B{n}", "n": n})
        for n in range(start, start + count)
    ]


async def _wait_for(receiver: _Receiver, client: httpx.AsyncClient, count: int) -> None:
    deadline = time.monotonic() + 600
    while (await receiver.stats(client))["count"] < count:
        if time.monotonic() > deadline:
            raise RuntimeError("the receiver did not get every delivery in time")
        await asyncio.sleep(0.02)


async def _burst(hub: Hub, latency_ms: int, events: int, cap: int) -> float:
    receiver = _Receiver(latency_ms)
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            endpoint_id = await _subscribe(hub, f"{receiver.url}/hook", cap)
            await hub.engine.append(_events(0, 10))  # warm up connections and caches
            await _wait_for(receiver, client, 10)
            started = time.perf_counter()
            for chunk in range(0, events, 500):
                await hub.engine.append(_events(chunk, min(500, events - chunk)))
            await _wait_for(receiver, client, events + 10)
            elapsed = time.perf_counter() - started
            await _drop(hub, endpoint_id)
    finally:
        receiver.stop()
    return events / elapsed


async def _steady(hub: Hub, rate_per_s: int, seconds: float) -> dict[str, Any]:
    receiver = _Receiver(0)
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            endpoint_id = await _subscribe(hub, f"{receiver.url}/hook", 100)
            total = int(rate_per_s * seconds)
            started = time.perf_counter()
            for n in range(total):
                await hub.engine.append(_events(n, 1))
                lag = started + (n + 1) / rate_per_s - time.perf_counter()
                if lag > 0:
                    await asyncio.sleep(lag)  # pacing the producer, not synchronising
            await _wait_for(receiver, client, total)
            stats = await receiver.stats(client)
            await _drop(hub, endpoint_id)
    finally:
        receiver.stop()
    return stats


async def run_webhooks_bench(
    *, events: int = 5000, concurrency: int = 512, rate_per_s: int = 200
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = validate_config(
            {
                "database": {"url": f"sqlite:///{Path(tmp) / 'bench.db'}"},
                "engine": {"sqlite_synchronous": "NORMAL"},
                "webhooks": {
                    "allow_private": ["127.0.0.1/32"],
                    "concurrency": concurrency,
                    "poll_interval_ms": 20,
                },
            }
        )
        migrate(cfg)
        hub = build_hub(cfg)
        await hub.start()
        try:
            fast = await _burst(hub, 0, events, concurrency)
            slow = await _burst(hub, 50, events, concurrency)
            steady = await _steady(hub, rate_per_s, 5.0)
        finally:
            await hub.stop()
    return {
        "deliveries_per_s_0ms": round(fast, 1),
        "deliveries_per_s_50ms": round(slow, 1),
        "deliveries_per_s": round(slow, 1),
        "target_deliveries_per_s_50ms": 1000,
        "event_to_delivery_p99_ms": steady["p99_ms"],
        "event_to_delivery_p50_ms": steady["p50_ms"],
        "steady_rate_per_s": rate_per_s,
        "events_per_burst": events,
        "concurrency": concurrency,
        "backend": "sqlite (synchronous NORMAL)",
    }
