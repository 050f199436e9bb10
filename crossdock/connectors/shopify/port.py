"""The shop port: what the flows ask of a Shopify shop, in canonical terms and the connector's
records. Implemented by :class:`~crossdock.connectors.shopify.operations.ShopifyOperations`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from crossdock.connectors.shopify.records import (
    FulfilmentLine,
    InventoryChange,
    InventoryOutcome,
    RefundLine,
    RefundMade,
    ShopOptions,
)

__all__ = ["ShopPort"]


class ShopPort(Protocol):
    def orders_updated_since(self, since: datetime) -> AsyncIterator[list[dict[str, Any]]]:
        """Pages of orders updated after ``since`` (oldest first), in the webhooks' shape."""
        ...

    async def fulfil(
        self,
        order_id: str,
        lines: Sequence[FulfilmentLine],
        *,
        carrier: str | None,
        tracking: str | None,
        tracking_url: str | None = None,
    ) -> str:
        """Fulfil ``lines`` of Shopify order ``order_id`` (a partial shipment is a partial
        fulfilment) from its open fulfilment orders; answers the fulfilment's id."""
        ...

    async def refund(
        self,
        order_id: str,
        key: str,
        lines: Sequence[RefundLine],
        *,
        amount: Decimal | None,
        currency: str | None,
        note: str,
        look_first: bool = True,
    ) -> RefundMade:
        """Refund ``lines`` (and ``amount``, None: no money) of order ``order_id``; ``key`` finds
        a refund an earlier attempt made (``look_first``), so a replay never refunds twice."""
        ...

    async def cancel(
        self,
        order_id: str,
        *,
        reason: str,
        refund: bool,
        restock: bool,
        note: str | None = None,
        notify: bool = False,
    ) -> bool:
        """Cancel order ``order_id``; False when it was cancelled already."""
        ...

    async def set_inventory(self, changes: Sequence[InventoryChange]) -> InventoryOutcome:
        """Publish quantities, compare-and-set against the quantity last read."""
        ...

    async def locations(self) -> Mapping[str, str]:
        """The shop's active locations: name by gid."""
        ...

    def options(self) -> ShopOptions:
        """The shop's configured channels and pull (from its settings)."""
        ...

    async def aclose(self) -> None: ...
