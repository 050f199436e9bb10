"""The event catalog: every event type the hub emits or accepts, with its version, JSON Schema
(of `data`), producer, consumers, owner and description.

A type's schema describes `data` of the CloudEvents envelope. Schemas of canonical objects are
embedded from `crossdock.model` (their `$defs` hoisted to the root), so a change to a canonical
object shows up in the schema check of every event that carries it. Adding an event type means
adding an entry here; raising `version` is what allows a backward-incompatible change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from crossdock.model import Order, PurchaseOrder, Shipment
from crossdock.model.base import CanonicalObject

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True)
class EventType:
    name: str
    version: int
    schema: dict[str, Any]
    producer: str
    consumers: tuple[str, ...]
    owner: str
    description: str
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def domain(self) -> str:
        return self.name.split(".", 1)[0]

    def document(self) -> dict[str, Any]:
        """The schema as stored in `schemas/events/<name>.v<version>.json`."""
        return {
            "$schema": JSON_SCHEMA_DIALECT,
            "$id": f"urn:crossdock:event:{self.name}:v{self.version}",
            "title": self.name,
            "description": self.description,
            **self.schema,
            "x-schema-name": self.name,
            "x-version": self.version,
        }


def _data(
    required: Mapping[str, Any],
    optional: Mapping[str, Any] | None = None,
    *,
    objects: Mapping[str, type[CanonicalObject]] | None = None,
) -> dict[str, Any]:
    """An object schema: required and optional properties, canonical objects embedded."""
    properties: dict[str, Any] = {**required, **(optional or {})}
    defs: dict[str, Any] = {}
    for name, model in (objects or {}).items():
        embedded = model.model_json_schema(mode="validation")
        defs.update(embedded.pop("$defs", {}))
        properties[name] = embedded
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": sorted([*required, *(objects or {})]),
        "additionalProperties": True,
    }
    if defs:
        schema["$defs"] = dict(sorted(defs.items()))
    return schema


STR = {"type": "string"}
ORDER_ID = {"order_id": {"type": "string", "description": "The hub's order id."}}
# What the channel's people know an order by: every event about an order carries it (version 2
# of the hub's own order events made it required; events a channel or warehouse may send in,
# through an inbound webhook, have it as an optional field so their senders are not broken).
ORDER_REFS = {
    "channel": {"type": "string", "description": "The sales channel the order came from."},
    "external_ref": {"type": "string", "description": "The channel's own order number."},
}
ORDER = {**ORDER_ID, **ORDER_REFS}
O2C = "flows.order_to_cash"
WEBHOOKS = "webhooks"

INVENTORY = "flows.inventory"
_QTY = {"type": "string", "description": "A decimal quantity as text."}
_SKU_CHANNEL = {"channel": STR, "sku": STR}
INVENTORY_TYPES: tuple[EventType, ...] = (
    EventType(
        "inventory.available", 1,
        _data(
            {**_SKU_CHANNEL, "available": _QTY},
            {"previous": {"type": ["string", "null"]}, "unit": STR, "on_hand": _QTY,
             "reserved": _QTY, "buffer": _QTY},
        ),
        INVENTORY, (WEBHOOKS,), "stock",
        "A channel's available-to-promise of a SKU changed (published only on a change).",
    ),
    EventType(
        "inventory.low", 1,
        _data({**_SKU_CHANNEL, "available": _QTY}, {"threshold": _QTY, "unit": STR}),
        INVENTORY, (WEBHOOKS,), "stock",
        "A channel's availability of a SKU fell to or below its reorder threshold.",
    ),
    EventType(
        "inventory.restored", 1,
        _data(
            {**_SKU_CHANNEL, "available": _QTY},
            {"threshold": {"type": ["string", "null"]}, "unit": STR},
        ),
        INVENTORY, (WEBHOOKS,), "stock",
        "A channel's availability of a SKU rose back above its reorder threshold.",
    ),
    EventType(
        "inventory.sync_requested", 1,
        _data(
            {"reason": STR},
            {"publish": {"type": "array", "items": STR}, "erp": {"type": "boolean"},
             "sweep": {"type": "boolean"}},
        ),
        "api.inventory, flows.inventory", (INVENTORY,), "stock",
        "Internal: stock or reservations changed; the inventory sync loop has work.",
    ),
    EventType(
        "inventory.tick", 1,
        _data(
            {"schedule": STR, "tick": STR},
            {"channel": STR, "erp": {"type": "boolean"}, "sweep": {"type": "boolean"}},
        ),
        "scheduler", (INVENTORY,), "stock",
        "Internal: a schedule of the inventory flow fired (batch publication, ERP writes, sweep).",
    ),
)  # fmt: skip

RETURNS = "flows.returns"
_RMA = {
    "rma": {"type": "string", "description": "The hub's return authorisation number."},
    "channel": STR,
    "return_ref": {"type": "string", "description": "The channel's own return reference."},
    "order": {
        "type": "object",
        "description": "The order returned from: the hub's `id`, the channel's `external_ref`.",
        "properties": {"id": STR, "external_ref": {"type": ["string", "null"]}},
        "required": ["id"],
    },
}
_RMA_MORE = {
    "outcome": {"enum": ["refund", "credit", "exchange"]},
}
_ARRAY = {"type": "array"}
RETURNS_TYPES: tuple[EventType, ...] = (
    EventType(
        "return.requested", 1,
        _data({**_RMA, "lines": _ARRAY}, {**_RMA_MORE, "amount": _QTY, "currency": STR,
                                         "approval_required": {"type": "boolean"}}),
        "api.returns (POST /v1/returns)", (RETURNS, WEBHOOKS), "returns",
        "A return was accepted under the channel's rules (or waits for customer service's "
        "approval); the flow authorises it in the ERP.",
    ),
    EventType(
        "return.authorized", 1,
        _data({**_RMA, "pickings": {"type": "array", "items": STR}}, {**_RMA_MORE,
                                                                      "lines": _ARRAY}),
        RETURNS, (WEBHOOKS,), "returns",
        "The return picking exists in the ERP: the RMA number is the customer's and the "
        "warehouse's reference for the parcel.",
    ),
    EventType(
        "return.receipt_confirmed", 1,
        _data({**_RMA, "receipt": {"type": "object"}}, _RMA_MORE),
        "api.returns (POST /v1/returns/{rma}/receipt)", (RETURNS, WEBHOOKS), "returns",
        "The warehouse received and inspected a return (quantity, condition and disposition "
        "per line).",
    ),
    EventType(
        "return.received", 1,
        _data({**_RMA, "accepted": {"type": "object"}},
              {**_RMA_MORE, "lines": _ARRAY, "short": {"type": "object"},
               "unexpected": {"type": "object"}}),
        RETURNS, (WEBHOOKS,), "returns",
        "The return picking was validated in the ERP and inspected goods restocked, "
        "quarantined or scrapped.",
    ),
    EventType(
        "return.refunded", 1,
        _data({**_RMA, "credit_notes": {"type": "array", "items": {"type": "object"}}},
              {**_RMA_MORE, "total": _QTY, "currency": STR}),
        RETURNS, (WEBHOOKS,), "returns",
        "A credit note for the received goods was posted: the shop refunds the customer.",
    ),
    EventType(
        "return.credited", 1,
        _data({**_RMA, "credit_notes": {"type": "array", "items": {"type": "object"}}},
              {**_RMA_MORE, "total": _QTY, "currency": STR}),
        RETURNS, (WEBHOOKS,), "returns",
        "A credit note for the received goods was posted and stays as the customer's credit.",
    ),
    EventType(
        "return.exchanged", 1,
        _data({**_RMA, "replacement": {"type": "object"}}, _RMA_MORE),
        RETURNS, (WEBHOOKS,), "returns",
        "A replacement order for the received goods was accepted into order to cash.",
    ),
    EventType(
        "return.rejected", 1,
        _data(_RMA, {**_RMA_MORE, "by": {"type": ["string", "null"]},
                     "note": {"type": ["string", "null"]}}),
        RETURNS, (WEBHOOKS,), "returns",
        "Customer service refused a return that needed approval.",
    ),
    EventType(
        "return.exception", 1,
        _data({**_RMA, "exception_id": STR, "type": STR},
              {**_RMA_MORE, "owner": STR, "reason": STR, "actions": _ARRAY}),
        "api.returns, " + RETURNS, (WEBHOOKS,), "returns",
        "A return waits for a person: approval above the channel's amount, a short or "
        "unexpected parcel, or a document the ERP refused.",
    ),
)  # fmt: skip

PAYMENTS = "flows.payments"
_AMOUNT = {"type": "string", "description": "A decimal amount as text."}
_PAYMENT = {
    "payment_id": {"type": "string", "description": "The hub's key: <source>:<id at the source>."},
    "source": STR, "kind": {"enum": ["captured", "failed", "refunded", "chargeback"]},
    "amount": _AMOUNT, "currency": STR,
}
_PAYMENT_MORE = {
    "reference": {"type": ["string", "null"]}, "customer": {"type": ["string", "null"]},
}
PAYMENT_TYPES: tuple[EventType, ...] = (
    EventType(
        "payment.reported", 1,
        _data({"payment": {"type": "object"}}, {"statement_id": {"type": ["string", "null"]}}),
        "api.payments (gateways, statements)", (PAYMENTS,), "payments",
        "Internal: a gateway's verified webhook or a bank statement entry reported a payment.",
    ),
    EventType(
        "payment.rematch", 1,
        _data({"payment": {"type": "object"}}, {"reason": STR}),
        PAYMENTS, (PAYMENTS,), "payments",
        "Internal: a payment that matched nothing, or several invoices, is matched again (its "
        "exception resolved with rematch, or a new invoice or credit note that may be its).",
    ),
    EventType(
        "payment.received", 1,
        _data(
            {**_PAYMENT, "invoice": STR, "applied": _AMOUNT},
            {**_PAYMENT_MORE, "difference": _AMOUNT,
             "state": {"enum": ["registered", "partial", "overpaid"]}},
        ),
        PAYMENTS, (WEBHOOKS,), "payments",
        "A payment was registered in the ERP against its invoice (fully, partly or overpaid).",
    ),
    EventType(
        "payment.failed", 1, _data({**_PAYMENT, "reason": STR}, _PAYMENT_MORE),
        PAYMENTS, (WEBHOOKS,), "payments",
        "A gateway reported a failed payment attempt (declined): nothing was registered.",
    ),
    EventType(
        "invoice.paid", 1,
        _data(
            {"invoice": STR, "currency": STR, "amount_total": _AMOUNT},
            {"customer": STR, "payment_ids": {"type": "array", "items": STR}},
        ),
        PAYMENTS, (WEBHOOKS,), "invoices",
        "The customer invoice is fully paid in the ERP (by the payments named).",
    ),
)  # fmt: skip

# What a schedule's event adds to its data (`crossdock.engine` Schedule): absent when the same
# request is appended by the API or by another flow.
_TICK = {
    "schedule": {"type": "string", "description": "The schedule that fired (when one did)."},
    "tick": {"type": "string", "description": "The tick it fired for (RFC 3339)."},
}
_BY = {"by": {"type": "string", "description": "Who asked: `schedule`, or `token:<name>`."}}


def _object(model: type[CanonicalObject]) -> dict[str, Any]:
    """The schema of `data` that is the canonical object itself (its `$defs` at the root)."""
    schema = model.model_json_schema(mode="validation")
    for key in ("title", "description"):
        schema.pop(key, None)
    schema["additionalProperties"] = True
    if "$defs" in schema:
        schema["$defs"] = dict(sorted(schema["$defs"].items()))
    return schema


_COUNT = {"type": "integer", "minimum": 0}
_SKU_QTY = {
    "type": "object", "additionalProperties": _QTY, "description": "Quantity per SKU.",
}
_DELTA = {
    "type": "object",
    "additionalProperties": {
        "type": "object", "properties": {"from": _QTY, "to": _QTY}, "required": ["from", "to"],
    },
}
ORDER_CHANGE_TYPES: tuple[EventType, ...] = (
    EventType(
        "order.change_requested", 1,
        _data(ORDER_ID, {**ORDER_REFS, "reason": STR, "by": STR}, objects={"order": Order}),
        "flows.shopify (an order edited in the shop), inbound webhooks", (O2C,), "orders",
        "The channel changed an accepted order (its new version in `order`); the flow changes "
        "the sale order in the ERP, or asks a person once the warehouse may be picking it.",
    ),
    EventType(
        "order.changed", 1,
        _data(
            {**ORDER, "reason": STR, "by": STR, "changed": _DELTA, "added": _SKU_QTY,
             "removed": _SKU_QTY},
            {"sale_orders": {"type": "array", "items": {"type": "object"}}},
        ),
        O2C, (WEBHOOKS,), "orders",
        "An order's lines were changed as the channel asked (in the ERP's sale order too when "
        "it had reached it): quantities changed from/to, lines added and removed per SKU.",
    ),
)  # fmt: skip

SHOPIFY = "flows.shopify"
_SHOPIFY_RECEIVED = {
    "system": {"type": "string", "description": "The configured Shopify system."},
    "topic": {"type": "string", "description": "The Shopify webhook topic (`orders/create`)."},
    "via": {"enum": ["webhook", "pull"]},
}
SCHEDULED_TYPES: tuple[EventType, ...] = (
    EventType(
        "shopify.pull_due", 1, _data({"system": STR}, _TICK),
        "scheduler", (SHOPIFY,), "orders",
        "Internal: pull the shop's orders changed since the last pull (its schedule fired), "
        "catching what a lost webhook missed.",
    ),
    EventType(
        "shopify.order_received", 1,
        _data({**_SHOPIFY_RECEIVED, "order": {"type": "object",
                                              "description": "Shopify's order resource as sent."}}),
        "api.shopify (webhooks), " + SHOPIFY + " (pull)", (SHOPIFY,), "orders",
        "Internal: a version of a Shopify order as received (verified webhook or pull), "
        "mapped into order to cash by the flow.",
    ),
    EventType(
        "shopify.refund_received", 1,
        _data({**_SHOPIFY_RECEIVED, "refund": {"type": "object",
                                               "description": "Shopify's refund resource."}}),
        "api.shopify (webhooks)", (SHOPIFY,), "returns",
        "Internal: a refund made in Shopify itself (verified webhook), matched to its order.",
    ),
    EventType(
        "edi.poll_requested", 1, _data({"partner": STR}, _TICK),
        "scheduler", ("flows.edi",), "integration",
        "Internal: poll a trading partner's mailbox (SFTP/AS2 drop) for new interchanges.",
    ),
    EventType(
        "payments.statements_due", 1, _data({}, _TICK),
        "scheduler", (PAYMENTS,), "payments",
        "Internal: pick up the bank statement files in the statements folder.",
    ),
    EventType(
        "payments.stripe_catchup_due", 1, _data({"gateway": STR}, {**_TICK, **_BY}),
        "scheduler, api.payments", ("webhooks.stripe_catchup",), "payments",
        "Internal: list a Stripe gateway's events since the last run and take in those missed.",
    ),
    EventType(
        "edi.as2_mdn_due", 1,
        _data(
            {
                "partner": STR,
                "mdn": _data(
                    {
                        "url": {"type": "string", "description": "Receipt-Delivery-Option."},
                        "original_message_id": {
                            "type": "string", "description": "The message answered.",
                        },
                        "disposition": {
                            "type": "string", "description": "processed, or processed/error.",
                        },
                        "signed": {"type": "boolean"},
                        "digest": {"type": "string", "description": "MIC algorithm."},
                    },
                    {"mic": {"type": ["string", "null"]}, "text": STR},
                ),
            }
        ),
        "api.as2", ("flows.edi.as2_mdns",), "integration",
        "Internal: an asynchronous MDN owed to an AS2 partner, posted to its URL.",
    ),
)  # fmt: skip

FORECASTING = "flows.procurement.forecasting"
PROCUREMENT = "flows.procurement"
_VERSION = {
    "version_id": {"type": "string", "description": "The forecast version's id."},
    "version": {"type": "integer", "description": "Its number, rising per import."},
    "import_id": {"type": "string", "description": "The sender's id of the import."},
    "source": {"type": "string", "description": "Who sent it (`baseline` when the hub made it)."},
    "lines_applied": _COUNT,
    "lines_rejected": _COUNT,
}
_PURCHASE_MESSAGE = {
    "ref": {"type": "string", "description": "The purchase order (its recommendation's ref)."},
    "message_id": {"type": "string", "description": "The hub's id of the supplier's message."},
}
PROCUREMENT_TYPES: tuple[EventType, ...] = (
    EventType(
        "forecasting.export_requested", 1, _data(_BY, _TICK),
        "scheduler, api.forecasts", (FORECASTING,), "purchasing",
        "Internal: export the demand history since the last export (file or signed push).",
    ),
    EventType(
        "forecasting.baseline_requested", 1, _data(_BY, _TICK),
        "scheduler, api.forecasts", (FORECASTING,), "purchasing",
        "Internal: compute the hub's baseline forecast from the demand history.",
    ),
    EventType(
        "forecasting.drop_scan", 1, _data(_BY, _TICK),
        "scheduler", (FORECASTING,), "purchasing",
        "Internal: look for forecast files dropped in the import folder.",
    ),
    EventType(
        "forecast.imported", 1, _data(_VERSION),
        FORECASTING, (FORECASTING, WEBHOOKS), "purchasing",
        "A forecast was received and stored as a new version; its SKUs are checked next.",
    ),
    EventType(
        "forecast.applied", 1, _data(_VERSION),
        FORECASTING, (WEBHOOKS,), "purchasing",
        "A forecast version is in force: replenishment uses it (rejected lines reported).",
    ),
    EventType(
        "forecast.rejected", 1, _data(_VERSION),
        FORECASTING, (WEBHOOKS,), "purchasing",
        "A forecast version was refused (bad lines under the all-or-nothing policy, or unknown "
        "SKUs): the version in force stays.",
    ),
    EventType(
        "procurement.recommend_requested", 1, _data(_BY, _TICK),
        "scheduler, api.replenishment", (PROCUREMENT,), "purchasing",
        "Internal: compute replenishment recommendations now.",
    ),
    EventType(
        "procurement.approved", 1,
        _data({"recommendation_id": STR, "ref": STR, "by": STR}),
        "api.replenishment, " + PROCUREMENT + " (automatic under the threshold)",
        (PROCUREMENT, WEBHOOKS), "purchasing",
        "A recommendation was approved; the flow creates and confirms its purchase order.",
    ),
    EventType(
        "purchase.ordered", 1, _object(PurchaseOrder),
        PROCUREMENT, ("flows.edi (850)", WEBHOOKS), "purchasing",
        "A purchase order was created (and confirmed) in the ERP: the canonical purchase order, "
        "`refs` naming the ERP's order, status `sent` — what a supplier's subscription receives.",
    ),
    EventType(
        "purchase.acknowledged", 1, _data(_PURCHASE_MESSAGE),
        "api.purchase_orders, flows.edi (855)", (PROCUREMENT, WEBHOOKS), "purchasing",
        "The supplier acknowledged a purchase order (accepted, changed or rejected lines); "
        "the flow applies the changes to the ERP per policy.",
    ),
    EventType(
        "purchase.shipped", 1, _data(_PURCHASE_MESSAGE),
        "api.purchase_orders, flows.edi (856)", (WEBHOOKS,), "purchasing",
        "An advance ship notice was received: the expected receipt (lots, serials, dates).",
    ),
    EventType(
        "purchase.receipt_posted", 1, _data(_PURCHASE_MESSAGE),
        "api.purchase_orders (warehouse)", (PROCUREMENT,), "purchasing",
        "Internal: the warehouse posted a receipt; the flow reconciles it with the notice and "
        "the order and validates the ERP's receipt.",
    ),
    EventType(
        "purchase.received", 1,
        _data(
            {"purchase_order": STR, "erp_name": {"type": ["string", "null"]}, "warehouse": STR,
             "received": _SKU_QTY, "backorder": {"type": "boolean"}},
        ),
        PROCUREMENT, (WEBHOOKS,), "purchasing",
        "Goods of a purchase order were received and validated in the ERP (quantities per SKU; "
        "`backorder` when some remain open).",
    ),
    EventType(
        "purchase.bill_posted", 1, _data(_PURCHASE_MESSAGE),
        "api.purchase_orders, flows.edi (810)", (PROCUREMENT,), "purchasing",
        "Internal: a supplier's invoice was posted; the flow matches it three ways and makes "
        "the vendor bill, or opens an exception for accounts payable.",
    ),
    EventType(
        "purchase.cost_bill_posted", 1, _data(_PURCHASE_MESSAGE),
        "api.purchase_orders (landed-costs)", (PROCUREMENT,), "purchasing",
        "Internal: a carrier's or customs broker's bill of charges was posted against a purchase "
        "order; the flow lands them on its receipts as the ERP's landed cost.",
    ),
)  # fmt: skip

_TYPES: tuple[EventType, ...] = (
    EventType(
        "order.accepted", 2,
        _data(ORDER, objects={"order": Order}),
        "api.orders (POST /v1/orders)", (O2C, WEBHOOKS), "orders",
        "An order was accepted from a channel and durably stored; the flow takes it from here.",
    ),
    EventType(
        "order.credit_hold", 2, _data(ORDER, {"reason": STR}),
        O2C, (O2C, WEBHOOKS), "orders",
        "The customer's credit check failed: the order waits in the exceptions queue.",
    ),
    EventType(
        "order.confirmed", 2, _data(ORDER, {"sale_order": {}}),
        O2C, (O2C, WEBHOOKS), "orders",
        "The order was created and confirmed in the ERP (sale.order).",
    ),
    EventType(
        "order.released", 2, _data(ORDER),
        O2C, (O2C, WEBHOOKS), "orders",
        "The order was released to the warehouse (pickings sent to the WMS).",
    ),
    EventType(
        "shipment.dispatched", 2, _data(ORDER, {"carrier": STR, "tracking_number": STR}),
        O2C, (O2C, WEBHOOKS), "shipments",
        "The delivery was validated in the ERP: goods left the warehouse.",
    ),
    EventType(
        "invoice.posted", 2, _data(ORDER, {"invoice": {}}),
        O2C, (WEBHOOKS,), "invoices",
        "The customer invoice was posted in the ERP.",
    ),
    EventType(
        "order.cancelled", 2, _data(ORDER, {"reason": STR}),
        O2C, (WEBHOOKS,), "orders",
        "The order was cancelled (in the ERP too when it had reached it).",
    ),
    EventType(
        "order.failed", 2, _data(ORDER, {"error": STR}),
        O2C, (WEBHOOKS,), "orders",
        "A technical failure exhausted the retries: the order is dead-lettered, replayable.",
    ),
    EventType(
        "order.exception", 2, _data(ORDER, {"exception_id": STR, "type": STR}),
        O2C, (WEBHOOKS,), "orders",
        "A business exception (no stock, unknown SKU, …) was opened for a person to resolve.",
    ),
    EventType(
        "exception.resolved", 1,
        _data(
            {"exception_id": STR, "action": STR},
            {"type": STR, "by": STR, "note": {"type": ["string", "null"]}, **ORDER},
        ),
        "api.exceptions (POST /v1/exceptions/{id}/resolve)", (O2C, WEBHOOKS), "operations",
        "A person resolved an exception with one of its actions; the waiting flow continues.",
    ),
    EventType(
        "order.cancel_requested", 1, _data(ORDER_ID, {"reason": STR, "by": STR, **ORDER_REFS}),
        "api.orders (POST /v1/orders/{id}/cancel)", (O2C, WEBHOOKS), "orders",
        "Someone asked to cancel the order; the flow cancels it or asks a person.",
    ),
    EventType(
        "shipment.confirmed", 1, _data(ORDER_ID, ORDER_REFS, objects={"shipment": Shipment}),
        "api.shipments (POST /v1/shipments)", (O2C, WEBHOOKS), "shipments",
        "A warehouse or 3PL confirmed what it shipped (short picks allowed).",
    ),
    EventType(
        "webhook.endpoint.failing", 1,
        _data(
            {"endpoint_id": STR, "url": STR, "message_id": {"type": "integer"},
             "event_id": STR, "attempts": {"type": "integer"}},
            {"last_status": {"type": ["integer", "null"]},
             "last_error": {"type": ["string", "null"]},
             "failing_since": {"type": "number"}},
        ),
        "webhooks.delivery", ("operations",), "integration",
        "A webhook message exhausted its retry schedule and was dead-lettered (replayable).",
    ),
    EventType(
        "webhook.endpoint.disabled", 1,
        _data({"endpoint_id": STR, "url": STR, "reason": STR}),
        "webhooks.delivery", ("operations",), "integration",
        "An endpoint was disabled: it answered 410 Gone, or failed for the configured days.",
    ),
    EventType(
        "webhook.test", 1,
        _data({"endpoint_id": STR, "url": STR}, {"message": STR}),
        "api.webhooks (POST /v1/subscriptions/{id}/test)", ("subscribers",), "integration",
        "Sent on request to one subscription only, to check that it receives and verifies "
        "deliveries; never in the log, never retried.",
    ),
    *INVENTORY_TYPES,
    *RETURNS_TYPES,
    *PAYMENT_TYPES,
    EventType(
        "reconciliation.requested", 1,
        _data(
            {"kind": {"enum": ["orders", "invoices", "stock", "payments", "all"]}, "by": STR},
            {"fix": {"type": "boolean"}, "schedule": STR, "tick": STR},
        ),
        "scheduler, api.reconciliation", ("flows.reconciliation",), "operations",
        "Internal: run a reconciliation now (its schedule fired, or someone asked for it).",
    ),
    *ORDER_CHANGE_TYPES,
    *SCHEDULED_TYPES,
    *PROCUREMENT_TYPES,
)  # fmt: skip


def _build(types: tuple[EventType, ...]) -> Mapping[str, EventType]:
    out: dict[str, EventType] = {}
    for event_type in types:
        if event_type.name in out:
            raise RuntimeError(f"event type {event_type.name} listed twice")
        out[event_type.name] = event_type
    return MappingProxyType(dict(sorted(out.items())))


CATALOG: Mapping[str, EventType] = _build(_TYPES)
"""Every event type by name, sorted."""


def event_type(name: str) -> EventType | None:
    return CATALOG.get(name)
