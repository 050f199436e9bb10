"""Settings of one Shopify shop, read from a configured ``systems.<name>`` of ``kind: shopify``.

::

    systems:
      shop-eu:
        kind: shopify
        url: https://acme-eu.myshopify.com        # the shop's admin domain
        credentials: {access_token: ${SHOPIFY_TOKEN}}   # Admin API access token, or the app's
        # client credentials, which obtain one: {client_id: ${SHOPIFY_CLIENT_ID},
        #                                        client_secret: ${SHOPIFY_CLIENT_SECRET}}
        webhook_secret: ${SHOPIFY_WEBHOOK_SECRET}       # the app's secret: signs webhooks
        options:
          api_version: "2025-01"
          locations: {"gid://shopify/Location/1": WH-EU, "2": WH-BE}   # location → warehouse
          pull_cron: "*/10 * * * *"                # the missed-webhook pull
          pull_overlap_s: 300                      # the pull re-reads this much before its mark
          inventory_name: available                # the quantity name published
          stock_channels: {shop-eu: "1"}           # inventory channel → location it publishes to
          accept_test_orders: false                # test orders are recorded, not accepted

Every location that holds stock or receives orders must be mapped: an order from an unmapped
location is an exception naming it, and stock is never published to a location that is not in
the map. Locations are written as numeric ids or full ``gid://shopify/Location/<id>`` ids.

Stock: the inventory flow's ``inventory.available`` of a channel is published to one location.
``stock_channels`` names, for each inventory channel, the location it is published to; by
default the shop's own name publishes to its only location. A shop with several locations must
name a channel for each (one channel per location: each has its own available-to-promise), or
it is a configuration error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from crossdock.config.schema import System

__all__ = ["DEFAULT_API_VERSION", "ShopifySettings", "location_gid"]

DEFAULT_API_VERSION = "2025-01"
LOCATION_PREFIX = "gid://shopify/Location/"


def location_gid(value: object) -> str:
    """A location id as Shopify's GraphQL writes it (``gid://shopify/Location/<id>``)."""
    text = str(value).strip()
    if text.startswith(LOCATION_PREFIX):
        text = text[len(LOCATION_PREFIX) :]
    if not text.isdigit():
        raise ValueError(f"{value!r} is not a Shopify location id")
    return LOCATION_PREFIX + text


@dataclass(frozen=True)
class ShopifySettings:
    name: str
    url: str
    """Base URL of the Admin API host (``https://<shop>.myshopify.com``)."""
    shop_domain: str
    """What Shopify sends in ``X-Shopify-Shop-Domain`` (``<shop>.myshopify.com``)."""
    access_token: str | None = field(repr=False)
    """None: obtained with ``client_id`` and ``client_secret`` (:mod:`.token`)."""
    webhook_secret: str = field(repr=False)
    api_version: str = DEFAULT_API_VERSION
    locations: dict[str, str] = field(default_factory=dict)
    """Warehouse code by location gid."""
    pull_cron: str = "*/10 * * * *"
    pull_overlap_s: float = 300.0
    inventory_name: str = "available"
    stock_channels: dict[str, str] = field(default_factory=dict)
    """Location gid by inventory channel name."""
    accept_test_orders: bool = False
    timeout_s: float = 30.0
    retry_attempts: int = 5
    breaker_failures: int = 5
    breaker_reset_s: float = 30.0
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    webhook_tolerance_s: float = 86400.0 * 2
    """How old an ``X-Shopify-Triggered-At`` may be: Shopify retries a failed delivery for
    48 hours, and a retry keeps its first trigger time."""

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/admin/api/{self.api_version}/graphql.json"

    def warehouse_of(self, location: object) -> str | None:
        try:
            return self.locations.get(location_gid(location))
        except ValueError:
            return None

    @classmethod
    def from_system(cls, name: str, system: System) -> ShopifySettings:
        if system.kind != "shopify":
            raise ValueError(f"system {name} is not a Shopify shop")
        options: dict[str, Any] = dict(system.options)
        token = system.credentials.get("access_token")
        client_id = system.credentials.get("client_id")
        client_secret = system.credentials.get("client_secret")
        if token is None and (client_id is None or client_secret is None):
            raise ValueError(
                f"systems.{name}.credentials: give access_token, or client_id and client_secret "
                "(references)"
            )
        if system.webhook_secret is None:
            raise ValueError(f"systems.{name}.webhook_secret is required (it signs webhooks)")
        raw_locations = options.get("locations") or {}
        if not isinstance(raw_locations, dict) or not raw_locations:
            raise ValueError(
                f"systems.{name}.options.locations must map each Shopify location to a warehouse"
            )
        locations: dict[str, str] = {}
        for key, warehouse in raw_locations.items():
            try:
                gid = location_gid(key)
            except ValueError:
                raise ValueError(
                    f"systems.{name}.options.locations: {key!r} is not a location id"
                ) from None
            locations[gid] = str(warehouse)
        raw_channels = options.get("stock_channels")
        if raw_channels is None:
            if len(locations) > 1:
                raise ValueError(
                    f"systems.{name}.options.stock_channels must name the inventory channel of "
                    "each location (the shop has several)"
                )
            raw_channels = {name: next(iter(locations))}
        stock_channels: dict[str, str] = {}
        for channel, location in dict(raw_channels).items():
            try:
                gid = location_gid(location)
            except ValueError:
                gid = ""
            if gid not in locations:
                raise ValueError(
                    f"systems.{name}.options.stock_channels.{channel}: {location!r} is not a "
                    "mapped location"
                )
            stock_channels[str(channel)] = gid
        unpublished = sorted(set(locations) - set(stock_channels.values()))
        if unpublished:
            raise ValueError(
                f"systems.{name}.options.stock_channels: no channel publishes the stock of "
                f"{', '.join(unpublished)}"
            )
        host = urlsplit(system.url).hostname or ""
        return cls(
            name=name,
            url=system.url,
            shop_domain=str(options.get("shop_domain") or host),
            access_token=token.resolve() if token is not None else None,
            client_id=client_id.resolve() if token is None and client_id is not None else None,
            client_secret=(
                client_secret.resolve() if token is None and client_secret is not None else None
            ),
            webhook_secret=system.webhook_secret.resolve(),
            api_version=str(options.get("api_version", DEFAULT_API_VERSION)),
            locations=locations,
            pull_cron=str(options.get("pull_cron", "*/10 * * * *")),
            pull_overlap_s=float(options.get("pull_overlap_s", 300.0)),
            inventory_name=str(options.get("inventory_name", "available")),
            stock_channels=stock_channels,
            accept_test_orders=bool(options.get("accept_test_orders", False)),
            timeout_s=system.limits.timeout_s,
            retry_attempts=int(options.get("retry_attempts", 5)),
            breaker_failures=int(options.get("breaker_failures", 5)),
            breaker_reset_s=float(options.get("breaker_reset_s", 30.0)),
        )
