"""Serve a sandbox on a real HTTP port (uvicorn in a background thread), for tests and benches.

>>> with SandboxServer(SandboxSettings(latency_call_s=0)) as server:   # doctest: +SKIP
...     server.url   # http://127.0.0.1:<free port>
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from crossdock.sandbox.odoo.app import OdooSandbox, SandboxSettings, create_app

__all__ = ["SandboxServer", "free_port"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SandboxServer:
    """A sandbox listening on ``127.0.0.1:<port>`` until :meth:`stop`."""

    def __init__(self, settings: SandboxSettings | None = None, *, port: int = 0) -> None:
        self.settings = settings or SandboxSettings()
        self.port = port or free_port()
        self.app = create_app(self.settings)
        self.sandbox: OdooSandbox = self.app.state.sandbox
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="odoo-sandbox", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 10.0) -> SandboxServer:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the Odoo sandbox did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self.sandbox.store.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
