"""Waking idle workers: at once inside a process, by LISTEN/NOTIFY across PostgreSQL nodes, and
by polling as the fallback (SQLite across processes, or a lost notification)."""

from __future__ import annotations

import asyncio
import contextlib

import psycopg
import structlog

log = structlog.get_logger(__name__)


class Notifier:
    """Workers take a token before looking for work, then wait on it: a notification that arrives
    between the look and the wait is never missed."""

    def __init__(self) -> None:
        self._current = asyncio.Event()

    def token(self) -> asyncio.Event:
        return self._current

    def notify(self) -> None:
        current, self._current = self._current, asyncio.Event()
        current.set()

    async def wait(self, token: asyncio.Event, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(token.wait(), timeout)


async def listen_postgres(conninfo: str, channel: str, notifier: Notifier) -> None:
    """Forward PostgreSQL notifications on `channel` to `notifier`, reconnecting on failure."""
    delay = 0.5
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                await conn.execute(f"LISTEN {channel}")
                delay = 0.5
                notifier.notify()  # anything appended while we were not listening
                async for _ in conn.notifies():
                    notifier.notify()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("engine.listen_failed", error=repr(exc), retry_in_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
