"""The sandbox's HTTP face: ``POST /admin/api/<version>/graphql.json`` authenticated by
``X-Shopify-Access-Token``, with fault injection (``down``: 503 for every request)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from crossdock.sandbox.shopify.graphql_api import Bucket, GraphqlApi
from crossdock.sandbox.shopify.shop import Shop
from crossdock.sandbox.shopify.webhooks import WebhookSender

__all__ = ["ShopSandboxSettings", "ShopifySandbox", "create_app"]


@dataclass(frozen=True)
class ShopSandboxSettings:
    token: str = "shpat_sandbox_token"
    webhook_secret: str = "shpss_sandbox_secret"
    domain: str = "crossdock-sandbox.myshopify.com"
    api_version: str = "2025-01"
    currency: str = "EUR"
    bucket_max: float = 2000.0
    """Shopify's standard plan: a 2,000-point bucket restored at 100 points a second."""
    restore_rate: float = 100.0
    webhooks_to: str | None = None
    locations: dict[str, str] = field(
        default_factory=lambda: {"gid://shopify/Location/1": "Main warehouse"}
    )


@dataclass
class ShopifySandbox:
    settings: ShopSandboxSettings
    shop: Shop
    api: GraphqlApi
    webhooks: WebhookSender
    down: bool = False
    refused: int = 0
    """Requests answered 503 while down."""


def create_app(settings: ShopSandboxSettings) -> Starlette:
    shop = Shop(
        domain=settings.domain, currency=settings.currency, locations=dict(settings.locations)
    )
    api = GraphqlApi(shop, Bucket(settings.bucket_max, settings.restore_rate))
    sender = WebhookSender(
        settings.webhook_secret, settings.domain, settings.api_version, settings.webhooks_to
    )
    sandbox = ShopifySandbox(settings, shop, api, sender)

    async def graphql(request: Request) -> JSONResponse:
        if sandbox.down:
            sandbox.refused += 1
            return JSONResponse({"errors": "Service Unavailable"}, status_code=503)
        if request.headers.get("X-Shopify-Access-Token") != settings.token:
            return JSONResponse(
                {
                    "errors": "[API] Invalid API key or access token (unrecognized login or "
                    "wrong password)"
                },
                status_code=401,
            )
        if request.path_params["version"] != settings.api_version:
            return JSONResponse({"errors": "Not Found"}, status_code=404)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"errors": "Bad Request: the body is not JSON"}, status_code=400)
        if not isinstance(body, dict):
            return JSONResponse({"errors": "Bad Request"}, status_code=400)
        return JSONResponse(api.answer(body))

    app = Starlette(routes=[Route("/admin/api/{version}/graphql.json", graphql, methods=["POST"])])
    app.state.sandbox = sandbox
    return app
