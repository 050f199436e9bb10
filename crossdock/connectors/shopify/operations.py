"""The shop port on the GraphQL client: the pull's pages, fulfilments and inventory.

Inventory is compare-and-set: each quantity is sent with ``compareQuantity``, the quantity this
connector last read (or wrote) for that item at that location. When someone else changed it in
Shopify meanwhile (a sale, a person), the shop refuses the call (``COMPARE_QUANTITY_STALE``): the
batch's items are read again, the quantities that changed are left out and answered as
conflicts (the caller recomputes them knowing the new quantity), and the rest is sent again, so
a concurrent change is never overwritten blindly. Item ids by SKU and the quantities last read
are kept in memory (a restart reads them again).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from crossdock.connectors.shopify import queries as q
from crossdock.connectors.shopify.client import ShopifyClient, user_errors
from crossdock.connectors.shopify.errors import ShopifyError, UserErrors
from crossdock.connectors.shopify.mapping import from_graphql
from crossdock.connectors.shopify.records import (
    FulfilmentLine,
    InventoryChange,
    InventoryOutcome,
    ShopOptions,
)

__all__ = ["ShopifyOperations"]

ORDER_GID = "gid://shopify/Order/"
STALE_CODES = frozenset({"COMPARE_QUANTITY_STALE"})
MAX_REREADS = 5


def _search_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _quote(sku: str) -> str:
    return '"' + sku.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ShopifyOperations:
    def __init__(self, client: ShopifyClient) -> None:
        self.client = client
        self.items: dict[str, str] = {}
        """Inventory item gid by SKU."""
        self.known: dict[tuple[str, str], int] = {}
        """The quantity last read or written, by (item gid, location gid)."""

    async def aclose(self) -> None:
        await self.client.aclose()

    def options(self) -> ShopOptions:
        settings = self.client.settings
        return ShopOptions(
            dict(settings.stock_channels),
            settings.pull_cron,
            settings.pull_overlap_s,
            dict(settings.locations),
        )

    # -- orders -----------------------------------------------------------------------------

    async def orders_updated_since(self, since: datetime) -> AsyncIterator[list[dict[str, Any]]]:
        after: str | None = None
        search = f"updated_at:>'{_search_time(since)}'"
        while True:
            data = await self.client.execute(
                "OrdersUpdated",
                q.ORDERS_UPDATED,
                {"first": q.ORDERS_PAGE, "after": after, "query": search},
                estimate=900,
            )
            connection = data["orders"]
            page = []
            for node in connection["nodes"]:
                await self._all_lines(node)
                page.append(from_graphql(node))
            if page:
                yield page
            info = connection["pageInfo"]
            if not info["hasNextPage"]:
                return
            after = info["endCursor"]

    async def _all_lines(self, node: dict[str, Any]) -> None:
        lines = node["lineItems"]
        while lines["pageInfo"]["hasNextPage"]:
            data = await self.client.execute(
                "OrderLines",
                q.ORDER_LINES,
                {"id": node["id"], "after": lines["pageInfo"]["endCursor"]},
                estimate=610,
            )
            more = data["order"]["lineItems"]
            lines = {"pageInfo": more["pageInfo"], "nodes": lines["nodes"] + more["nodes"]}
        node["lineItems"] = lines

    # -- fulfilments ------------------------------------------------------------------------

    async def fulfil(
        self,
        order_id: str,
        lines: Sequence[FulfilmentLine],
        *,
        carrier: str | None,
        tracking: str | None,
        tracking_url: str | None = None,
    ) -> str:
        gid = order_id if order_id.startswith("gid://") else ORDER_GID + order_id
        data = await self.client.execute(
            "FulfillmentOrders", q.FULFILLMENT_ORDERS, {"id": gid}, estimate=160
        )
        order = data.get("order")
        if order is None:
            raise ShopifyError(f"order {order_id} is not in the shop", code="NOT_FOUND")
        wanted: dict[str, int] = {}
        for line in lines:
            if line.quantity != line.quantity.to_integral_value() or line.quantity <= 0:
                raise ShopifyError(f"{line.sku}: Shopify fulfils whole units", code="QUANTITY")
            wanted[line.sku] = wanted.get(line.sku, 0) + int(line.quantity)
        by_order: list[dict[str, Any]] = []
        for fo in order["fulfillmentOrders"]["nodes"]:
            if fo["status"] not in ("OPEN", "IN_PROGRESS"):
                continue
            items = []
            for item in await self._fo_lines(fo):
                need = wanted.get(item.get("sku") or "", 0)
                take = min(need, int(item["remainingQuantity"]))
                if take > 0:
                    items.append({"id": item["id"], "quantity": take})
                    wanted[item["sku"]] = need - take
            if items:
                by_order.append(
                    {"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": items}
                )
        left = {sku: n for sku, n in wanted.items() if n > 0}
        if left:
            detail = ", ".join(f"{sku} x{n}" for sku, n in sorted(left.items()))
            raise ShopifyError(
                f"order {order_id}: nothing left to fulfil for {detail}", code="OVER_FULFIL"
            )
        fulfillment: dict[str, Any] = {"lineItemsByFulfillmentOrder": by_order}
        if carrier or tracking or tracking_url:
            fulfillment["trackingInfo"] = {
                k: v
                for k, v in (("company", carrier), ("number", tracking), ("url", tracking_url))
                if v
            }
        answer = await self.client.execute(
            "FulfillmentCreate", q.FULFILLMENT_CREATE, {"fulfillment": fulfillment}, estimate=10
        )
        payload = user_errors("fulfillmentCreate", answer)
        return str(payload["fulfillment"]["id"])

    async def _fo_lines(self, fo: dict[str, Any]) -> list[dict[str, Any]]:
        lines = fo["lineItems"]
        nodes = list(lines["nodes"])
        while lines["pageInfo"]["hasNextPage"]:
            data = await self.client.execute(
                "FulfillmentOrderLines",
                q.FULFILLMENT_ORDER_LINES,
                {"id": fo["id"], "after": lines["pageInfo"]["endCursor"]},
                estimate=103,
            )
            lines = data["node"]["lineItems"]
            nodes.extend(lines["nodes"])
        return nodes

    # -- locations and inventory ------------------------------------------------------------

    async def locations(self) -> Mapping[str, str]:
        data = await self.client.execute("Locations", q.LOCATIONS, estimate=52)
        return {n["id"]: n["name"] for n in data["locations"]["nodes"] if n.get("isActive", True)}

    async def read_items(self, skus: Sequence[str]) -> None:
        """Item ids and current ``available`` quantities of ``skus`` (in pages)."""
        wanted = sorted(set(skus))
        for start in range(0, len(wanted), q.ITEMS_PAGE):
            chunk = wanted[start : start + q.ITEMS_PAGE]
            data = await self.client.execute(
                "InventoryItems",
                q.INVENTORY_ITEMS,
                {"query": " OR ".join(f"sku:{_quote(s)}" for s in chunk), "first": len(chunk)},
                estimate=2 + 18 * len(chunk),
            )
            for node in data["inventoryItems"]["nodes"]:
                if node.get("sku") not in chunk:
                    continue
                self.items[node["sku"]] = node["id"]
                for level in node["inventoryLevels"]["nodes"]:
                    for quantity in level["quantities"]:
                        if quantity["name"] == self.client.settings.inventory_name:
                            self.known[(node["id"], level["location"]["id"])] = int(
                                quantity["quantity"]
                            )

    async def set_inventory(self, changes: Sequence[InventoryChange]) -> InventoryOutcome:
        latest: dict[tuple[str, str], InventoryChange] = {}
        for change in changes:  # the last quantity of a SKU at a location wins
            latest[(change.sku, change.location)] = change
        missing = sorted({sku for sku, _ in latest if sku not in self.items})
        if missing:
            await self.read_items(missing)
        unknown = sorted({sku for sku, _ in latest if sku not in self.items})
        todo = [c for (sku, _), c in latest.items() if sku in self.items]
        unread = sorted(
            {c.sku for c in todo if (self.items[c.sku], c.location) not in self.known}
            - set(missing)
        )
        if unread:
            await self.read_items(unread)
        done = rereads = 0
        conflicts: dict[tuple[str, str], int] = {}
        for start in range(0, len(todo), q.INVENTORY_BATCH):
            batch = list(todo[start : start + q.INVENTORY_BATCH])
            for attempt in range(MAX_REREADS + 1):
                if not batch:
                    break
                try:
                    await self._set(batch)
                    done += len(batch)
                    break
                except UserErrors as exc:
                    codes = {str(e.get("code")) for e in exc.errors}
                    if not codes & STALE_CODES or attempt == MAX_REREADS:
                        raise
                    rereads += 1
                    before = {c: self.known.get((self.items[c.sku], c.location)) for c in batch}
                    await self.read_items([c.sku for c in batch])
                    kept = []
                    for change in batch:
                        now = self.known.get((self.items[change.sku], change.location))
                        if now != before[change]:
                            conflicts[(change.sku, change.location)] = now or 0
                        else:
                            kept.append(change)
                    batch = kept
        return InventoryOutcome(set=done, reread=rereads, unknown=unknown, conflicts=conflicts)

    async def _set(self, batch: Sequence[InventoryChange]) -> None:
        quantities = []
        for change in batch:
            item = self.items[change.sku]
            quantities.append(
                {
                    "inventoryItemId": item,
                    "locationId": change.location,
                    "quantity": change.quantity,
                    "compareQuantity": self.known.get((item, change.location), 0),
                }
            )
        answer = await self.client.execute(
            "InventorySet",
            q.INVENTORY_SET,
            {
                "input": {
                    "name": self.client.settings.inventory_name,
                    "reason": "correction",
                    "referenceDocumentUri": f"crossdock://{self.client.name}/stock",
                    "quantities": quantities,
                }
            },
            estimate=10,
        )
        user_errors("inventorySetQuantities", answer)
        for change in batch:
            self.known[(self.items[change.sku], change.location)] = change.quantity
