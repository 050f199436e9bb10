"""Serve a sandbox's ASGI app on a real HTTP port of 127.0.0.1 (uvicorn in a background thread),
for tests, benches and the demo: one server for every simulated system.

>>> with ThreadedServer(app, name="shop-sandbox") as server:   # doctest: +SKIP
...     server.url   # http://127.0.0.1:<free port>
"""

from __future__ import annotations

import random
import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import uvicorn

__all__ = ["ThreadedServer", "free_port"]

PRIVATE_LOW = 10_000
"""Below this, well-known and registered ports that servers of the machine may use."""


def free_port() -> int:
    """A port free on 127.0.0.1 now, for a server about to start (tests, benches). Picked at
    random below the kernel's ephemeral range when there is room: there, no outgoing connection
    (a test suite or a bench running beside makes thousands) takes it before the server binds."""
    low = _ephemeral_low()
    for port in random.sample(range(PRIVATE_LOW, low), 50) if low - PRIVATE_LOW >= 50 else []:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return PRIVATE_LOW  # unknown: the kernel chooses


def _bind(port: int, fallback: bool) -> socket.socket:
    """A socket bound to 127.0.0.1:`port` (0: a free port; taken with `fallback`: a free one)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds its own
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        if not (port and fallback):
            raise
        return _bind(0, fallback=False)
    return sock


class ThreadedServer:
    """An ASGI app listening on ``127.0.0.1:<port>`` until :meth:`stop`."""

    def __init__(self, app: Any, *, port: int = 0, fallback: bool = False, name: str) -> None:
        """Listens on `port`, or on a free port when `port` is 0 or, with `fallback`, taken. The
        socket is bound here and handed to uvicorn, so the port is never lost to another process
        between being chosen and being listened on."""
        self.name = name
        self._socket = _bind(port, fallback)
        self.port = int(self._socket.getsockname()[1])
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name=name, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 10.0) -> Self:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the {self.name} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
