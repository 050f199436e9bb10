"""`crossdock bench engine`: the event engine's throughput and latency, next to a raw reference.

Figures (SQLite, and PostgreSQL when a URL is given):
- `raw_insert_rows_per_s`: the same rows `executemany`-inserted into a bare table (no indexes, one
  transaction) with the bare driver — the ceiling for this disk and this Python.
  `raw_indexed_insert_rows_per_s`: the same, into a table with the two indexes the log needs
  (event id, idempotency key per source) — the ceiling for a log of this shape, before any
  per-event work of the engine.
- `append_events_per_s`: events committed per second through `Engine.append`, by concurrent
  producers sending batches (bulk intake); `append_single_events_per_s`: one event per call, many
  callers at once (API requests) — both rely on group commit. The callers' `NewEvent`s are made
  before timing, as the reference's rows are; ids, times, encoding and validation are timed.
- The raw references and the batched append are measured in rounds (`append_rounds`, five by
  default), each round the three one after the other: a shared machine's speed drifts within
  minutes, so a ratio compares figures of the same moment. The figures given are the medians of
  the rounds; each ratio is the median of the rounds' own ratios. A round is short, and now and
  then one is caught by a stall of the machine: five rounds keep two such rounds out of the
  median.
- `handled_events_per_s`: end to end with a no-op handler: from the first append until every event
  was handled (in-process on SQLite; two worker processes on PostgreSQL).
- `latency_p50_ms_at_1000_per_s` / `latency_p99_ms_at_1000_per_s`: append → handled while 1,000
  events/s are offered on a fixed schedule, after `latency_warmup_s` at that rate whose events are
  not counted (a started engine's first rounds compile their statements: a steady-state figure).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from crossdock.engine import (
    DEFAULT_PARTITIONS,
    Batch,
    Engine,
    EngineSettings,
    Lane,
    NewEvent,
    Subscription,
    dump_data,
    format_time,
    new_event_id,
    partition_of,
    utcnow,
)
from crossdock.migrations import upgrade
from crossdock.ops.heap import settle_heap

GROUP = "bench"
LANES = [Lane("default", 0, 2)]


def _event(i: int) -> NewEvent:
    return NewEvent(
        "order.accepted",
        "bench",
        f"order:{i % 1000}",
        {"n": i, "sku": "DESK-1", "quantity": "2", "unit_price": "120.00"},
        idempotency_key=f"k{i}",
    )


_LOG_INDEXES = (
    "CREATE UNIQUE INDEX raw_id ON raw (id)",
    "CREATE UNIQUE INDEX raw_key ON raw (idempotency_key, source)",
)


def raw_insert_rate(
    directory: Path, count: int, synchronous: str, *, indexed: bool = False
) -> float:
    """Rows per second for a bare executemany into SQLite, same row shape as the log (with the
    log's indexes when `indexed`)."""
    path = directory / ("raw-indexed.db" if indexed else "raw.db")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute(
        "CREATE TABLE raw (seq INTEGER PRIMARY KEY, id TEXT, type TEXT, source TEXT, subject TEXT,"
        " partition INTEGER, time TEXT, data TEXT, traceparent TEXT, idempotency_key TEXT,"
        " recorded_at REAL)"
    )
    for statement in _LOG_INDEXES if indexed else ():
        conn.execute(statement)
    now = time.time()
    stamp = format_time(utcnow())
    rows = [
        (
            new_event_id(),
            e.type,
            e.source,
            e.subject,
            partition_of(e.subject, DEFAULT_PARTITIONS["sqlite"]),
            stamp,
            dump_data(e.data),
            None,
            e.idempotency_key,
            now,
        )
        for e in map(_event, range(count))
    ]
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO raw (id, type, source, subject, partition, time, data, traceparent,"
        " idempotency_key, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return count / elapsed


async def _append_rate(url: str, count: int, batch: int, producers: int) -> float:
    engine = Engine(url, lanes=LANES)
    async with engine:
        # The callers' events exist before the clock starts, as the reference's rows do: what is
        # timed is the engine's work on them (validation, ids, encoding, insert, commit).
        queue = [
            [_event(i) for i in range(start, min(count, start + batch))]
            for start in range(0, count, batch)
        ]

        async def producer() -> None:
            while queue:
                await engine.append(queue.pop())

        started = time.perf_counter()
        await asyncio.gather(*(producer() for _ in range(producers)))
        return count / (time.perf_counter() - started)


async def _noop(batch: Batch) -> None:
    return None


async def _wait_handled(engine: Engine) -> None:
    while not await engine.idle():
        await asyncio.sleep(0.01)


async def _handled_rate_in_process(url: str, count: int) -> float:
    engine = Engine(url, lanes=LANES)
    engine.subscribe(Subscription(GROUP, ["order.*"], _noop, batch_size=500))
    async with engine:
        started = time.perf_counter()
        for start in range(0, count, 1000):
            await engine.append([_event(i) for i in range(start, min(count, start + 1000))])
        await _wait_handled(engine)
        return count / (time.perf_counter() - started)


async def _handled_rate_with_workers(url: str, count: int, workers: int) -> float:
    """Appends from this process; `workers` separate processes handle (the scale-out shape)."""
    engine = Engine(url, lanes=LANES)
    engine.subscribe(Subscription(GROUP, ["order.*"], _noop, batch_size=500))
    await engine.start(workers=False)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "crossdock.bench.engine", url],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            proc.stdout.readline()  # "ready"
        started = time.perf_counter()
        for start in range(0, count, 1000):
            await engine.append([_event(i) for i in range(start, min(count, start + 1000))])
        await _wait_handled(engine)
        return count / (time.perf_counter() - started)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
        await engine.stop()


async def _latency(url: str, rate: int, seconds: float, warmup: float) -> dict[str, float]:
    samples: list[float] = []

    async def handle(batch: Batch) -> None:
        now = time.perf_counter()
        samples.extend(now - e.data["sent"] for e in batch.events if e.data["counted"])

    engine = Engine(url, settings=EngineSettings(poll_interval_s=0.05), lanes=LANES)
    engine.subscribe(Subscription(GROUP, ["order.*"], handle, batch_size=500))
    total = int(rate * (warmup + seconds))
    first_counted = int(rate * warmup)
    async with engine:
        tick = 0.01
        per_tick = max(1, int(rate * tick))
        started = time.perf_counter()
        sent = 0
        pending: list[asyncio.Task[Any]] = []
        while sent < total:
            due = started + (sent / rate)
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            stamp = time.perf_counter()
            batch = [
                NewEvent(
                    "order.accepted",
                    "bench",
                    f"order:{(sent + i) % 500}",
                    {"sent": stamp, "counted": sent >= first_counted},
                )
                for i in range(per_tick)
            ]
            pending.append(asyncio.create_task(engine.append(batch)))
            sent += per_tick
        await asyncio.gather(*pending)
        await _wait_handled(engine)
    samples.sort()
    return {
        "latency_p50_ms_at_1000_per_s": round(statistics.median(samples) * 1000, 2),
        "latency_p99_ms_at_1000_per_s": round(samples[int(len(samples) * 0.99) - 1] * 1000, 2),
        "latency_samples": len(samples),
        "latency_warmup_s": warmup,
    }


def _fresh_postgres(url: str) -> str:
    """A scratch database on the given server, so the bench never touches real data."""
    import psycopg

    name = f"crossdock_bench_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name


def _drop_postgres(admin_url: str, url: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


async def run_engine_bench(
    *,
    events: int = 50_000,
    pg_url: str | None = None,
    synchronous: str = "FULL",
    rounds_count: int = 5,
) -> dict[str, Any]:
    # The engine measured as `crossdock serve` runs it, with the collector set for serving.
    settle_heap()
    with tempfile.TemporaryDirectory(prefix="crossdock-bench-") as tmp:
        directory = Path(tmp)

        def sqlite_url(name: str) -> str:
            url = f"sqlite:///{directory / name}"
            upgrade(url)
            return url

        rounds = []
        for i in range(max(1, rounds_count)):
            here = directory / f"round-{i}"
            here.mkdir()
            raw = raw_insert_rate(here, events, synchronous)
            raw_indexed = raw_insert_rate(here, events, synchronous, indexed=True)
            append = await _append_rate(
                sqlite_url(f"round-{i}/append.db"), events, batch=100, producers=8
            )
            rounds.append(
                {
                    "append_events_per_s": round(append),
                    "raw_insert_rows_per_s": round(raw),
                    "append_vs_raw": round(append / raw, 3),
                    "raw_indexed_insert_rows_per_s": round(raw_indexed),
                    "raw_indexed_vs_raw": round(raw_indexed / raw, 3),
                }
            )

        def median(key: str) -> Any:
            return statistics.median(r[key] for r in rounds)

        single = await _append_rate(
            sqlite_url("single.db"), min(events, 20_000), batch=1, producers=256
        )
        handled = await _handled_rate_in_process(sqlite_url("handled.db"), events)
        latency = await _latency(sqlite_url("latency.db"), rate=1000, seconds=5, warmup=1)
        result: dict[str, Any] = {
            "backend": "sqlite",
            "events": events,
            "sqlite_synchronous": synchronous,
            "append_events_per_s": median("append_events_per_s"),
            "append_single_events_per_s": round(single),
            "raw_insert_rows_per_s": median("raw_insert_rows_per_s"),
            "append_vs_raw": median("append_vs_raw"),
            "raw_indexed_insert_rows_per_s": median("raw_indexed_insert_rows_per_s"),
            "raw_indexed_vs_raw": median("raw_indexed_vs_raw"),
            "append_rounds": rounds,
            "handled_events_per_s": round(handled),
            **latency,
            "targets": {
                "append_events_per_s": ">= 20000",
                "append_vs_raw": ">= 0.30",
                "handled_events_per_s": ">= 10000",
                "latency_p99_ms_at_1000_per_s": "<= 50",
            },
        }
    if pg_url:
        result["postgresql"] = await _run_postgres(pg_url, events)
    return result


async def _run_postgres(admin_url: str, events: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    url = _fresh_postgres(admin_url)
    try:
        upgrade(url)
        figures["append_events_per_s"] = round(
            await _append_rate(url, events, batch=100, producers=8)
        )
    finally:
        _drop_postgres(admin_url, url)
    url = _fresh_postgres(admin_url)
    try:
        upgrade(url)
        figures["handled_events_per_s"] = round(
            await _handled_rate_with_workers(url, events, workers=2)
        )
    finally:
        _drop_postgres(admin_url, url)
    url = _fresh_postgres(admin_url)
    try:
        upgrade(url)
        figures.update(await _latency(url, rate=1000, seconds=5, warmup=1))
    finally:
        _drop_postgres(admin_url, url)
    figures["handled_by"] = "2 worker processes"
    figures["targets"] = {"handled_events_per_s": ">= 5000"}
    return figures


async def _worker(url: str) -> None:
    """A bench worker process: no-op handler until terminated."""
    import signal

    engine = Engine(url, lanes=LANES)
    engine.subscribe(Subscription(GROUP, ["order.*"], _noop, batch_size=500))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with engine:
        print("ready", flush=True)
        await stop.wait()


if __name__ == "__main__":
    from crossdock.ops.logging import configure_logging

    configure_logging("warning")
    asyncio.run(_worker(sys.argv[1]))
