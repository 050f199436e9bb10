"""Processes sharing a SQLite file wake each other's workers when they commit events (what
LISTEN/NOTIFY does on PostgreSQL), instead of leaving them until their next poll."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from crossdock.engine.wakeup import LocalWakeups, Notifier
from crossdock.migrations import upgrade
from tests.engine import effects
from tests.engine.test_crash import append_work, start_worker, stop
from tests.support.waiting import until, until_sync


async def test_a_commit_wakes_the_listener_of_another_wakeups(tmp_path: Path) -> None:
    database = tmp_path / "hub.db"
    listening, committing = LocalWakeups(database), LocalWakeups(database)
    notifier = Notifier()
    token = notifier.token()
    listening.listen(notifier)
    try:
        committing.wake_others()
        await until(lambda: asyncio.sleep(0, token.is_set()), what="the wake-up")
    finally:
        listening.close()
        committing.close()


def test_the_socket_of_a_gone_process_is_removed(tmp_path: Path) -> None:
    wakeups = LocalWakeups(tmp_path / "hub.db")
    wakeups.directory.mkdir(mode=0o700, exist_ok=True)
    gone = wakeups.directory / "1-dead.sock"
    left = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    left.bind(str(gone))
    left.close()  # its file stays, as after kill -9
    try:
        wakeups.wake_others()
        assert not gone.exists()
    finally:
        wakeups.close()


def test_a_worker_process_polling_every_ten_minutes_handles_events_at_once(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    upgrade(url)
    effects.create(url)
    worker = start_worker(url, "woken", "--poll", "600")
    try:
        for round_ in range(1, 4):
            asyncio.run(append_work(url, 20, 5))
            until_sync(
                lambda n=20 * round_: effects.count(url) == n,
                timeout=60,
                what=f"round {round_} handled without waiting for the poll",
            )
    finally:
        stop(worker)
