"""The Shopify channel's flows: orders in (webhooks and the scheduled missed-webhook pull, worked
by one consumer, :mod:`.orders`), fulfilments and stock out (:mod:`.outbound`)."""

from __future__ import annotations

from collections.abc import Mapping

from crossdock.config.schema import Config
from crossdock.connectors.shopify.port import ShopPort
from crossdock.engine import Engine, Schedule
from crossdock.flows.shopify.orders import register_orders, shopify_systems
from crossdock.flows.shopify.outbound import PULL_DUE, Outbound, subscriptions

__all__ = ["register_shopify", "shopify_systems"]


def register_shopify(
    engine: Engine, config: Config, shops: Mapping[str, ShopPort] | None = None
) -> Outbound | None:
    """Subscribe the Shopify consumers and schedule each shop's pull (before the engine starts).
    Without ``shops`` (the connected ports by system name) only orders in are worked."""
    register_orders(engine, config)
    if not shops:
        return None
    settings = {name: shop.options() for name, shop in shops.items()}
    outbound = Outbound(
        engine,
        shops,
        stock_channels={
            channel: (name, location)
            for name, s in settings.items()
            for channel, location in s.stock_channels.items()
        },
        overlap_s={name: s.pull_overlap_s for name, s in settings.items()},
    )
    for subscription in subscriptions(outbound, engine, config):
        engine.subscribe(subscription)
    for name, s in sorted(settings.items()):
        engine.schedule(Schedule(f"shopify.pull.{name}", s.pull_cron, PULL_DUE, {"system": name}))
    return outbound
