"""What the HTTP benches share: a minimal keep-alive HTTP/1.1 client and `crossdock` commands run
in their own processes, ready once their port answers.

The client is a few lines on asyncio streams: on a 2-core machine a full client library spends
more CPU per request than the server under test, and would measure itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from crossdock.sandbox.odoo.server import free_port

__all__ = ["Connection", "crossdock_process", "free_port", "listeners"]


class Connection:
    """One keep-alive HTTP/1.1 connection with a bearer token."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port, self.token = host, port, token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: bytes, media: str = "application/json"
    ) -> tuple[int, bytes]:
        """Send one request; the status and the body of the answer."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Authorization: Bearer {self.token}\r\nContent-Type: {media}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        payload = await self.reader.readexactly(length)
        return int(status_line.split()[1]), payload

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


def listeners(port: int) -> int:
    """How many sockets listen on TCP `port` on this machine (Linux: /proc/net/tcp*), e.g. the
    processes of `serve --processes N` once each has started."""
    found = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            for line in list(lines)[1:]:
                local, state = line.split()[1], line.split()[3]
                found += state == "0A" and int(local.rsplit(":", 1)[1], 16) == port
    return found


@contextmanager
def crossdock_process(
    args: list[str],
    port: int,
    env: dict[str, str] | None,
    log: Path | None = None,
    *,
    sockets: int = 1,
) -> Iterator[None]:
    """`crossdock <args>` in its own process until the block ends; ready once `sockets` sockets
    listen on `port` (one per API process; uvicorn listens once the application has started).
    Its output goes to `log`, whose tail is shown when it does not start."""
    out = log.open("wb") if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, "-m", "crossdock", *args], stdout=out, stderr=subprocess.STDOUT, env=env
    )
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if listeners(port) >= sockets:
                break
            time.sleep(0.05)
        else:
            tail = log.read_text(errors="replace")[-2000:] if log is not None else ""
            raise RuntimeError(f"crossdock {args[0]} did not start (exit {proc.poll()})\n{tail}")
        yield
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        if log is not None and not isinstance(out, int):
            out.close()
