"""Fixtures of the Shopify contract suite (:class:`ShopifyContract`, on
:mod:`tests.contract.base`): every test runs against the sandbox shop (a real HTTP server on
127.0.0.1) and, when ``CROSSDOCK_SHOPIFY_URL``, ``CROSSDOCK_SHOPIFY_TOKEN`` and
``CROSSDOCK_SHOPIFY_LOCATION`` are set, against that real development shop too (skipped
otherwise). Tests that need data placed in the shop (orders, stock) place it through the
simulator; on a real shop they are skipped, naming why."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest

import crossdock.sandbox.shopify.connector  # noqa: F401 - registers the sandboxed kind
from crossdock.connectors.shopify.client import ShopifyClient
from crossdock.connectors.shopify.operations import ShopifyOperations
from crossdock.connectors.shopify.port import ShopPort
from crossdock.connectors.shopify.settings import ShopifySettings
from crossdock.sandbox.shopify.app import ShopSandboxSettings
from crossdock.sandbox.shopify.server import ShopifySandboxServer
from crossdock.sandbox.shopify.shop import Shop
from tests.contract.base import Contract, Env

LOCATION = "gid://shopify/Location/1"
SECOND = "gid://shopify/Location/2"


async def _no_wait(_: float) -> None:
    return None


@dataclass(frozen=True)
class ShopifyTarget:
    kind: str
    settings: ShopifySettings
    server: ShopifySandboxServer | None = None

    def operations(self) -> ShopifyOperations:
        return ShopifyOperations(ShopifyClient(self.settings))

    @property
    def shop(self) -> Shop:
        """The simulated shop's state (to place orders, change stock as Shopify would)."""
        if self.server is None:
            pytest.skip("needs data placed in the shop: runs on the sandbox only")
        shop: Shop = self.server.shop
        return shop


SHOPIFY_ENV = Env(
    required=("CROSSDOCK_SHOPIFY_URL", "CROSSDOCK_SHOPIFY_TOKEN", "CROSSDOCK_SHOPIFY_LOCATION")
)


def _settings(url: str, token: str, locations: dict[str, str], **more: Any) -> ShopifySettings:
    return ShopifySettings(
        name="shopify",
        url=url,
        shop_domain=url.split("://", 1)[-1],
        access_token=token,
        webhook_secret="unused-here",
        locations=locations,
        **more,
    )


class ShopifyContract(Contract[ShopifyTarget]):
    kind = "shopify"
    ports: ClassVar[Mapping[str, type]] = {"shop": ShopPort}
    env = SHOPIFY_ENV

    @contextmanager
    def sandbox(self, tmp: Path) -> Iterator[ShopifyTarget]:
        simulated = ShopSandboxSettings(
            locations={LOCATION: "Main warehouse", SECOND: "Second warehouse"},
            bucket_max=2000.0,  # Shopify Plus's bucket: the suite is not about waiting
            restore_rate=1000.0,
        )
        with ShopifySandboxServer(simulated) as server:
            settings = _settings(
                server.url, simulated.token, {LOCATION: "WH1", SECOND: "WH2"}, retry_attempts=3
            )
            yield ShopifyTarget("sandbox", settings, server)

    def real(self, values: Mapping[str, str]) -> ShopifyTarget:
        location = values["CROSSDOCK_SHOPIFY_LOCATION"]
        settings = _settings(
            values["CROSSDOCK_SHOPIFY_URL"].rstrip("/"),
            values["CROSSDOCK_SHOPIFY_TOKEN"],
            {location: "WH1"},
        )
        return ShopifyTarget("real", settings)

    def implementation(self) -> type:
        return ShopifyOperations


target = ShopifyContract().fixture()
