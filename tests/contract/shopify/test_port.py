"""The Shopify connector claims the shop port and is registered as ``shopify`` (and, through
its simulator, as a sandboxed ``shopify``)."""

from __future__ import annotations

from crossdock.connectors import registry
from tests.contract.base import PortsClaimed
from tests.contract.shopify.conftest import ShopifyContract


class TestShopifyPorts(PortsClaimed):
    contract = ShopifyContract()


def test_the_sandboxed_variant_is_registered() -> None:
    assert "shopify" in registry.kinds(sandboxed=True)
