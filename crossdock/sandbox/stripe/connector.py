"""The sandboxed variant of the ``stripe`` kind: a simulated Stripe account served in-process on
the system's URL, sending its events to the hub's gateway endpoint. Registered with
:mod:`crossdock.connectors.registry` when imported (through the ``crossdock.sandboxes`` entry
point), so production code never imports the sandbox.

.. code-block:: yaml

    systems:
      stripe:
        kind: stripe
        url: http://127.0.0.1:8072
        sandbox: true
        credentials: {api_key: ${STRIPE_API_KEY}}    # the key the simulated checkout uses
        options:
          gateway: stripe          # payments.gateways.<name>: its first secret signs the events
          sandbox_webhooks_to: http://127.0.0.1:8000/v1/payments/gateways/stripe

The connected port is the simulator's server (``account``, ``webhooks``): the hub receives
Stripe's events and calls nothing of Stripe; the demo and the tests play the shop's checkout
through the simulator's REST API.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import structlog

from crossdock.connectors.registry import Connected, Request, UnknownKindError, register
from crossdock.sandbox.stripe.app import StripeSandboxSettings
from crossdock.sandbox.stripe.server import StripeSandboxServer

__all__ = ["connect_sandboxed_stripe"]

log = structlog.get_logger(__name__)


def connect_sandboxed_stripe(request: Request) -> Connected:
    name, system = request.name, request.system
    options = system.options
    gateway_name = str(options.get("gateway", name))
    gateway = request.config.payments.gateways.get(gateway_name)
    if gateway is None or gateway.kind != "stripe":
        raise UnknownKindError(
            f"systems.{name}: options.gateway names no stripe gateway in payments.gateways"
            f" ({gateway_name!r})"
        )
    key = system.credentials.get("api_key")
    settings = StripeSandboxSettings(
        api_key=key.resolve() if key is not None else StripeSandboxSettings.api_key,
        webhook_url=options.get("sandbox_webhooks_to"),
        webhook_secret=gateway.secrets[0].resolve(),
        attempts=int(options.get("sandbox_attempts", StripeSandboxSettings.attempts)),
        retry_base_s=float(options.get("sandbox_retry_base_s", StripeSandboxSettings.retry_base_s)),
    )
    server = StripeSandboxServer(settings, port=urlsplit(system.url).port or 0)
    connected = Connected(name, server, server=server)
    if request.serve_sandbox:
        server.start()
        log.info("stripe.sandbox_serving", system=name, url=server.url)

        async def stop_server() -> None:
            server.stop()

        connected.closers.append(stop_server)
    return connected


register("stripe", connect_sandboxed_stripe, sandboxed=True)
