"""Pricing: keep the channel's price or take the ERP's (pricelist) price, per channel
configuration. Taxes are never decided here: the ERP computes them."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Literal

PricingSource = Literal["channel", "pricelist"]


def unit_prices(
    source: PricingSource,
    channel_prices: Mapping[str, Decimal],
    erp_prices: Mapping[str, Decimal],
) -> dict[str, Decimal]:
    """The unit price of each SKU: the channel's, or the ERP's where it has one (a SKU the ERP
    has no price for keeps the channel's)."""
    if source == "channel":
        return dict(channel_prices)
    return {sku: erp_prices.get(sku, price) for sku, price in channel_prices.items()}
