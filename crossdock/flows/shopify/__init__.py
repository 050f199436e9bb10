"""The Shopify channel's flows: orders in (webhooks and the missed-webhook pull, worked by one
consumer). See :mod:`crossdock.flows.shopify.orders`."""

from __future__ import annotations

from crossdock.config.schema import Config
from crossdock.engine import Engine
from crossdock.flows.shopify.orders import register_orders

__all__ = ["register_shopify"]


def register_shopify(engine: Engine, config: Config) -> None:
    """Subscribe the Shopify consumers (when a shop is configured), before the engine starts."""
    register_orders(engine, config)
