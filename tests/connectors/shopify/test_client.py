"""The GraphQL client paces to the shop's cost bucket from the answers themselves, backs off on
THROTTLED as the answer says, and treats a shop that is down as unavailable (on the sandbox, a
real HTTP server, and on a scripted transport)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from crossdock.connectors.shopify import queries as q
from crossdock.connectors.shopify.client import ShopifyClient
from crossdock.connectors.shopify.errors import ShopifyError
from crossdock.connectors.shopify.settings import ShopifySettings
from crossdock.errors import Unavailable
from crossdock.sandbox.shopify.app import ShopSandboxSettings
from crossdock.sandbox.shopify.server import ShopifySandboxServer


def settings(url: str, token: str = "shpat_sandbox_token") -> ShopifySettings:
    return ShopifySettings(
        name="shop",
        url=url,
        shop_domain="crossdock-sandbox.myshopify.com",
        access_token=token,
        webhook_secret="s",
        locations={"gid://shopify/Location/1": "WH1"},
        retry_attempts=3,
    )


@pytest.fixture
def small_shop() -> Iterator[ShopifySandboxServer]:
    """A shop whose bucket holds two Locations queries (52 points each)."""
    with ShopifySandboxServer(ShopSandboxSettings(bucket_max=110, restore_rate=500)) as server:
        yield server


async def test_paced_queries_are_never_throttled(small_shop: ShopifySandboxServer) -> None:
    client = ShopifyClient(settings(small_shop.url))
    try:
        for _ in range(12):
            data = await client.execute("Locations", q.LOCATIONS, estimate=52)
            assert data["locations"]["nodes"][0]["id"] == "gid://shopify/Location/1"
    finally:
        await client.aclose()
    assert client.throttled == 0 and small_shop.sandbox.api.bucket.throttled == 0
    assert client.bucket.costs["Locations"] == 52  # learnt from the answers


async def test_throttled_by_another_app_waits_as_the_answer_says(
    small_shop: ShopifySandboxServer,
) -> None:
    client = ShopifyClient(settings(small_shop.url))
    try:
        await client.execute("Locations", q.LOCATIONS, estimate=52)
        bucket = small_shop.sandbox.api.bucket
        # Another app spent the bucket and keeps it empty for two seconds: the next query is
        # throttled however long this test waits to send it on a loaded machine.
        bucket.available, bucket.at = 0, bucket.clock() + 2.0
        data = await client.execute("Locations", q.LOCATIONS, estimate=52)
    finally:
        await client.aclose()
    assert data["locations"]["nodes"]
    assert client.throttled == 1 and small_shop.sandbox.api.bucket.throttled == 1


async def test_a_query_above_the_single_query_limit_is_a_business_error(
    small_shop: ShopifySandboxServer,
) -> None:
    client = ShopifyClient(settings(small_shop.url))
    try:
        with pytest.raises(ShopifyError) as raised:
            await client.execute(
                "InventoryItems", q.INVENTORY_ITEMS, {"query": "sku:A", "first": 50}
            )
    finally:
        await client.aclose()
    assert raised.value.code == "MAX_COST_EXCEEDED"


async def test_wrong_token_is_refused_not_retried(small_shop: ShopifySandboxServer) -> None:
    client = ShopifyClient(settings(small_shop.url, token="wrong"))
    try:
        with pytest.raises(ShopifyError, match="401"):
            await client.execute("Locations", q.LOCATIONS)
    finally:
        await client.aclose()
    assert client.calls == 1


async def _no_wait(_: float) -> None:
    return None


async def test_a_shop_that_is_down_is_unavailable_after_the_retries(
    small_shop: ShopifySandboxServer,
) -> None:
    small_shop.sandbox.down = True
    client = ShopifyClient(settings(small_shop.url), sleep=_no_wait)
    try:
        with pytest.raises(Unavailable):
            await client.execute("Locations", q.LOCATIONS)
    finally:
        await client.aclose()
    assert client.calls == 3


async def test_a_transient_failure_is_retried() -> None:
    answers: list[Any] = [
        httpx.Response(502),
        httpx.Response(
            200,
            json={
                "data": {"locations": {"nodes": []}},
                "extensions": {
                    "cost": {
                        "requestedQueryCost": 52,
                        "actualQueryCost": 2,
                        "throttleStatus": {
                            "maximumAvailable": 2000.0,
                            "currentlyAvailable": 1998,
                            "restoreRate": 100.0,
                        },
                    }
                },
            },
        ),
    ]
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer: httpx.Response = answers.pop(0)
        return answer

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = ShopifyClient(settings("https://x.myshopify.com"), http=http, sleep=_no_wait)
    data = await client.execute("Locations", q.LOCATIONS)
    await http.aclose()
    assert data == {"locations": {"nodes": []}}
    assert len(seen) == 2
    assert seen[0].url.path == "/admin/api/2025-01/graphql.json"
    assert seen[0].headers["X-Shopify-Access-Token"] == "shpat_sandbox_token"
    assert client.bucket.maximum == 2000.0 and client.bucket.spent == 2
