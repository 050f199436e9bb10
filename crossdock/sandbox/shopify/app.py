"""The sandbox's HTTP face: ``POST /admin/api/<version>/graphql.json`` authenticated by
``X-Shopify-Access-Token``, and ``POST /admin/oauth/access_token``, the client credentials grant
(form-encoded or JSON ``grant_type=client_credentials``, ``client_id``, ``client_secret``; answers
``access_token``, ``scope`` and ``expires_in``, as Shopify documents it); with fault injection
(``down``: 503 for every request; :meth:`ShopifySandbox.expire_tokens` ends the obtained tokens'
lives early, as a revocation or their expiry would)."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

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
    client_id: str | None = None
    """With ``client_secret``: the app's client credentials, which obtain tokens."""
    client_secret: str | None = field(default=None, repr=False)
    token_lifetime_s: int = 86399
    scope: str = "read_orders,write_orders,read_inventory,write_inventory,write_fulfillments"


@dataclass
class ShopifySandbox:
    settings: ShopSandboxSettings
    shop: Shop
    api: GraphqlApi
    webhooks: WebhookSender
    down: bool = False
    refused: int = 0
    """Requests answered 503 while down."""
    issued: dict[str, float] = field(default_factory=dict)
    """Obtained access tokens and when each expires (monotonic time)."""
    grants: int = 0
    """Client credentials grants answered with a token."""

    def accepts(self, token: str | None) -> bool:
        if token is None:
            return False
        if token == self.settings.token:
            return True
        expires = self.issued.get(token)
        return expires is not None and time.monotonic() < expires

    def expire_tokens(self) -> None:
        self.issued.clear()


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
        if not sandbox.accepts(request.headers.get("X-Shopify-Access-Token")):
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

    async def access_token(request: Request) -> JSONResponse:
        if sandbox.down:
            sandbox.refused += 1
            return JSONResponse({"errors": "Service Unavailable"}, status_code=503)
        raw = (await request.body()).decode("utf-8", "replace")
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                loaded = json.loads(raw)
            except ValueError:
                loaded = None
            form = {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}
        else:
            form = dict(parse_qsl(raw))
        if form.get("grant_type") != "client_credentials":
            return JSONResponse(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "grant_type must be client_credentials",
                },
                status_code=400,
            )
        if (
            settings.client_id is None
            or settings.client_secret is None
            or form.get("client_id") != settings.client_id
            or not secrets.compare_digest(form.get("client_secret", ""), settings.client_secret)
        ):
            return JSONResponse(
                {
                    "error": "invalid_client",
                    "error_description": "Client authentication failed",
                },
                status_code=401,
            )
        token = "shpat_" + secrets.token_hex(16)
        sandbox.issued[token] = time.monotonic() + settings.token_lifetime_s
        sandbox.grants += 1
        return JSONResponse(
            {
                "access_token": token,
                "scope": settings.scope,
                "expires_in": settings.token_lifetime_s,
            }
        )

    app = Starlette(
        routes=[
            Route("/admin/api/{version}/graphql.json", graphql, methods=["POST"]),
            Route("/admin/oauth/access_token", access_token, methods=["POST"]),
        ]
    )
    app.state.sandbox = sandbox
    return app
