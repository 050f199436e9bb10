"""Client credentials instead of an access token: the connector obtains a token with Shopify's
client credentials grant (from the sandbox, a real HTTP server), keeps it until shortly before
it expires, obtains a new one when the shop refuses it (401), and never shows the secret."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest

from crossdock.config import validate_config
from crossdock.connectors.shopify import queries as q
from crossdock.connectors.shopify.client import ShopifyClient
from crossdock.connectors.shopify.errors import ShopifyError
from crossdock.connectors.shopify.settings import ShopifySettings
from crossdock.connectors.shopify.token import AccessToken
from crossdock.sandbox.shopify.app import ShopSandboxSettings
from crossdock.sandbox.shopify.server import ShopifySandboxServer

CLIENT_ID = "4f1a0c2e9b8d7a6f5e4d3c2b1a0f9e8d"
CLIENT_SECRET = "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"


def app_settings(url: str, secret: str = CLIENT_SECRET) -> ShopifySettings:
    return ShopifySettings(
        name="shop",
        url=url,
        shop_domain="crossdock-sandbox.myshopify.com",
        access_token=None,
        client_id=CLIENT_ID,
        client_secret=secret,
        webhook_secret="s",
        locations={"gid://shopify/Location/1": "WH1"},
        retry_attempts=2,
    )


@pytest.fixture
def app_shop() -> Iterator[ShopifySandboxServer]:
    simulated = ShopSandboxSettings(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, restore_rate=1000.0
    )
    with ShopifySandboxServer(simulated) as server:
        yield server


async def test_a_token_is_obtained_once_and_used_until_refused(
    app_shop: ShopifySandboxServer,
) -> None:
    client = ShopifyClient(app_settings(app_shop.url))
    try:
        for _ in range(3):
            data = await client.execute("Locations", q.LOCATIONS, estimate=52)
            assert data["locations"]["nodes"]
        assert app_shop.sandbox.grants == 1 and client.token.obtained == 1
        app_shop.sandbox.expire_tokens()  # revoked, or its life ended early
        data = await client.execute("Locations", q.LOCATIONS, estimate=52)
    finally:
        await client.aclose()
    assert data["locations"]["nodes"]
    assert app_shop.sandbox.grants == 2
    assert client.calls == 5  # the refused request once more, with the new token


async def test_refused_credentials_are_a_business_error_that_hides_the_secret(
    app_shop: ShopifySandboxServer,
) -> None:
    wrong = "shpss_not_the_secret_000000000000"
    client = ShopifyClient(app_settings(app_shop.url, secret=wrong))
    try:
        with pytest.raises(ShopifyError) as raised:
            await client.execute("Locations", q.LOCATIONS)
    finally:
        await client.aclose()
    assert raised.value.code == "AUTH" and "invalid_client" in str(raised.value)
    assert wrong not in str(raised.value) and wrong not in repr(client.settings)
    assert app_shop.sandbox.grants == 0


async def test_a_token_is_renewed_before_it_expires(app_shop: ShopifySandboxServer) -> None:
    now = [1000.0]
    async with httpx.AsyncClient() as http:
        token = AccessToken(app_settings(app_shop.url), http, clock=lambda: now[0])
        first = await token.get()
        now[0] += 3600
        assert await token.get() == first
        now[0] += 86399 - 3600 - 299  # inside the last five minutes of its life
        second = await token.get()
    assert second != first and token.obtained == 2


async def test_a_configured_token_is_used_as_it_is(app_shop: ShopifySandboxServer) -> None:
    settings = replace(
        app_settings(app_shop.url), access_token="shpat_sandbox_token", client_id=None
    )
    client = ShopifyClient(settings)
    try:
        await client.execute("Locations", q.LOCATIONS, estimate=52)
    finally:
        await client.aclose()
    assert app_shop.sandbox.grants == 0


def test_a_shop_needs_a_token_or_client_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_ID", CLIENT_ID)
    monkeypatch.setenv("T_SECRET", CLIENT_SECRET)

    def system(credentials: dict[str, str]) -> object:
        cfg = validate_config(
            {
                "database": {"url": "sqlite:///unused.db"},
                "systems": {
                    "odoo": {"kind": "odoo", "url": "http://127.0.0.1:9", "username": "admin"},
                    "shop": {
                        "kind": "shopify",
                        "url": "https://acme.myshopify.com",
                        "credentials": credentials,
                        "webhook_secret": "${T_SECRET}",
                        "options": {"locations": {"1": "WH1"}},
                    },
                },
            }
        )
        return cfg.systems["shop"]

    made = ShopifySettings.from_system(
        "shop",
        system({"client_id": "${T_ID}", "client_secret": "${T_SECRET}"}),  # type: ignore[arg-type]
    )
    assert made.access_token is None and made.client_id == CLIENT_ID
    assert CLIENT_SECRET not in repr(made)
    with pytest.raises(ValueError, match="client_id and client_secret"):
        ShopifySettings.from_system("shop", system({"client_id": "${T_ID}"}))  # type: ignore[arg-type]
