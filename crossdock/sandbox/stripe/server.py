"""Serve the Stripe sandbox on a real HTTP port (uvicorn in a background thread), with its
webhook sender running beside it."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from crossdock.sandbox.stripe.account import StripeAccount
from crossdock.sandbox.stripe.app import StripeSandbox, StripeSandboxSettings, create_app
from crossdock.sandbox.stripe.webhooks import StripeWebhooks

__all__ = ["StripeSandboxServer"]


class StripeSandboxServer:
    """A simulated Stripe account on ``127.0.0.1:<port>`` (0: a free port) until :meth:`stop`."""

    def __init__(self, settings: StripeSandboxSettings | None = None, *, port: int = 0) -> None:
        self.settings = settings or StripeSandboxSettings()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind(("127.0.0.1", port))
        except OSError:
            self._socket.bind(("127.0.0.1", 0))  # taken: a free one (the URL says which)
        self.port = int(self._socket.getsockname()[1])
        self.app = create_app(self.settings)
        self.sandbox: StripeSandbox = self.app.state.sandbox
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name="stripe-sandbox",
            daemon=True,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def account(self) -> StripeAccount:
        return self.sandbox.account

    @property
    def webhooks(self) -> StripeWebhooks:
        return self.sandbox.webhooks

    def start(self, timeout_s: float = 10.0) -> StripeSandboxServer:
        self.sandbox.webhooks.start()
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the Stripe sandbox did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
        self.sandbox.webhooks.stop()

    def __enter__(self) -> StripeSandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
