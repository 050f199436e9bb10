"""Serve the Shopify sandbox on a real HTTP port (uvicorn in a background thread)."""

from __future__ import annotations

from typing import Any

from crossdock.sandbox.serving import ThreadedServer
from crossdock.sandbox.shopify.app import ShopifySandbox, ShopSandboxSettings, create_app

__all__ = ["ShopifySandboxServer"]


class ShopifySandboxServer(ThreadedServer):
    """A simulated shop on ``127.0.0.1:<port>`` (0, or taken: a free port) until :meth:`stop`."""

    def __init__(self, settings: ShopSandboxSettings | None = None, *, port: int = 0) -> None:
        self.settings = settings or ShopSandboxSettings()
        self.app = create_app(self.settings)
        self.sandbox: ShopifySandbox = self.app.state.sandbox
        super().__init__(self.app, port=port, fallback=True, name="Shopify sandbox")

    @property
    def shop(self) -> Any:
        return self.sandbox.shop
