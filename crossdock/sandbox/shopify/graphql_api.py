"""Executing the sandbox's Admin GraphQL: the schema (:mod:`.sdl`) with graphql-core, Shopify's
query cost, and the cost bucket that throttles.

Cost, as Shopify calculates the requested cost: a scalar or enum field costs 0, an object 1, a
connection 2 plus ``first`` times the cost of one node, a list of objects ``first`` objects, a
mutation 10. A query whose cost is
above the single-query maximum is refused (``MAX_COST_EXCEEDED``); one that costs more than the
bucket holds is answered ``THROTTLED`` and changes nothing. The bucket restores ``restore_rate``
points per second up to ``maximum``; every answer states it in ``extensions.cost``.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    build_schema,
    execute,
    parse,
    validate,
)

from crossdock.sandbox.shopify.sdl import SDL
from crossdock.sandbox.shopify.shop import FulfilmentOrder, Shop, gid

__all__ = ["Bucket", "GraphqlApi"]

SCHEMA = build_schema(SDL)
MUTATION_COST = 10
SINGLE_QUERY_MAX = 1000
"""Shopify refuses a single query above 1,000 points, whatever the bucket."""
SET_QUANTITIES_MAX = 250


@dataclass
class Bucket:
    maximum: float = 2000.0
    restore_rate: float = 100.0
    clock: Callable[[], float] = time.monotonic
    available: float = -1.0
    at: float = 0.0
    throttled: int = 0
    spent: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.available < 0:
            self.available = self.maximum
        self.at = self.clock()

    def _restore(self) -> None:
        now = self.clock()
        self.available = min(self.maximum, self.available + (now - self.at) * self.restore_rate)
        self.at = now

    def take(self, cost: float) -> bool:
        with self.lock:
            self._restore()
            if cost > self.available:
                self.throttled += 1
                return False
            self.available -= cost
            self.spent += cost
            return True

    def status(self) -> dict[str, float]:
        with self.lock:
            self._restore()
            return {
                "maximumAvailable": self.maximum,
                "currentlyAvailable": round(self.available, 3),
                "restoreRate": self.restore_rate,
            }


def _first(node: FieldNode, variables: dict[str, Any]) -> int | None:
    for argument in node.arguments or ():
        if argument.name.value in ("first", "last"):
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                found = variables.get(value.name.value)
                return int(found) if isinstance(found, int) else None
    return None


def _selection_cost(
    selection: SelectionSetNode | None, variables: dict[str, Any], fragments: dict[str, Any]
) -> int:
    if selection is None:
        return 0
    total = 0
    for node in selection.selections:
        if isinstance(node, FieldNode):
            total += _field_cost(node, variables, fragments)
        elif isinstance(node, InlineFragmentNode):
            total += _selection_cost(node.selection_set, variables, fragments)
        elif isinstance(node, FragmentSpreadNode) and node.name.value in fragments:
            total += _selection_cost(fragments[node.name.value], variables, fragments)
    return total


def _field_cost(node: FieldNode, variables: dict[str, Any], fragments: dict[str, Any]) -> int:
    if node.selection_set is None:
        return 0
    first = _first(node, variables)
    if first is None:
        return 1 + _selection_cost(node.selection_set, variables, fragments)
    children = {c.name.value for c in node.selection_set.selections if isinstance(c, FieldNode)}
    if not children & {"nodes", "edges"}:  # a plain list of objects: each counts as one object
        return first * (1 + _selection_cost(node.selection_set, variables, fragments))
    per_node = 0
    for child in node.selection_set.selections:
        if isinstance(child, FieldNode) and child.name.value == "nodes":
            per_node += 1 + _selection_cost(child.selection_set, variables, fragments)
        elif isinstance(child, FieldNode) and child.name.value == "edges":
            per_node += _selection_cost(child.selection_set, variables, fragments)  # node: 1 + …
    return 2 + first * per_node


def requested_cost(document: DocumentNode, operation: str | None, variables: dict[str, Any]) -> int:
    fragments = {
        d.name.value: d.selection_set
        for d in document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if operation and definition.name and definition.name.value != operation:
            continue
        if definition.operation == OperationType.MUTATION:
            return MUTATION_COST * len(definition.selection_set.selections)
        return _selection_cost(definition.selection_set, variables, fragments)
    return 0


# -- the shapes of the answers --------------------------------------------------------------------


def _cursor(position: list[Any]) -> str:
    return base64.b64encode(json.dumps(position).encode()).decode()


def _uncursor(cursor: str | None) -> list[Any] | None:
    if not cursor:
        return None
    try:
        value = json.loads(base64.b64decode(cursor))
    except ValueError:
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor}") from None
    return value if isinstance(value, list) else None


def _page(items: list[Any], first: int | None, after: str | None, key: Callable[[Any], Any]) -> Any:
    start = _uncursor(after)
    if first is None:
        raise GraphQLError("you must provide one of first or last")
    if first > 250:
        raise GraphQLError("The first argument must not exceed 250")
    chosen = [i for i in items if start is None or key(i) > start]
    page, more = chosen[:first], len(chosen) > first
    return {
        "nodes": page,
        "pageInfo": {
            "hasNextPage": more,
            "hasPreviousPage": start is not None,
            "startCursor": _cursor(key(page[0])) if page else None,
            "endCursor": _cursor(key(page[-1])) if page else None,
        },
    }


def _money(amount: Any, currency: str) -> dict[str, Any]:
    value = {
        "amount": str(amount if amount not in (None, "") else "0.00"),
        "currencyCode": currency,
    }
    return {"shopMoney": value, "presentmentMoney": value}


def _address(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    return {
        "name": raw.get("name"),
        "firstName": raw.get("first_name"),
        "lastName": raw.get("last_name"),
        "company": raw.get("company"),
        "address1": raw.get("address1"),
        "address2": raw.get("address2"),
        "city": raw.get("city"),
        "province": raw.get("province"),
        "provinceCode": raw.get("province_code"),
        "zip": raw.get("zip"),
        "countryCodeV2": raw.get("country_code"),
        "phone": raw.get("phone"),
    }


def _iso(value: Any) -> Any:
    return value


class GraphqlApi:
    """The sandbox's GraphQL endpoint over a :class:`~.shop.Shop`."""

    def __init__(self, shop: Shop, bucket: Bucket | None = None) -> None:
        self.shop = shop
        self.bucket = bucket or Bucket()
        self.calls = 0

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        """The JSON answer to one request body ``{query, variables, operationName}``."""
        self.calls += 1
        query = body.get("query")
        variables = body.get("variables") or {}
        operation = body.get("operationName")
        if not isinstance(query, str) or not isinstance(variables, dict):
            return {"errors": [{"message": "Parameter Missing or Invalid"}]}
        try:
            document = parse(query)
        except GraphQLError as exc:
            return {"errors": [exc.formatted]}
        problems = validate(SCHEMA, document)
        if problems:
            return {"errors": [p.formatted for p in problems]}
        cost = requested_cost(document, operation, variables)
        limit = min(SINGLE_QUERY_MAX, self.bucket.maximum)
        if cost > limit:
            return {
                "errors": [
                    {
                        "message": f"Query cost is {cost}, which exceeds the single query max "
                        f"cost limit ({limit:g}).",
                        "extensions": {
                            "code": "MAX_COST_EXCEEDED",
                            "cost": cost,
                            "maxCost": limit,
                        },
                    }
                ]
            }
        if not self.bucket.take(cost):
            return {
                "errors": [
                    {
                        "message": "Throttled",
                        "extensions": {
                            "code": "THROTTLED",
                            "documentation": "https://shopify.dev/api/usage/rate-limits",
                        },
                    }
                ],
                "extensions": {
                    "cost": {
                        "requestedQueryCost": cost,
                        "actualQueryCost": None,
                        "throttleStatus": self.bucket.status(),
                    }
                },
            }
        with self.shop.lock:
            result = execute(
                SCHEMA,
                document,
                root_value=self._root(),
                variable_values=variables,
                operation_name=operation,
            )
        assert not hasattr(result, "__await__")
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [e.formatted for e in result.errors]
        answer["extensions"] = {
            "cost": {
                "requestedQueryCost": cost,
                "actualQueryCost": cost,
                "throttleStatus": self.bucket.status(),
            }
        }
        return answer

    # -- resolvers --------------------------------------------------------------------------

    def _root(self) -> dict[str, Any]:
        return {
            "orders": self._orders,
            "order": self._order,
            "node": self._node,
            "locations": self._locations,
            "inventoryItems": self._inventory_items,
            "fulfillmentCreate": self._fulfillment_create,
            "inventorySetQuantities": self._inventory_set,
            "refundCreate": self._refund_create,
            "orderCancel": self._order_cancel,
        }

    def _orders(
        self,
        info: Any,
        first: int | None = None,
        after: str | None = None,
        query: str | None = None,
        sortKey: str | None = None,
        reverse: bool = False,
    ) -> Any:
        since = None
        if query:
            found = re.search(r"updated_at:>=?\s*['\"]?([^'\"\s]+)['\"]?", query)
            if found is None:
                raise GraphQLError(f"unsupported search in the sandbox: {query}")
            since = datetime.fromisoformat(found.group(1).replace("Z", "+00:00"))
        orders = list(self.shop.orders.values())
        if since is not None:
            orders = [
                o
                for o in orders
                if datetime.fromisoformat(str(o["updated_at"]).replace("Z", "+00:00")) > since
            ]

        def key(o: Any) -> list[Any]:
            stamp = datetime.fromisoformat(str(o["updated_at"]).replace("Z", "+00:00"))
            return [stamp.timestamp(), int(o["id"])]

        orders.sort(key=key)
        page = _page(orders, first, after, key)
        page["nodes"] = [self._order_view(o) for o in page["nodes"]]
        return page

    def _order(self, info: Any, id: str) -> Any:
        number = id.rsplit("/", 1)[-1]
        order = self.shop.orders.get(int(number)) if number.isdigit() else None
        return None if order is None else self._order_view(order)

    def _node(self, info: Any, id: str) -> Any:
        kind, _, number = id.removeprefix("gid://shopify/").partition("/")
        if kind == "FulfillmentOrder" and number.isdigit():
            fo = self.shop.fulfilment_orders.get(int(number))
            if fo is not None:
                return {**self._fulfilment_order_view(fo), "__typename": "FulfillmentOrder"}
        return None

    def _order_view(self, o: dict[str, Any]) -> dict[str, Any]:
        currency = str(o.get("currency") or self.shop.currency)
        refunded = self._refunded_units(o)
        lines = [
            {
                "id": gid("LineItem", item.get("id")),
                "sku": item.get("sku"),
                "refundableQuantity": int(item.get("quantity") or 0)
                - refunded.get(item.get("id"), 0),
                "name": item.get("name") or item.get("title") or "",
                "title": item.get("title") or "",
                "quantity": item.get("quantity"),
                "originalUnitPriceSet": _money(item.get("price"), currency),
                "totalDiscountSet": _money(item.get("total_discount"), currency),
                "discountAllocations": [
                    {"allocatedAmountSet": _money(a.get("amount"), currency)}
                    for a in item.get("discount_allocations") or []
                ],
                "taxLines": [
                    {
                        "title": t.get("title"),
                        "priceSet": _money(t.get("price"), currency),
                        "rate": t.get("rate"),
                    }
                    for t in item.get("tax_lines") or []
                ],
                "variant": {
                    "id": gid("ProductVariant", item.get("variant_id")),
                    "sku": item.get("sku"),
                },
            }
            for item in o.get("line_items") or []
        ]
        shipping = [
            {
                "title": s.get("title") or "",
                "code": s.get("code"),
                "originalPriceSet": _money(s.get("price"), currency),
                "taxLines": [
                    {
                        "title": t.get("title"),
                        "priceSet": _money(t.get("price"), currency),
                        "rate": t.get("rate"),
                    }
                    for t in s.get("tax_lines") or []
                ],
            }
            for s in o.get("shipping_lines") or []
        ]
        customer = o.get("customer")
        fulfilment_orders = [
            f for f in self.shop.fulfilment_orders.values() if f.order_id == int(o["id"])
        ]
        return {
            "id": gid("Order", o["id"]),
            "legacyResourceId": str(o["id"]),
            "name": o.get("name") or f"#{o['id']}",
            "email": o.get("email"),
            "createdAt": o.get("created_at"),
            "updatedAt": o.get("updated_at"),
            "cancelledAt": o.get("cancelled_at"),
            "currencyCode": currency,
            "presentmentCurrencyCode": o.get("presentment_currency") or currency,
            "taxesIncluded": bool(o.get("taxes_included")),
            "test": bool(o.get("test")),
            "note": o.get("note"),
            "tags": [t.strip() for t in str(o.get("tags") or "").split(",") if t.strip()],
            "customAttributes": [
                {"key": a.get("name"), "value": a.get("value")}
                for a in o.get("note_attributes") or []
            ],
            "displayFinancialStatus": str(o.get("financial_status") or "").upper() or None,
            "displayFulfillmentStatus": str(o.get("fulfillment_status") or "unfulfilled").upper(),
            "totalPriceSet": _money(o.get("total_price"), currency),
            "totalTaxSet": _money(o.get("total_tax"), currency),
            "totalDiscountsSet": _money(o.get("total_discounts"), currency),
            "customer": None
            if not isinstance(customer, dict)
            else {
                "id": gid("Customer", str(customer.get("id"))),
                "email": customer.get("email"),
                "firstName": customer.get("first_name"),
                "lastName": customer.get("last_name"),
                "defaultAddress": _address(customer.get("default_address")),
            },
            "billingAddress": _address(o.get("billing_address")),
            "shippingAddress": _address(o.get("shipping_address")),
            "lineItems": lambda info, first=None, after=None: _page(
                lines, first, after, lambda n: [lines.index(n)]
            ),
            "shippingLines": lambda info, first=None, after=None: _page(
                shipping, first, after, lambda n: [shipping.index(n)]
            ),
            "fulfillmentOrders": lambda info, first=None, after=None: _page(
                [self._fulfilment_order_view(f) for f in fulfilment_orders],
                first,
                after,
                lambda n: [n["id"]],
            ),
            "refunds": lambda info, first=None: [
                self._refund_view(r, currency) for r in o.get("refunds") or []
            ][: first or None],
            "transactions": lambda info, first=None: [
                self._transaction_view(t) for t in self.shop.transactions.get(int(o["id"]), [])
            ][: first or None],
            "fulfillments": lambda info, first=None: [
                self._fulfilment_view(f)
                for f in self.shop.fulfilments.values()
                if f["order_id"] == int(o["id"])
            ][: first or None],
        }

    @staticmethod
    def _refunded_units(o: dict[str, Any]) -> dict[Any, int]:
        units: dict[Any, int] = {}
        for refund in o.get("refunds") or []:
            for line in refund.get("refund_line_items") or []:
                units[line["line_item_id"]] = units.get(line["line_item_id"], 0) + int(
                    line["quantity"]
                )
        return units

    def _transaction_view(self, t: dict[str, Any]) -> dict[str, Any]:
        parent = t.get("parent_id")
        return {
            "id": gid("OrderTransaction", t["id"]),
            "kind": str(t["kind"]).upper(),
            "status": str(t["status"]).upper(),
            "gateway": t.get("gateway"),
            "amountSet": _money(t.get("amount"), str(t.get("currency") or self.shop.currency)),
            "createdAt": t.get("created_at"),
            "parentTransaction": None
            if parent is None
            else {"id": gid("OrderTransaction", parent)},
        }

    def _refund_view(self, r: dict[str, Any], currency: str) -> dict[str, Any]:
        lines = [
            {
                "lineItem": {"id": gid("LineItem", line["line_item_id"]), "sku": line["sku"]},
                "quantity": line["quantity"],
                "restockType": str(line["restock_type"]).upper(),
                "restocked": line["restock_type"] in ("return", "cancel"),
                "location": None
                if line.get("location_id") is None
                else {"id": gid("Location", line["location_id"]), "name": "", "isActive": True},
            }
            for line in r.get("refund_line_items") or []
        ]
        transactions = [self._transaction_view(t) for t in r.get("transactions") or []]
        total = sum((Decimal(str(t["amount"])) for t in r.get("transactions") or []), Decimal(0))
        return {
            "id": gid("Refund", r["id"]),
            "note": r.get("note"),
            "createdAt": r.get("created_at"),
            "totalRefundedSet": _money(f"{total:.2f}", currency),
            "refundLineItems": lambda info, first=None, after=None: _page(
                lines, first, after, lambda n: [lines.index(n)]
            ),
            "transactions": lambda info, first=None, after=None: _page(
                transactions, first, after, lambda n: [n["id"]]
            ),
        }

    def _fulfilment_view(self, f: dict[str, Any]) -> dict[str, Any]:
        nodes = [
            {
                "id": gid("FulfillmentLineItem", f"{f['id'].rsplit('/', 1)[-1]}{i}"),
                "quantity": line["quantity"],
                "lineItem": {"id": gid("LineItem", item_id), "sku": line["sku"]},
            }
            for i, (line, item_id) in enumerate(
                zip(f["lines"], f.get("line_item_ids") or [None] * len(f["lines"]), strict=True)
            )
        ]
        return {
            **f,
            "createdAt": f.get("created_at"),
            "fulfillmentLineItems": lambda info, first=None, after=None: _page(
                nodes, first, after, lambda n: [n["id"]]
            ),
        }

    def _fulfilment_order_view(self, fo: FulfilmentOrder) -> dict[str, Any]:
        nodes = [
            {
                "id": line["id"],
                "sku": line["sku"],
                "totalQuantity": line["total"],
                "remainingQuantity": line["remaining"],
                "lineItem": {"id": gid("LineItem", line["line_item_id"]), "sku": line["sku"]},
            }
            for line in fo.lines
        ]
        return {
            "id": gid("FulfillmentOrder", fo.id),
            "status": fo.status,
            "assignedLocation": {
                "location": {
                    "id": fo.location,
                    "name": self.shop.locations.get(fo.location, ""),
                    "isActive": True,
                }
            },
            "lineItems": lambda info, first=None, after=None: _page(
                nodes, first, after, lambda n: [n["id"]]
            ),
        }

    def _locations(self, info: Any, first: int | None = None, after: str | None = None) -> Any:
        nodes = [
            {"id": k, "name": v, "isActive": True} for k, v in sorted(self.shop.locations.items())
        ]
        return _page(nodes, first, after, lambda n: [n["id"]])

    def _inventory_items(
        self,
        info: Any,
        first: int | None = None,
        after: str | None = None,
        query: str | None = None,
    ) -> Any:
        skus = None
        if query:
            skus = {
                m.group(1) or m.group(2)
                for m in re.finditer(r'sku:(?:"((?:[^"\\]|\\.)*)"|(\S+))', query)
            }
            skus = {s.replace('\\"', '"').replace("\\\\", "\\") for s in skus}
        items = sorted(
            (item, sku) for sku, item in self.shop.items.items() if skus is None or sku in skus
        )
        nodes = [self._item_view(item, sku) for item, sku in items]
        return _page(nodes, first, after, lambda n: [n["id"]])

    def _item_view(self, item: str, sku: str) -> dict[str, Any]:
        levels = [
            {
                "location": {
                    "id": location,
                    "name": self.shop.locations.get(location, ""),
                    "isActive": True,
                },
                "quantities": lambda info, names, q=quantity: [
                    {"name": name, "quantity": q if name == "available" else 0} for name in names
                ],
            }
            for (held, location), quantity in sorted(self.shop.levels.items())
            if held == item
        ]
        return {
            "id": item,
            "sku": sku,
            "inventoryLevels": lambda info, first=None, after=None: _page(
                levels, first, after, lambda n: [n["location"]["id"]]
            ),
        }

    # -- mutations --------------------------------------------------------------------------

    def _fulfillment_create(
        self, info: Any, fulfillment: dict[str, Any], message: str | None = None
    ) -> Any:
        errors: list[dict[str, Any]] = []
        plan: list[tuple[FulfilmentOrder, dict[str, Any], int]] = []
        order_ids = set()
        for i, group in enumerate(fulfillment["lineItemsByFulfillmentOrder"]):
            number = str(group["fulfillmentOrderId"]).rsplit("/", 1)[-1]
            fo = self.shop.fulfilment_orders.get(int(number)) if number.isdigit() else None
            if fo is None or fo.status == "CLOSED":
                errors.append(
                    {
                        "field": ["fulfillment", "lineItemsByFulfillmentOrder", str(i)],
                        "message": "Fulfillment order does not exist or is closed.",
                    }
                )
                continue
            order_ids.add(fo.order_id)
            by_id = {line["id"]: line for line in fo.lines}
            for entry in group.get("fulfillmentOrderLineItems") or []:
                line = by_id.get(entry["id"])
                if line is None or entry["quantity"] <= 0 or entry["quantity"] > line["remaining"]:
                    errors.append(
                        {
                            "field": ["fulfillment"],
                            "message": "Invalid fulfillment order line item quantity requested.",
                        }
                    )
                    continue
                plan.append((fo, line, entry["quantity"]))
        if len(order_ids) > 1:
            errors.append(
                {
                    "field": ["fulfillment"],
                    "message": "All fulfillment orders must belong to the same order.",
                }
            )
        if errors:
            return {"fulfillment": None, "userErrors": errors}
        for _, line, quantity in plan:
            line["remaining"] -= quantity
        for fo in {id(fo): fo for fo, _, _ in plan}.values():
            fo.status = (
                "CLOSED" if all(line["remaining"] == 0 for line in fo.lines) else "IN_PROGRESS"
            )
        made = self.shop.next_id()
        tracking = fulfillment.get("trackingInfo") or {}
        record = {
            "id": gid("Fulfillment", made),
            "order_id": next(iter(order_ids)),
            "status": "SUCCESS",
            "created_at": self.shop.stamp(),
            "lines": [{"sku": line["sku"], "quantity": q} for _, line, q in plan],
            "line_item_ids": [line["line_item_id"] for _, line, _ in plan],
            "trackingInfo": [tracking] if tracking else [],
        }
        self.shop.fulfilments[made] = record
        return {"fulfillment": record, "userErrors": []}

    def _inventory_set(self, info: Any, input: dict[str, Any]) -> Any:
        quantities = input["quantities"]
        if len(quantities) > SET_QUANTITIES_MAX:
            return {
                "inventoryAdjustmentGroup": None,
                "userErrors": [
                    {
                        "field": ["input", "quantities"],
                        "message": f"The quantities can't be more than {SET_QUANTITIES_MAX}.",
                        "code": "TOO_MANY_QUANTITIES",
                    }
                ],
            }
        errors = []
        ignore = bool(input.get("ignoreCompareQuantity"))
        for i, entry in enumerate(quantities):
            key = (entry["inventoryItemId"], entry["locationId"])
            if entry["inventoryItemId"] not in self.shop.items.values():
                errors.append(
                    {
                        "field": ["input", "quantities", str(i), "inventoryItemId"],
                        "message": "The specified inventory item could not be found.",
                        "code": "INVALID_INVENTORY_ITEM",
                    }
                )
            elif entry["locationId"] not in self.shop.locations:
                errors.append(
                    {
                        "field": ["input", "quantities", str(i), "locationId"],
                        "message": "The specified location could not be found.",
                        "code": "INVALID_LOCATION",
                    }
                )
            elif not ignore:
                if entry.get("compareQuantity") is None:
                    errors.append(
                        {
                            "field": ["input", "quantities", str(i), "compareQuantity"],
                            "message": "The compareQuantity argument must be given to each "
                            "quantity or ignored using ignoreCompareQuantity.",
                            "code": "COMPARE_QUANTITY_REQUIRED",
                        }
                    )
                elif self.shop.levels.get(key, 0) != entry["compareQuantity"]:
                    errors.append(
                        {
                            "field": ["input", "quantities", str(i), "compareQuantity"],
                            "message": "The compareQuantity argument no longer matches the "
                            "persisted quantity.",
                            "code": "COMPARE_QUANTITY_STALE",
                        }
                    )
        if errors:
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        for entry in quantities:
            self.shop.levels[(entry["inventoryItemId"], entry["locationId"])] = entry["quantity"]
        return {
            "inventoryAdjustmentGroup": {
                "id": gid("InventoryAdjustmentGroup", self.shop.next_id())
            },
            "userErrors": [],
        }

    def _refund_create(self, info: Any, input: dict[str, Any]) -> Any:
        """``refundCreate``: lines refunded no more than refundable, ``RETURN`` restocked at an
        existing location, money refunded (kind REFUND) against a successful sale or capture of
        the order, no more than is left of it, through the parent's gateway."""
        number = str(input["orderId"]).rsplit("/", 1)[-1]
        order = self.shop.orders.get(int(number)) if number.isdigit() else None
        if order is None:
            return _refused(["orderId"], "Order does not exist")
        refunded = self._refunded_units(order)
        by_id = {gid("LineItem", item.get("id")): item for item in order.get("line_items") or []}
        taken: dict[str, int] = {}
        lines = []
        for i, entry in enumerate(input.get("refundLineItems") or []):
            item = by_id.get(entry["lineItemId"])
            field_ = ["refundLineItems", str(i)]
            if item is None:
                return _refused([*field_, "lineItemId"], "Line item does not exist")
            restock = str(entry.get("restockType") or "NO_RESTOCK")
            location = entry.get("locationId")
            if restock in ("RETURN", "CANCEL") and location not in self.shop.locations:
                return _refused([*field_, "locationId"], "Location does not exist")
            left = int(item.get("quantity") or 0) - refunded.get(item.get("id"), 0)
            left -= taken.get(entry["lineItemId"], 0)
            if entry["quantity"] <= 0 or entry["quantity"] > left:
                return _refused(
                    [*field_, "quantity"], "Quantity cannot refund more items than were purchased."
                )
            taken[entry["lineItemId"]] = taken.get(entry["lineItemId"], 0) + entry["quantity"]
            lines.append((item, entry["quantity"], restock, location))
        own = self.shop.transactions.get(int(order["id"]), [])
        parents = {gid("OrderTransaction", t["id"]): t for t in own}
        spent = {
            t["parent_id"]: Decimal(0)
            for t in own
            if t["kind"] == "refund" and t.get("parent_id") is not None
        }
        for t in own:
            if t["kind"] == "refund" and t["status"] == "success" and t.get("parent_id"):
                spent[t["parent_id"]] += Decimal(str(t["amount"]))
        made: list[dict[str, Any]] = []
        for i, entry in enumerate(input.get("transactions") or []):
            field_ = ["transactions", str(i)]
            parent = parents.get(str(entry.get("parentId")))
            if entry["kind"] != "REFUND":
                return _refused([*field_, "kind"], "Kind must be refund.")
            if parent is None or parent["kind"] not in ("sale", "capture"):
                return _refused(
                    [*field_, "parentId"], "Parent transaction must be a successful sale or capture"
                )
            if entry["gateway"] != parent["gateway"]:
                return _refused([*field_, "gateway"], "Gateway must match the parent transaction")
            try:
                amount = Decimal(str(entry["amount"]))
            except InvalidOperation:
                return _refused([*field_, "amount"], "Amount is invalid")
            room = Decimal(str(parent["amount"])) - spent.get(parent["id"], Decimal(0))
            if amount <= 0 or amount > room:
                return _refused(
                    [*field_, "amount"],
                    f"Refund amount exceeds the refundable amount of {room:.2f}",
                )
            spent[parent["id"]] = spent.get(parent["id"], Decimal(0)) + amount
            made.append(
                {
                    "id": self.shop.next_id(),
                    "order_id": order["id"],
                    "kind": "refund",
                    "status": "success",
                    "amount": f"{amount:.2f}",
                    "currency": parent.get("currency"),
                    "gateway": parent["gateway"],
                    "parent_id": parent["id"],
                    "created_at": self.shop.stamp(),
                }
            )
        refund_id = self.shop.next_id()
        refund_lines = []
        for item, quantity, restock, location in lines:
            refund_lines.append(
                {
                    "id": self.shop.next_id(),
                    "quantity": quantity,
                    "line_item_id": item.get("id"),
                    "sku": item.get("sku"),
                    "restock_type": restock.lower(),
                    "location_id": None
                    if location is None
                    else int(str(location).rsplit("/", 1)[-1]),
                    "line_item": dict(item),
                }
            )
            sku_item = self.shop.items.get(str(item.get("sku")))
            if restock in ("RETURN", "CANCEL") and sku_item is not None:
                key = (sku_item, str(location))
                self.shop.levels[key] = self.shop.levels.get(key, 0) + quantity
        record = {
            "id": refund_id,
            "order_id": order["id"],
            "created_at": self.shop.stamp(),
            "note": input.get("note"),
            "restock": any(r in ("RETURN", "CANCEL") for _, _, r, _ in lines),
            "refund_line_items": refund_lines,
            "transactions": made,
            "order_adjustments": [],
        }
        order.setdefault("refunds", []).append(record)
        own.extend(made)
        captured = sum(
            (Decimal(str(t["amount"])) for t in own if t["kind"] in ("sale", "capture")),
            Decimal(0),
        )
        back = sum((Decimal(str(t["amount"])) for t in own if t["kind"] == "refund"), Decimal(0))
        if back > 0:
            order["financial_status"] = "refunded" if back >= captured else "partially_refunded"
        order["updated_at"] = self.shop.stamp()
        currency = str(order.get("currency") or self.shop.currency)
        return {
            "order": self._order_view(order),
            "refund": self._refund_view(record, currency),
            "userErrors": [],
        }

    def _order_cancel(
        self,
        info: Any,
        orderId: str,
        reason: str,
        refund: bool,
        restock: bool,
        notifyCustomer: bool | None = None,
        staffNote: str | None = None,
    ) -> Any:
        """``orderCancel``: an order with fulfilments, or cancelled already, is refused; else it
        is cancelled (Shopify does it in a job; here the job is done before the answer), its
        open fulfilment orders closed, captured money refunded when ``refund``, unfulfilled
        units restocked when ``restock``."""
        number = str(orderId).rsplit("/", 1)[-1]
        order = self.shop.orders.get(int(number)) if number.isdigit() else None

        def refused(message: str, code: str) -> dict[str, Any]:
            error = {"field": ["orderId"], "message": message, "code": code}
            return {"job": None, "orderCancelUserErrors": [error], "userErrors": []}

        if order is None:
            return refused("Order does not exist", "NOT_FOUND")
        if order.get("cancelled_at"):
            return refused("Order has already been cancelled", "INVALID")
        if any(f["order_id"] == int(order["id"]) for f in self.shop.fulfilments.values()):
            return refused("Cannot cancel an order with fulfilled items", "INVALID")
        for fo in self.shop.fulfilment_orders.values():
            if fo.order_id != int(order["id"]):
                continue
            for line in fo.lines:
                item = self.shop.items.get(str(line["sku"]))
                if restock and item is not None and line["remaining"] > 0:
                    key = (item, fo.location)
                    self.shop.levels[key] = self.shop.levels.get(key, 0) + line["remaining"]
            fo.status = "CLOSED"
        own = self.shop.transactions.get(int(order["id"]), [])
        if refund:
            for t in [t for t in own if t["kind"] in ("sale", "capture")]:
                back = sum(
                    (Decimal(str(r["amount"])) for r in own if r.get("parent_id") == t["id"]),
                    Decimal(0),
                )
                left = Decimal(str(t["amount"])) - back
                if left > 0:
                    own.append(
                        {
                            **t,
                            "id": self.shop.next_id(),
                            "kind": "refund",
                            "amount": f"{left:.2f}",
                            "parent_id": t["id"],
                            "created_at": self.shop.stamp(),
                        }
                    )
                    order["financial_status"] = "refunded"
        stamp = self.shop.stamp()
        order["cancelled_at"] = stamp
        order["cancel_reason"] = reason.lower()
        order["updated_at"] = stamp
        if staffNote:
            order["note"] = "\n".join(n for n in (order.get("note"), staffNote) if n)
        return {
            "job": {"id": gid("Job", self.shop.next_id()), "done": False},
            "orderCancelUserErrors": [],
            "userErrors": [],
        }


def _refused(field: list[str], message: str) -> dict[str, Any]:
    return {"order": None, "refund": None, "userErrors": [{"field": field, "message": message}]}
