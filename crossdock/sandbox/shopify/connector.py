"""The sandboxed variant of the ``shopify`` kind: serves a simulated shop in-process on the
system's URL and connects the Shopify connector to it. Registered with
:mod:`crossdock.connectors.registry` when imported (through the ``crossdock.sandboxes`` entry
point), so production code never imports the sandbox.

Options read here besides the connector's: ``sandbox_webhooks_to`` (the URL the simulated shop
sends its webhooks to, normally the hub's ``/v1/channels/shopify/<name>/webhooks``),
``sandbox_bucket_max`` and ``sandbox_restore_rate`` (the cost bucket)."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

import structlog

from crossdock.connectors.registry import Connected, Request, register
from crossdock.connectors.shopify.client import ShopifyClient
from crossdock.connectors.shopify.operations import ShopifyOperations
from crossdock.connectors.shopify.settings import ShopifySettings
from crossdock.sandbox.shopify.app import ShopSandboxSettings
from crossdock.sandbox.shopify.server import ShopifySandboxServer

__all__ = ["connect_sandboxed_shopify"]

log = structlog.get_logger(__name__)


def connect_sandboxed_shopify(request: Request) -> Connected:
    name, system = request.name, request.system
    settings = ShopifySettings.from_system(name, system)
    options = system.options
    simulated = ShopSandboxSettings(
        token=settings.access_token or ShopSandboxSettings.token,
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        webhook_secret=settings.webhook_secret,
        domain=settings.shop_domain,
        api_version=settings.api_version,
        bucket_max=float(options.get("sandbox_bucket_max", 2000.0)),
        restore_rate=float(options.get("sandbox_restore_rate", 100.0)),
        webhooks_to=options.get("sandbox_webhooks_to"),
        locations={gid: f"Warehouse {code}" for gid, code in settings.locations.items()},
    )
    server = None
    if request.serve_sandbox:
        server = ShopifySandboxServer(simulated, port=urlsplit(system.url).port or 0).start()
        log.info("shopify.sandbox_serving", system=name, url=server.url)
    if server is not None:
        settings = replace(settings, url=server.url)
    operations = ShopifyOperations(ShopifyClient(settings, observer=request.observer))
    connected = Connected(name, operations, server=server, closers=[])
    if server is not None:
        stop = server.stop

        async def stop_server() -> None:
            stop()

        connected.closers.append(stop_server)
    connected.closers.append(operations.aclose)
    return connected


register("shopify", connect_sandboxed_shopify, sandboxed=True)
