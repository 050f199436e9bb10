"""Serve a sandbox on a real HTTP port (uvicorn in a background thread), for tests and benches.

>>> with SandboxServer(SandboxSettings(latency_call_s=0)) as server:   # doctest: +SKIP
...     server.url   # http://127.0.0.1:<free port>
"""

from __future__ import annotations

from crossdock.sandbox.odoo.app import OdooSandbox, SandboxSettings, create_app
from crossdock.sandbox.serving import PRIVATE_LOW, ThreadedServer, free_port

__all__ = ["PRIVATE_LOW", "SandboxServer", "free_port"]


class SandboxServer(ThreadedServer):
    """The Odoo sandbox listening on ``127.0.0.1:<port>`` until :meth:`stop`."""

    def __init__(
        self, settings: SandboxSettings | None = None, *, port: int = 0, fallback: bool = False
    ) -> None:
        """Listens on `port`, or on a free port when `port` is 0 or, with `fallback`, taken."""
        self.settings = settings or SandboxSettings()
        self.app = create_app(self.settings)
        self.sandbox: OdooSandbox = self.app.state.sandbox
        super().__init__(self.app, port=port, fallback=fallback, name="Odoo sandbox")

    def stop(self) -> None:
        super().stop()
        self.sandbox.store.close()
