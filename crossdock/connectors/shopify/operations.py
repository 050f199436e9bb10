"""The shop port on the GraphQL client: the pull's pages, fulfilments and inventory.

Inventory is compare-and-set: each quantity is sent with ``compareQuantity``, the quantity this
connector last read (or wrote) for that item at that location. When someone else changed it in
Shopify meanwhile (a sale, a person), the shop refuses the call (``COMPARE_QUANTITY_STALE``): the
batch's items are read again, the quantities that changed are left out and answered as
conflicts (the caller recomputes them knowing the new quantity), and the rest is sent again, so
a concurrent change is never overwritten blindly. Item ids by SKU and the quantities last read
are kept in memory (a restart reads them again).

Writes that must not be doubled look first for what an earlier attempt made (a crash between the
shop's answer and the hub's record): a fulfilment is found among the order's fulfilments by its
tracking number and lines, a refund by its key written in the refund's note, a cancellation by
the order's ``cancelledAt``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from crossdock.connectors.shopify import queries as q
from crossdock.connectors.shopify.client import ShopifyClient, user_errors
from crossdock.connectors.shopify.errors import ShopifyError, UserErrors
from crossdock.connectors.shopify.mapping import OWN_REFUND, from_graphql
from crossdock.connectors.shopify.records import (
    FulfilmentLine,
    InventoryChange,
    InventoryOutcome,
    RefundLine,
    RefundMade,
    ShopOptions,
)

__all__ = ["ShopifyOperations", "refund_marker"]

ORDER_GID = "gid://shopify/Order/"
STALE_CODES = frozenset({"COMPARE_QUANTITY_STALE"})
MAX_REREADS = 5


CANCEL_REASONS = frozenset({"CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF"})
CAPTURED = frozenset({"SALE", "CAPTURE"})


def refund_marker(key: str) -> str:
    """What a refund's note carries so that it is found again by its key."""
    return f"{OWN_REFUND}{key}]"


def _gid(order_id: str) -> str:
    return order_id if order_id.startswith("gid://") else ORDER_GID + order_id


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
        gid = _gid(order_id)
        data = await self.client.execute(
            "FulfillmentOrders", q.FULFILLMENT_ORDERS, {"id": gid}, estimate=420
        )
        order = data.get("order")
        if order is None:
            raise ShopifyError(f"order {order_id} is not in the shop", code="NOT_FOUND")
        wanted: dict[str, int] = {}
        for line in lines:
            if line.quantity != line.quantity.to_integral_value() or line.quantity <= 0:
                raise ShopifyError(f"{line.sku}: Shopify fulfils whole units", code="QUANTITY")
            wanted[line.sku] = wanted.get(line.sku, 0) + int(line.quantity)
        same = _same_fulfilment(order.get("fulfillments") or [], wanted, tracking)
        if same is not None and tracking:
            return same  # made by an earlier attempt that did not live to record it
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
        if left and same is not None:
            return same  # nothing left to fulfil: the same lines were fulfilled before
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

    # -- refunds and cancellations -----------------------------------------------------------

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
        """Refund ``lines`` of order ``order_id`` with ``refundCreate``: restocked units as
        ``RETURN`` at the location that fulfilled them, the others ``NO_RESTOCK``; ``amount``
        (None: no money, the lines only) paid back against the order's captured transactions
        (sale or capture), in the order's presentment currency. ``key`` is written in the note;
        with ``look_first`` a refund already carrying it is answered instead of a second one."""
        gid = _gid(order_id)
        marker = refund_marker(key)
        order, items = await self._order_for_refund(gid, order_id)
        if look_first:
            for made in order.get("refunds") or []:
                if marker in str(made.get("note") or ""):
                    return RefundMade(str(made["id"]), False, amount or Decimal(0))
        location_of: dict[str, str] = {}
        for fo in (order.get("fulfillmentOrders") or {}).get("nodes") or []:
            where = ((fo.get("assignedLocation") or {}).get("location") or {}).get("id")
            for item in (fo.get("lineItems") or {}).get("nodes") or []:
                if where and item.get("lineItem"):
                    location_of.setdefault(str(item["lineItem"]["id"]), str(where))
        refund_lines = _refund_lines(order_id, lines, items, location_of)
        refund: dict[str, Any] = {
            "orderId": gid,
            "note": f"{note} {marker}".strip(),
            "notify": False,
            "refundLineItems": refund_lines,
        }
        if amount is not None and amount > 0:
            refund["transactions"] = _refund_transactions(order, gid, amount, currency)
        answer = await self.client.execute(
            "RefundCreate", q.REFUND_CREATE, {"input": refund}, estimate=10
        )
        payload = user_errors("refundCreate", answer)
        return RefundMade(str(payload["refund"]["id"]), True, amount or Decimal(0))

    async def _order_for_refund(
        self, gid: str, order_id: str
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        after: str | None = None
        order: dict[str, Any] | None = None
        items: list[dict[str, Any]] = []
        while True:
            data = await self.client.execute(
                "OrderForRefund", q.ORDER_FOR_REFUND, {"id": gid, "after": after}, estimate=300
            )
            page = data.get("order")
            if page is None:
                raise ShopifyError(f"order {order_id} is not in the shop", code="NOT_FOUND")
            order = order or page
            items.extend(page["lineItems"]["nodes"])
            info = page["lineItems"]["pageInfo"]
            if not info["hasNextPage"]:
                return order, items
            after = info["endCursor"]

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
        """Cancel order ``order_id`` with ``orderCancel``; answers False when it was cancelled
        already (by an earlier attempt, or in Shopify)."""
        if reason not in CANCEL_REASONS:
            raise ValueError(f"{reason!r} is not one of Shopify's cancel reasons")
        gid = _gid(order_id)
        data = await self.client.execute(
            "OrderCancelState", q.ORDER_CANCEL_STATE, {"id": gid}, estimate=1
        )
        order = data.get("order")
        if order is None:
            raise ShopifyError(f"order {order_id} is not in the shop", code="NOT_FOUND")
        if order.get("cancelledAt"):
            return False
        answer = await self.client.execute(
            "OrderCancel",
            q.ORDER_CANCEL,
            {
                "orderId": gid,
                "reason": reason,
                "refund": refund,
                "restock": restock,
                "notifyCustomer": notify,
                "staffNote": note,
            },
            estimate=10,
        )
        payload = answer.get("orderCancel")
        if not isinstance(payload, dict):
            raise ShopifyError("orderCancel: no payload in the answer")
        errors = payload.get("orderCancelUserErrors") or []
        if errors:
            raise UserErrors("orderCancel", list(errors))
        return True

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


def _same_fulfilment(
    fulfilments: Sequence[dict[str, Any]], wanted: Mapping[str, int], tracking: str | None
) -> str | None:
    """The id of a fulfilment of exactly ``wanted`` (and ``tracking``, when given)."""
    for made in fulfilments:
        numbers = {str(t.get("number")) for t in made.get("trackingInfo") or [] if t.get("number")}
        if tracking and tracking not in numbers:
            continue
        lines: dict[str, int] = {}
        for node in (made.get("fulfillmentLineItems") or {}).get("nodes") or []:
            sku = str((node.get("lineItem") or {}).get("sku") or "")
            lines[sku] = lines.get(sku, 0) + int(node.get("quantity") or 0)
        if lines == dict(wanted):
            return str(made["id"])
    return None


def _refund_lines(
    order_id: str,
    lines: Sequence[RefundLine],
    items: Sequence[dict[str, Any]],
    location_of: Mapping[str, str],
) -> list[dict[str, Any]]:
    """Refund line inputs: each SKU's units taken from its order lines in order (a line refunds
    no more than its ``refundableQuantity``), restocked units first."""
    left = {i["id"]: int(i.get("refundableQuantity") or 0) for i in items}
    out: list[dict[str, Any]] = []
    short: list[str] = []
    for line in lines:
        if line.quantity <= 0:
            continue
        restock = min(line.restock, line.quantity)
        parts = [("RETURN", restock), ("NO_RESTOCK", line.quantity - restock)]
        for restock_type, quantity in parts:
            for item in items:
                if quantity <= 0:
                    break
                if item.get("sku") != line.sku or left[item["id"]] <= 0:
                    continue
                take = min(quantity, left[item["id"]])
                entry: dict[str, Any] = {
                    "lineItemId": item["id"],
                    "quantity": take,
                    "restockType": restock_type,
                }
                if restock_type == "RETURN":
                    where = location_of.get(item["id"])
                    if where is None:
                        entry["restockType"] = "NO_RESTOCK"
                    else:
                        entry["locationId"] = where
                out.append(entry)
                left[item["id"]] -= take
                quantity -= take
            if quantity > 0:
                short.append(f"{line.sku} x{quantity}")
    if short:
        raise ShopifyError(
            f"order {order_id}: nothing left to refund for {', '.join(short)}", code="OVER_REFUND"
        )
    return out


def _refund_transactions(
    order: Mapping[str, Any], gid: str, amount: Decimal, currency: str | None
) -> list[dict[str, Any]]:
    """Refund transactions paying ``amount`` back against the order's successful sale or capture
    transactions, each no more than what is left of it once its earlier refunds are paid."""
    presentment = str(order.get("presentmentCurrencyCode") or order.get("currencyCode") or "")
    if currency and presentment and currency != presentment:
        raise ShopifyError(
            f"the refund is in {currency}, the order was paid in {presentment}: "
            "Shopify refunds in the currency the customer paid",
            code="CURRENCY",
        )
    transactions = list(order.get("transactions") or [])
    refunded: dict[str, Decimal] = {}
    for t in transactions:
        parent = (t.get("parentTransaction") or {}).get("id")
        if t.get("kind") == "REFUND" and t.get("status") == "SUCCESS" and parent:
            money = Decimal(str(t["amountSet"]["presentmentMoney"]["amount"]))
            refunded[parent] = refunded.get(parent, Decimal(0)) + money
    out: list[dict[str, Any]] = []
    left = amount
    for t in transactions:
        if t.get("kind") not in CAPTURED or t.get("status") != "SUCCESS" or left <= 0:
            continue
        paid = Decimal(str(t["amountSet"]["presentmentMoney"]["amount"]))
        room = paid - refunded.get(t["id"], Decimal(0))
        take = min(left, room)
        if take <= 0:
            continue
        out.append(
            {
                "orderId": gid,
                "parentId": t["id"],
                "kind": "REFUND",
                "gateway": t.get("gateway") or "manual",
                "amount": str(take),
            }
        )
        left -= take
    if left > 0:
        raise ShopifyError(
            f"{amount} cannot be refunded: the order's captured payments leave "
            f"{amount - left} to refund",
            code="NOT_CAPTURED",
        )
    return out
