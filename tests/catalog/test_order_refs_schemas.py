"""Version 2 of the order events: every event about an order carries `channel` and
`external_ref`. The schema check accepts the new versions against the stored version 1 set, and
each is an addition only: a consumer written against version 1 reads version 2 unchanged."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from crossdock.catalog.compat import check
from crossdock.catalog.registry import CATALOG
from crossdock.catalog.schemas import Schemas, current_schemas

EVENTS = Path(__file__).resolve().parents[2] / "schemas" / "events"
REFS = {"channel", "external_ref"}
# Emitted by the hub only: the fields are required. The others may come in through an inbound
# webhook from a channel or a warehouse, whose senders must not break: the fields are optional.
EMITTED = {
    "order.accepted",
    "order.credit_hold",
    "order.confirmed",
    "order.released",
    "shipment.dispatched",
    "invoice.posted",
    "order.cancelled",
    "order.failed",
    "order.exception",
}
SENT_IN = {
    "order.cancel_requested",
    "shipment.confirmed",
    "exception.resolved",
    "order.change_requested",
}
# Emitted by the hub, new after version 2: the fields are required from their first version.
EMITTED_SINCE = {"order.changed"}


def _stored(version: int) -> Schemas:
    out: Schemas = {}
    for path in sorted(EVENTS.glob(f"*.v{version}.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        out[f"events/{document['x-schema-name']}"] = document
    return out


def test_every_event_about_an_order_names_its_channel_and_external_ref() -> None:
    about_orders = {n for n, t in CATALOG.items() if "order_id" in t.schema["properties"]}
    assert about_orders == EMITTED | EMITTED_SINCE | SENT_IN
    for name in about_orders:
        schema = CATALOG[name].schema
        assert set(schema["properties"]) >= REFS, name
        required = set(schema["required"]) >= REFS
        assert required == (name in EMITTED | EMITTED_SINCE), name
    assert {CATALOG[n].version for n in EMITTED} == {2}


def test_version_2_is_accepted_against_the_stored_version_1() -> None:
    current = current_schemas()
    assert check(_stored(1), current) == []
    assert {k.removeprefix("events/") for k in _stored(2)} == EMITTED
    for key, document in _stored(2).items():
        assert document == current[key], f"{key}: refresh with `crossdock schema check --update`"


def test_version_2_only_adds_the_two_fields_to_version_1() -> None:
    v1, v2 = _stored(1), _stored(2)
    for key, new in v2.items():
        same_version = {**new, "x-version": v1[key]["x-version"]}
        findings = {(b.path, b.kind) for b in check({key: v1[key]}, {key: same_version})}
        assert findings == {("/channel", "required-added"), ("/external_ref", "required-added")}


def test_adding_optional_properties_needs_no_new_version() -> None:
    for name in SENT_IN:
        current = CATALOG[name].document()
        before: dict[str, Any] = copy.deepcopy(current)
        for field in REFS:
            before["properties"].pop(field)
        assert check({name: before}, {name: current}) == [], name
