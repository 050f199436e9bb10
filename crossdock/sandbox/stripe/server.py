"""Serve the Stripe sandbox on a real HTTP port (the sandboxes' threaded server), with its
webhook sender running beside it."""

from __future__ import annotations

from typing import Self

from crossdock.sandbox.serving import ThreadedServer
from crossdock.sandbox.stripe.account import StripeAccount
from crossdock.sandbox.stripe.app import StripeSandbox, StripeSandboxSettings, create_app
from crossdock.sandbox.stripe.webhooks import StripeWebhooks

__all__ = ["StripeSandboxServer"]


class StripeSandboxServer(ThreadedServer):
    """A simulated Stripe account on ``127.0.0.1:<port>`` (0, or taken: a free port) until
    :meth:`stop`."""

    def __init__(self, settings: StripeSandboxSettings | None = None, *, port: int = 0) -> None:
        self.settings = settings or StripeSandboxSettings()
        self.app = create_app(self.settings)
        self.sandbox: StripeSandbox = self.app.state.sandbox
        super().__init__(self.app, port=port, fallback=True, name="Stripe sandbox")

    @property
    def account(self) -> StripeAccount:
        return self.sandbox.account

    @property
    def webhooks(self) -> StripeWebhooks:
        return self.sandbox.webhooks

    def start(self, timeout_s: float = 10.0) -> Self:
        self.sandbox.webhooks.start()
        return super().start(timeout_s)

    def stop(self) -> None:
        super().stop()
        self.sandbox.webhooks.stop()
