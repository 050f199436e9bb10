"""The simulated shop's state: orders (kept in the webhooks' REST shape, the shape Shopify
publishes in its examples), their fulfilment orders, payment transactions and refunds (REST
shape too, as the ``refunds/create`` webhook sends them), locations, inventory items and levels.

One lock guards it: the HTTP server's thread and the test's thread both use it.
"""

from __future__ import annotations

import copy
import itertools
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["Shop", "gid"]


def gid(kind: str, number: int | str) -> str:
    return f"gid://shopify/{kind}/{number}"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class FulfilmentOrder:
    id: int
    order_id: int
    location: str
    lines: list[dict[str, Any]]  # {id, sku, line_item_id, total, remaining}
    status: str = "OPEN"


@dataclass
class Shop:
    domain: str = "crossdock-sandbox.myshopify.com"
    currency: str = "EUR"
    locations: dict[str, str] = field(default_factory=lambda: {gid("Location", 1): "Main"})
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    fulfilment_orders: dict[int, FulfilmentOrder] = field(default_factory=dict)
    fulfilments: dict[int, dict[str, Any]] = field(default_factory=dict)
    transactions: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    """An order's payment transactions (REST shape), by order id."""
    items: dict[str, str] = field(default_factory=dict)
    """Inventory item gid by SKU."""
    levels: dict[tuple[str, str], int] = field(default_factory=dict)
    """``available`` by (item gid, location gid)."""
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1_000_001))
    _clock_skew: timedelta = timedelta(0)

    def next_id(self) -> int:
        return next(self._ids)

    def stamp(self) -> str:
        """Now, as Shopify writes ``updated_at`` (strictly increasing within the shop)."""
        return (datetime.now(UTC) + self._clock_skew).isoformat(timespec="microseconds")

    # -- catalogue and stock ----------------------------------------------------------------

    def add_item(self, sku: str, levels: dict[str, int] | None = None) -> str:
        with self.lock:
            item = self.items.get(sku) or gid("InventoryItem", self.next_id())
            self.items[sku] = item
            for location, quantity in (levels or {}).items():
                self.levels[(item, location)] = quantity
            return item

    def available(self, sku: str, location: str) -> int | None:
        with self.lock:
            item = self.items.get(sku)
            return None if item is None else self.levels.get((item, location))

    def adjust(self, sku: str, location: str, delta: int) -> None:
        """A change made in Shopify itself (a sale, a person in the admin)."""
        with self.lock:
            item = self.items[sku]
            self.levels[(item, location)] = self.levels.get((item, location), 0) + delta

    # -- orders -----------------------------------------------------------------------------

    def place(self, order: dict[str, Any], location: str | None = None) -> dict[str, Any]:
        """Record an order (REST shape); answers it as stored, with its fulfilment order."""
        with self.lock:
            stored = copy.deepcopy(order)
            stored.setdefault("id", self.next_id())
            stored.setdefault("admin_graphql_api_id", gid("Order", stored["id"]))
            stamp = self.stamp()
            stored.setdefault("created_at", stamp)
            stored["updated_at"] = stamp
            stored.setdefault("currency", self.currency)
            self.orders[int(stored["id"])] = stored
            stored.setdefault("refunds", [])
            self.transactions[int(stored["id"])] = self._first_transactions(stored)
            where = location or next(iter(self.locations))
            lines = [
                {
                    "id": gid("FulfillmentOrderLineItem", self.next_id()),
                    "sku": item.get("sku"),
                    "line_item_id": item.get("id"),
                    "total": int(item.get("quantity") or 0),
                    "remaining": int(item.get("quantity") or 0),
                }
                for item in stored.get("line_items") or []
                if item.get("requires_shipping", True)
            ]
            number = self.next_id()
            self.fulfilment_orders[number] = FulfilmentOrder(
                number, int(stored["id"]), where, lines
            )
            return copy.deepcopy(stored)

    def _first_transactions(self, order: dict[str, Any]) -> list[dict[str, Any]]:
        """What the checkout left: a sale of the total when paid, an authorisation when only
        authorised (``financial_status``), nothing when pending."""
        kind = {"paid": "sale", "authorized": "authorization"}.get(
            str(order.get("financial_status") or "")
        )
        if kind is None:
            return []
        return [
            {
                "id": self.next_id(),
                "order_id": order["id"],
                "kind": kind,
                "status": "success",
                "amount": str(order.get("total_price") or "0.00"),
                "currency": order.get("currency") or self.currency,
                "gateway": order.get("gateway") or "bogus",
                "parent_id": None,
                "created_at": order.get("created_at"),
            }
        ]

    def update(self, order_id: int, **changes: Any) -> dict[str, Any]:
        with self.lock:
            stored = self.orders[order_id]
            stored.update(copy.deepcopy(changes))
            stored["updated_at"] = self.stamp()
            return copy.deepcopy(stored)

    def cancel(self, order_id: int, reason: str = "customer") -> dict[str, Any]:
        with self.lock:
            stamp = self.stamp()
            return self.update(order_id, cancelled_at=stamp, cancel_reason=reason)

    def order(self, order_id: int) -> dict[str, Any] | None:
        with self.lock:
            found = self.orders.get(order_id)
            return None if found is None else copy.deepcopy(found)

    def fulfilments_of(self, order_id: int) -> list[dict[str, Any]]:
        with self.lock:
            return [
                copy.deepcopy(f) for f in self.fulfilments.values() if f["order_id"] == order_id
            ]

    def now(self) -> str:
        return _now()
