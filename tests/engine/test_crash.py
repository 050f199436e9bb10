"""Crash recovery and scale-out with real processes: workers killed with SIGKILL mid-batch, and
three workers sharing PostgreSQL. Effects are written with the acknowledgement, so each must
appear exactly once, in log order per subject."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool

from crossdock.engine import Engine, NewEvent
from crossdock.engine.database import normalize_url
from crossdock.engine.tables import cursors
from tests.engine import effects
from tests.support.waiting import until_sync

ROOT = Path(__file__).resolve().parents[2]


def start_worker(url: str, name: str, *extra: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.engine.worker_main", url, name, *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


async def append_work(url: str, count: int, subjects: int) -> None:
    async with Engine(url) as engine:
        for start in range(0, count, 1000):
            await engine.append(
                [
                    NewEvent("work.item", "test", f"s:{i % subjects}", {"i": i})
                    for i in range(start, min(count, start + 1000))
                ]
            )


def leases_held_by(url: str, pid: int) -> int:
    engine = create_engine(normalize_url(url), poolclass=NullPool)
    with engine.connect() as conn:
        held = conn.execute(
            select(func.count())
            .select_from(cursors)
            .where(cursors.c.lease_owner.like(f"%:{pid}:%"), cursors.c.lease_until.is_not(None))
        ).scalar_one()
    engine.dispose()
    return int(held)


def assert_exactly_once_in_order(url: str, count: int) -> set[str]:
    per_event, per_subject, workers = effects.check(url)
    assert len(per_event) == count, f"{count - len(per_event)} events lost"
    doubled = {k: v for k, v in per_event.items() if v != 1}
    assert not doubled, f"{len(doubled)} events handled more than once"
    for subject, positions in per_subject.items():
        assert positions == sorted(positions), f"{subject} out of order"
    return workers


def test_worker_killed_mid_batch_loses_and_doubles_nothing(db_url: str) -> None:
    count = 3000
    effects.create(db_url)
    asyncio.run(append_work(db_url, count, subjects=100))
    args = ("--delay", "0.02", "--lease", "1", "--batch", "40")
    for round_no in range(3):
        worker = start_worker(db_url, f"victim{round_no}", *args)
        target = (round_no + 1) * count // 5

        def mid_batch(t: int = target, pid: int = worker.pid) -> bool:
            # Between an acknowledgement that releases its partitions and the next claim the
            # worker holds nothing for a moment: kill it once it has made progress and holds a
            # lease (each batch then runs for ~0.8 s, 40 events at 20 ms).
            return effects.count(db_url) >= t and leases_held_by(db_url, pid) > 0

        until_sync(mid_batch, what="progress, then a lease held, before the kill")
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        assert leases_held_by(db_url, worker.pid) > 0, "the worker died holding no batch"
    survivor = start_worker(db_url, "survivor", *args)
    try:
        until_sync(lambda: effects.count(db_url) >= count, timeout=120, what="all effects")
    finally:
        stop(survivor)
    workers = assert_exactly_once_in_order(db_url, count)
    assert any(w.startswith("survivor") for w in workers)
    assert any(w.startswith("victim") for w in workers)


@pytest.mark.slow
def test_three_workers_on_postgresql_share_10000_events(pg_url: str) -> None:
    count = 10_000
    effects.create(pg_url)
    workers = [start_worker(pg_url, f"w{i}", "--batch", "100") for i in range(3)]
    try:
        asyncio.run(append_work(pg_url, count, subjects=500))
        until_sync(lambda: effects.count(pg_url) >= count, timeout=180, what="all effects")
    finally:
        for worker in workers:
            stop(worker)
    names = {w.split(":")[0] for w in assert_exactly_once_in_order(pg_url, count)}
    assert names == {"w0", "w1", "w2"}, f"only {names} did work"
