"""The schema check catches each kind of breaking change, and accepts it once the version rose."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from crossdock.catalog.compat import check
from crossdock.catalog.schemas import current_schemas

BASE: dict[str, Any] = {
    "x-schema-name": "thing.happened",
    "x-version": 1,
    "type": "object",
    "required": ["id"],
    "properties": {
        "id": {"type": "string"},
        "status": {"enum": ["open", "closed"]},
        "lines": {"type": "array", "items": {"$ref": "#/$defs/Line"}},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    },
    "$defs": {"Line": {"type": "object", "properties": {"qty": {"type": "integer"}}}},
}


def changed(edit: Any) -> dict[str, Any]:
    new = copy.deepcopy(BASE)
    edit(new)
    return new


CASES = {
    "field-removed": lambda s: s["properties"].pop("status"),
    "type-changed": lambda s: s["properties"]["id"].update(type="integer"),
    "required-added": lambda s: (
        s["properties"].update(extra={"type": "string"}),
        s["required"].append("extra"),
    ),
    "enum-value-removed": lambda s: s["properties"]["status"].update(enum=["open"]),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_each_breaking_change_is_caught_unless_the_version_rose(kind: str) -> None:
    new = changed(CASES[kind])
    [problem] = check({"events/thing": BASE}, {"events/thing": new})
    assert problem.kind == kind
    new["x-version"] = 2
    assert check({"events/thing": BASE}, {"events/thing": new}) == []


def test_nested_changes_through_refs_and_anyof() -> None:
    new = changed(lambda s: s["$defs"]["Line"]["properties"]["qty"].update(type="string"))
    [problem] = check({"e": BASE}, {"e": new})
    assert (problem.kind, problem.path) == ("type-changed", "/lines/items/qty")
    narrowed = changed(lambda s: s["properties"].update(note={"type": "string"}))
    assert [p.kind for p in check({"e": BASE}, {"e": narrowed})] == ["type-changed"]


def test_compatible_changes_pass() -> None:
    new = changed(
        lambda s: (
            s["properties"].update(optional={"type": "string"}),
            s["properties"]["status"].update(enum=["open", "closed", "void"]),
            s["properties"]["note"].update(anyOf=[{"type": "string"}, {"type": "null"}]),
        )
    )
    assert check({"e": BASE}, {"e": new}) == []
    assert [p.kind for p in check({"e": BASE}, {})] == ["removed"]


def test_the_catalogs_own_schemas_are_self_consistent() -> None:
    current = current_schemas()
    assert check(current, current) == []
    assert {"events/order.accepted", "objects/order"} <= set(current)
