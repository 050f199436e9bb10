"""The catalog as an AsyncAPI 3.0 document: one channel per event type (its address is the type),
one message per channel with the CloudEvents envelope and the type's JSON Schema as `data`, and
`send`/`receive` operations for the producers and consumers. Delivered over the hub's log and
outbound webhooks (Standard Webhooks signatures)."""

from __future__ import annotations

from typing import Any

from crossdock import __version__
from crossdock.catalog.registry import CATALOG, EventType

SCHEMA_FORMAT = "application/schema+json;version=draft-2020-12"


def _key(name: str) -> str:
    return name.replace(".", "_")


def _envelope(event_type: EventType) -> dict[str, Any]:
    data = {k: v for k, v in event_type.document().items() if not k.startswith("$")}
    schema: dict[str, Any] = {
        "type": "object",
        "required": ["specversion", "id", "type", "source", "subject", "time", "data"],
        "properties": {
            "specversion": {"const": "1.0"},
            "id": {"type": "string", "description": "UUIDv7; also the webhook-id header"},
            "type": {"const": event_type.name},
            "source": {"type": "string"},
            "subject": {"type": "string", "description": "The business key (ordering)"},
            "time": {"type": "string", "format": "date-time"},
            "datacontenttype": {"const": "application/json"},
            "traceparent": {"type": "string"},
            "data": data,
        },
    }
    if "$defs" in event_type.schema:
        schema["$defs"] = event_type.schema["$defs"]
    return schema


def asyncapi_document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for name, event_type in CATALOG.items():
        key = _key(name)
        messages[key] = {
            "name": name,
            "title": name,
            "summary": event_type.description,
            "contentType": "application/json",
            "headers": {
                "type": "object",
                "properties": {
                    "webhook-id": {"type": "string"},
                    "webhook-timestamp": {"type": "string"},
                    "webhook-signature": {"type": "string"},
                },
            },
            "payload": {"schemaFormat": SCHEMA_FORMAT, "schema": _envelope(event_type)},
            "x-version": event_type.version,
            "x-owner": event_type.owner,
        }
        channels[key] = {
            "address": name,
            "title": name,
            "description": event_type.description,
            "messages": {key: {"$ref": f"#/components/messages/{key}"}},
        }
        operations[f"publish_{key}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{key}"},
            "summary": f"{event_type.producer} emits {name}",
            "x-producer": event_type.producer,
        }
        operations[f"consume_{key}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{key}"},
            "summary": f"consumed by {', '.join(event_type.consumers)}",
            "x-consumers": list(event_type.consumers),
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Crossdock events",
            "version": __version__,
            "description": (
                "Events of the Crossdock integration hub, as CloudEvents JSON envelopes. Outbound "
                "webhooks carry them signed per Standard Webhooks (webhook-id, webhook-timestamp, "
                "webhook-signature)."
            ),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }
