"""Shopify's order (the webhook body, REST-shaped; a GraphQL order is brought to that shape by
:func:`from_graphql`) to the canonical :class:`~crossdock.model.Order`, and the facts kept beside
it (tags, note attributes, payment status, presentment currency, test flag).

Rules:

* lines by SKU: a line without a SKU is a problem naming the line; two lines of the same SKU at
  the same price are one canonical line (the canonical order has one line per SKU);
* ``taxes_included``: Shopify's prices then include tax; canonical prices are before tax, so the
  line's tax is taken out of its unit price (and out of the shipping price);
* the order is in the shop's currency (``currency``, the amounts without ``_set``); the
  customer's ``presentment_currency`` is kept beside it;
* the customer is Shopify's customer id, else the e-mail: the same buyer is one customer;
* nothing is guessed: a problem names the Shopify field (a JSON pointer) and the rule, and no
  canonical order is made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from crossdock.model import Order
from crossdock.model.codes import CURRENCY_CODES

__all__ = [
    "FieldProblem",
    "Mapped",
    "MappedRefund",
    "from_graphql",
    "map_order",
    "map_refund",
    "updated_at",
]

PLACES = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class FieldProblem:
    pointer: str
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.pointer}: {self.detail} ({self.rule})"


@dataclass(frozen=True)
class Mapped:
    order_id: str
    """Shopify's numeric order id (the natural key: ``external_ref``)."""
    name: str | None
    order: Order | None
    problems: list[FieldProblem]
    facts: dict[str, Any] = field(default_factory=dict)
    test: bool = False
    cancelled: bool = False
    updated_at: datetime | None = None


def updated_at(payload: dict[str, Any]) -> datetime | None:
    return _time(payload.get("updated_at"))


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _money(value: Any, pointer: str, problems: list[FieldProblem]) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool | float):
        value = str(value)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        problems.append(FieldProblem(pointer, "decimal", f"{str(value)[:40]!r} is not an amount"))
        return None
    if not number.is_finite():
        problems.append(FieldProblem(pointer, "decimal", "not a finite amount"))
        return None
    return number


def _sum(items: Any, key: str, pointer: str, problems: list[FieldProblem]) -> Decimal:
    total = Decimal(0)
    for i, item in enumerate(items or []):
        if isinstance(item, dict):
            total += _money(item.get(key), f"{pointer}/{i}/{key}", problems) or Decimal(0)
    return total


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _address(raw: Any, pointer: str, problems: list[FieldProblem]) -> dict[str, Any] | None:
    if not isinstance(raw, dict) or not any(raw.get(k) for k in ("address1", "city", "zip")):
        return None
    address = {
        "name": _text(raw.get("name"))
        or _text(" ".join(filter(None, (raw.get("first_name"), raw.get("last_name"))))),
        "company": _text(raw.get("company")),
        "street": _text(raw.get("address1")),
        "street2": _text(raw.get("address2")),
        "city": _text(raw.get("city")),
        "region": _text(raw.get("province_code")) or _text(raw.get("province")),
        "postal_code": _text(raw.get("zip")),
        "country": _text(raw.get("country_code")),
        "phone": _text(raw.get("phone")),
    }
    for key, name in (("street", "address1"), ("city", "city"), ("country", "country_code")):
        if address[key] is None:
            problems.append(FieldProblem(f"{pointer}/{name}", "required", "the address lacks it"))
    if address["postal_code"] is None:
        problems.append(
            FieldProblem(f"{pointer}/zip", "required", "the address has no postal code")
        )
    return {k: v for k, v in address.items() if v is not None}


def _customer(payload: dict[str, Any], system: str, problems: list[FieldProblem]) -> dict[str, Any]:
    raw = payload.get("customer") if isinstance(payload.get("customer"), dict) else {}
    assert isinstance(raw, dict)
    email = _text(raw.get("email")) or _text(payload.get("email"))
    shopify_id = raw.get("id")
    if shopify_id is not None:
        ref = f"customer:{shopify_id}"
    elif email is not None:
        ref = f"email:{email.lower()}"
    else:
        problems.append(
            FieldProblem("/customer", "required", "neither a Shopify customer id nor an e-mail")
        )
        ref = "unknown"
    billing = (
        payload.get("billing_address") if isinstance(payload.get("billing_address"), dict) else {}
    )
    assert isinstance(billing, dict)
    name = (
        _text(" ".join(filter(None, (raw.get("first_name"), raw.get("last_name")))))
        or _text(billing.get("name"))
        or email
        or ref
    )
    customer: dict[str, Any] = {"external_ref": ref, "source": system, "name": name}
    if email:
        customer["email"] = email
    if raw.get("id") is not None:
        customer["refs"] = {system: str(shopify_id)}
    address = _address(raw.get("default_address"), "/customer/default_address", [])
    if address is not None:
        customer["address"] = address
    return customer


def _lines(payload: dict[str, Any], problems: list[FieldProblem]) -> list[dict[str, Any]]:
    items = payload.get("line_items")
    if not isinstance(items, list) or not items:
        problems.append(FieldProblem("/line_items", "min_items", "the order has no line items"))
        return []
    taxes_included = payload.get("taxes_included") is True
    by_sku: dict[str, dict[str, Any]] = {}
    for i, item in enumerate(items):
        at = f"/line_items/{i}"
        if not isinstance(item, dict):
            problems.append(FieldProblem(at, "object", "a line item must be an object"))
            continue
        sku = _text(item.get("sku"))
        if sku is None:
            what = (
                _text(item.get("name"))
                or _text(item.get("title"))
                or f"variant {item.get('variant_id')}"
            )
            problems.append(FieldProblem(f"{at}/sku", "required", f"{what} has no SKU"))
            continue
        quantity = item.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            problems.append(
                FieldProblem(
                    f"{at}/quantity", "positive", f"{sku}: quantity {quantity!r} must be > 0"
                )
            )
            continue
        price = _money(item.get("price"), f"{at}/price", problems)
        if price is None or price < 0:
            problems.append(
                FieldProblem(f"{at}/price", "non_negative", f"{sku}: no valid unit price")
            )
            continue
        allocations = item.get("discount_allocations")
        if isinstance(allocations, list) and allocations:
            discount = _sum(allocations, "amount", f"{at}/discount_allocations", problems)
        else:
            discount = _money(
                item.get("total_discount"), f"{at}/total_discount", problems
            ) or Decimal(0)
        tax = _sum(item.get("tax_lines"), "price", f"{at}/tax_lines", problems)
        unit = price
        if taxes_included and tax:
            unit = ((price * quantity - tax) / quantity).quantize(PLACES)
        line = by_sku.get(sku)
        if line is not None:
            if line["unit_price"] != unit:
                problems.append(
                    FieldProblem(
                        f"{at}/sku", "unique", f"{sku} is on two lines at different prices"
                    )
                )
                continue
            line["quantity"] += quantity
            line["discount_amount"] += discount
            line["tax_amount"] += tax
            continue
        by_sku[sku] = {
            "line_ref": str(item.get("id")) if item.get("id") is not None else None,
            "sku": sku,
            "name": _text(item.get("name")) or _text(item.get("title")),
            "quantity": quantity,
            "unit_price": unit,
            "discount_amount": discount,
            "tax_amount": tax,
        }
    lines = []
    for line in by_sku.values():
        line["quantity"] = Decimal(line["quantity"])
        for key in ("discount_amount", "tax_amount"):
            if not line[key]:
                line[key] = None
        lines.append({k: v for k, v in line.items() if v is not None})
    return lines


def map_order(system: str, payload: dict[str, Any], *, locations: dict[str, str]) -> Mapped:
    """Map one Shopify order. ``locations``: warehouse by location gid (an order placed at an
    unmapped location is a problem naming it)."""
    problems: list[FieldProblem] = []
    order_id = str(payload.get("id") or "").strip()
    if not order_id:
        problems.append(FieldProblem("/id", "required", "the order has no id"))
    currency = _text(payload.get("currency"))
    if currency is None or currency.upper() not in CURRENCY_CODES:
        problems.append(
            FieldProblem("/currency", "currency", f"{currency!r} is not an ISO 4217 code")
        )
    location = payload.get("location_id")
    if location is not None and f"gid://shopify/Location/{location}" not in locations:
        problems.append(
            FieldProblem(
                "/location_id",
                "mapped_location",
                f"location {location} is not mapped to a warehouse",
            )
        )
    lines = _lines(payload, problems)
    customer = _customer(payload, system, problems)
    taxes_included = payload.get("taxes_included") is True
    shipping_lines = payload.get("shipping_lines") or []
    shipping = _sum(shipping_lines, "price", "/shipping_lines", problems)
    shipping_discount = _sum(
        [
            a
            for s in shipping_lines
            if isinstance(s, dict)
            for a in s.get("discount_allocations") or []
        ],
        "amount",
        "/shipping_lines/discount_allocations",
        problems,
    )
    if taxes_included:
        shipping -= sum(
            (
                _sum(s.get("tax_lines"), "price", "/shipping_lines/tax_lines", problems)
                for s in shipping_lines
                if isinstance(s, dict)
            ),
            Decimal(0),
        )
    total_discounts = _money(
        payload.get("total_discounts"), "/total_discounts", problems
    ) or Decimal(0)
    line_discounts = sum((line.get("discount_amount", Decimal(0)) for line in lines), Decimal(0))
    order_discount = total_discounts - line_discounts - shipping_discount
    tags = [t.strip() for t in str(payload.get("tags") or "").split(",") if t.strip()]
    note_attributes = {
        str(a.get("name")): a.get("value")
        for a in payload.get("note_attributes") or []
        if isinstance(a, dict) and a.get("name")
    }
    facts: dict[str, Any] = {
        "shopify_order_id": order_id,
        "name": payload.get("name"),
        "tags": tags,
        "note_attributes": note_attributes,
        "financial_status": payload.get("financial_status"),
        "fulfillment_status": payload.get("fulfillment_status"),
        "shop_currency": currency,
        "presentment_currency": payload.get("presentment_currency") or currency,
        "taxes_included": taxes_included,
        "test": payload.get("test") is True,
        "source_name": payload.get("source_name"),
        "location_id": location,
    }
    mapped_at = updated_at(payload)
    cancelled = payload.get("cancelled_at") is not None
    if problems:
        return Mapped(
            order_id,
            payload.get("name"),
            None,
            problems,
            facts,
            facts["test"],
            cancelled,
            mapped_at,
        )
    shipping_method = next(
        (
            _text(s.get("title")) or _text(s.get("code"))
            for s in shipping_lines
            if isinstance(s, dict)
        ),
        None,
    )
    data: dict[str, Any] = {
        "channel": system,
        "external_ref": order_id,
        "currency": currency,
        "customer": customer,
        "lines": lines,
        "ordered_at": payload.get("created_at") or payload.get("processed_at"),
        "customer_reference": _text(payload.get("name")),
        "shipping_address": _address(
            payload.get("shipping_address"), "/shipping_address", problems
        ),
        "billing_address": _address(payload.get("billing_address"), "/billing_address", problems),
        "shipping_method": shipping_method,
        "shipping_amount": shipping - shipping_discount if shipping_lines else None,
        "discount_amount": order_discount if order_discount > 0 else None,
        "tax_amount": _money(payload.get("total_tax"), "/total_tax", problems),
        "total_amount": _money(payload.get("total_price"), "/total_price", problems),
        "note": _text(payload.get("note")),
    }
    if data["shipping_amount"] is not None and data["shipping_amount"] < 0:
        data["shipping_amount"] = Decimal(0)
    data = {k: v for k, v in data.items() if v is not None}
    if problems:
        return Mapped(
            order_id,
            payload.get("name"),
            None,
            problems,
            facts,
            facts["test"],
            cancelled,
            mapped_at,
        )
    try:
        order = Order.model_validate(data)
    except ValidationError as exc:
        problems = [
            FieldProblem(
                "/" + "/".join(str(p) for p in error["loc"]),
                error["type"],
                error["msg"],
            )
            for error in exc.errors()
        ]
        return Mapped(
            order_id,
            payload.get("name"),
            None,
            problems,
            facts,
            facts["test"],
            cancelled,
            mapped_at,
        )
    return Mapped(
        order_id, payload.get("name"), order, [], facts, facts["test"], cancelled, mapped_at
    )


def _money_of(value: Any) -> Any:
    """A GraphQL ``MoneyBag``'s shop amount."""
    if isinstance(value, dict):
        shop = value.get("shopMoney") or {}
        return shop.get("amount")
    return None


def _legacy(gid: Any) -> int | None:
    if isinstance(gid, str) and gid.rsplit("/", 1)[-1].isdigit():
        return int(gid.rsplit("/", 1)[-1])
    return None


def _address_of(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    return {
        "name": raw.get("name"),
        "first_name": raw.get("firstName"),
        "last_name": raw.get("lastName"),
        "company": raw.get("company"),
        "address1": raw.get("address1"),
        "address2": raw.get("address2"),
        "city": raw.get("city"),
        "province": raw.get("province"),
        "province_code": raw.get("provinceCode"),
        "zip": raw.get("zip"),
        "country_code": raw.get("countryCodeV2") or raw.get("countryCode"),
        "phone": raw.get("phone"),
    }


def _nodes(connection: Any) -> list[dict[str, Any]]:
    if not isinstance(connection, dict):
        return []
    if "nodes" in connection:
        return [n for n in connection["nodes"] or [] if isinstance(n, dict)]
    return [e["node"] for e in connection.get("edges") or [] if isinstance(e, dict) and "node" in e]


def from_graphql(node: dict[str, Any]) -> dict[str, Any]:
    """A GraphQL ``Order`` (as the pull's query selects it) in the webhook's REST shape, so that
    pulled and pushed orders go through the same mapping."""
    customer = node.get("customer") if isinstance(node.get("customer"), dict) else None
    lines = []
    for item in _nodes(node.get("lineItems")):
        lines.append(
            {
                "id": _legacy(item.get("id")),
                "sku": item.get("sku"),
                "name": item.get("name"),
                "title": item.get("title"),
                "quantity": item.get("quantity"),
                "price": _money_of(item.get("originalUnitPriceSet")),
                "total_discount": _money_of(item.get("totalDiscountSet")),
                "discount_allocations": [
                    {"amount": _money_of(a.get("allocatedAmountSet"))}
                    for a in item.get("discountAllocations") or []
                ],
                "tax_lines": [
                    {"price": _money_of(t.get("priceSet"))} for t in item.get("taxLines") or []
                ],
                "variant_id": _legacy((item.get("variant") or {}).get("id")),
            }
        )
    shipping = [
        {
            "title": s.get("title"),
            "code": s.get("code"),
            "price": _money_of(s.get("originalPriceSet")),
            "tax_lines": [{"price": _money_of(t.get("priceSet"))} for t in s.get("taxLines") or []],
        }
        for s in _nodes(node.get("shippingLines"))
    ]
    return {
        "id": node.get("legacyResourceId") or _legacy(node.get("id")),
        "admin_graphql_api_id": node.get("id"),
        "name": node.get("name"),
        "email": node.get("email"),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "cancelled_at": node.get("cancelledAt"),
        "currency": node.get("currencyCode"),
        "presentment_currency": node.get("presentmentCurrencyCode"),
        "taxes_included": node.get("taxesIncluded"),
        "test": node.get("test"),
        "note": node.get("note"),
        "tags": ", ".join(node.get("tags") or []),
        "note_attributes": [
            {"name": a.get("key"), "value": a.get("value")}
            for a in node.get("customAttributes") or []
        ],
        "financial_status": str(node.get("displayFinancialStatus") or "").lower() or None,
        "fulfillment_status": str(node.get("displayFulfillmentStatus") or "").lower() or None,
        "total_price": _money_of(node.get("totalPriceSet")),
        "total_tax": _money_of(node.get("totalTaxSet")),
        "total_discounts": _money_of(node.get("totalDiscountsSet")),
        "customer": None
        if customer is None
        else {
            "id": _legacy(customer.get("id")),
            "email": customer.get("email"),
            "first_name": customer.get("firstName"),
            "last_name": customer.get("lastName"),
            "default_address": _address_of(customer.get("defaultAddress")),
        },
        "billing_address": _address_of(node.get("billingAddress")),
        "shipping_address": _address_of(node.get("shippingAddress")),
        "line_items": lines,
        "shipping_lines": shipping,
    }


OWN_REFUND = "[crossdock:"
"""What the note of a refund made by the hub carries (with its key): its webhook is the hub's
own write coming back."""


@dataclass(frozen=True)
class MappedRefund:
    """A Shopify refund (the ``refunds/create`` body): the units refunded by SKU, those of
    delivered goods (a return) apart from those cancelled before shipping (``restock_type``
    ``cancel``), and the money paid back."""

    refund_id: str
    order_id: str
    note: str | None
    returned: dict[str, Decimal]
    cancelled: dict[str, Decimal]
    amount: Decimal
    currency: str | None
    problems: list[FieldProblem]
    ours: bool


def map_refund(payload: dict[str, Any]) -> MappedRefund:
    problems: list[FieldProblem] = []
    refund_id = str(payload.get("id") or "")
    order_id = str(payload.get("order_id") or "")
    if not refund_id:
        problems.append(FieldProblem("/id", "required", "the refund has no id"))
    if not order_id:
        problems.append(FieldProblem("/order_id", "required", "the refund names no order"))
    returned: dict[str, Decimal] = {}
    cancelled: dict[str, Decimal] = {}
    for i, line in enumerate(payload.get("refund_line_items") or []):
        item = line.get("line_item") if isinstance(line.get("line_item"), dict) else {}
        sku = str(item.get("sku") or "").strip()
        if not sku:
            problems.append(
                FieldProblem(
                    f"/refund_line_items/{i}/line_item/sku",
                    "sku_required",
                    f"line item {line.get('line_item_id')} has no SKU",
                )
            )
            continue
        quantity = _decimal(line.get("quantity"))
        if quantity is None or quantity <= 0 or quantity != quantity.to_integral_value():
            problems.append(
                FieldProblem(
                    f"/refund_line_items/{i}/quantity",
                    "positive_integer",
                    f"{line.get('quantity')!r} is not a positive whole quantity",
                )
            )
            continue
        into = cancelled if line.get("restock_type") == "cancel" else returned
        into[sku] = into.get(sku, Decimal(0)) + quantity
    amount = Decimal(0)
    currency = None
    for t in payload.get("transactions") or []:
        if t.get("kind") == "refund" and t.get("status") == "success":
            amount += _decimal(t.get("amount")) or Decimal(0)
            currency = currency or (str(t["currency"]) if t.get("currency") else None)
    note = payload.get("note")
    return MappedRefund(
        refund_id,
        order_id,
        str(note) if note is not None else None,
        returned,
        cancelled,
        amount,
        currency,
        problems,
        OWN_REFUND in str(note or ""),
    )


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
