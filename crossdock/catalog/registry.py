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

from crossdock.model import Order, Shipment
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
