"""Waking idle workers: at once inside a process, by LISTEN/NOTIFY across PostgreSQL nodes, by
datagrams between the processes of one machine sharing a SQLite file (`LocalWakeups`), and by
polling as the fallback (a lost notification, SQLite shared over a network file system)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
import socket
import tempfile
import time
from pathlib import Path

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


PEERS_RESCAN_S = 1.0


class LocalWakeups:
    """NOTIFY for SQLite: each process running workers on the file binds a Unix datagram socket in
    a directory named after the file (under the temporary directory: socket paths are short); a
    process that commits new events sends one byte to every other socket there. A datagram that
    is lost or finds its receiver's queue full costs at most the poll interval; a socket whose
    process died refuses, and its file is removed."""

    def __init__(self, database: Path) -> None:
        digest = hashlib.sha256(str(database.resolve()).encode()).hexdigest()[:16]
        self.directory = Path(tempfile.gettempdir()) / f"crossdock-wake-{digest}"
        self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sender.setblocking(False)
        self._listener: socket.socket | None = None
        self._own: str | None = None
        self._peers: list[str] = []
        self._scanned = -PEERS_RESCAN_S

    def _usable_directory(self) -> bool:
        with contextlib.suppress(FileExistsError):
            self.directory.mkdir(mode=0o700)
        info = self.directory.stat()
        if info.st_uid != os.getuid() or info.st_mode & 0o077:
            log.warning(
                "engine.wakeups_off", reason="directory not private", path=str(self.directory)
            )
            return False
        return True

    def listen(self, notifier: Notifier) -> None:
        """Wake `notifier` whenever another process commits events (from the running loop)."""
        if not self._usable_directory():
            return
        path = str(self.directory / f"{os.getpid()}-{secrets.token_hex(4)}.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        listener.setblocking(False)
        listener.bind(path)
        self._listener, self._own = listener, path

        def drain() -> None:
            with contextlib.suppress(BlockingIOError):
                while listener.recv(64):
                    pass
            notifier.notify()

        asyncio.get_running_loop().add_reader(listener.fileno(), drain)

    def wake_others(self) -> None:
        """Tell the other processes' workers that events were committed."""
        now = time.monotonic()
        if now - self._scanned >= PEERS_RESCAN_S:
            self._scanned = now
            with contextlib.suppress(OSError):
                self._peers = [str(p) for p in self.directory.glob("*.sock") if str(p) != self._own]
        for peer in list(self._peers):
            try:
                self._sender.sendto(b"!", peer)
            except BlockingIOError:
                pass  # its queue is full: it has wake-ups waiting already
            except (ConnectionRefusedError, FileNotFoundError):
                self._peers.remove(peer)  # its process is gone
                with contextlib.suppress(OSError):
                    os.unlink(peer)
            except OSError as exc:
                log.debug("engine.wakeup_failed", peer=peer, error=repr(exc))

    def close(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self._listener.fileno())
            self._listener.close()
            self._listener = None
        if self._own is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._own)
            with contextlib.suppress(OSError):
                self.directory.rmdir()  # when no other process listens any more
        self._sender.close()
