"""Backward compatibility of schemas: what a consumer written against the stored schema would
break on. A change is breaking when a field is removed, a field's type changes, a new required
field appears, or an enum loses a value — anywhere in the document (nested objects, array items,
`$defs`). A breaking change passes only if the schema's `x-version` was raised. A stored schema
whose name no longer exists is breaking too; new schemas and new optional fields are fine.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from crossdock.catalog.schemas import Schemas

MAX_DEPTH = 40


@dataclass(frozen=True, slots=True)
class Breaking:
    schema: str  # "events/order.accepted"
    path: str  # JSON pointer into the data, e.g. /order/lines/items/sku
    kind: str  # field-removed | type-changed | required-added | enum-value-removed | removed
    detail: str

    def __str__(self) -> str:
        return f"{self.schema} {self.path or '/'}: {self.kind} — {self.detail}"


def _resolve(node: Any, root: dict[str, Any]) -> Any:
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < MAX_DEPTH:
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return node
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~"), {})
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        seen += 1
    return node


def _types(node: Any, root: dict[str, Any]) -> frozenset[str]:
    """The JSON types a node admits (`anyOf`/`oneOf` members included); empty = anything."""
    node = _resolve(node, root)
    if not isinstance(node, dict):
        return frozenset()
    found: set[str] = set()
    declared = node.get("type")
    if isinstance(declared, str):
        found.add(declared)
    elif isinstance(declared, list):
        found.update(t for t in declared if isinstance(t, str))
    for key in ("anyOf", "oneOf"):
        for member in node.get(key, []) or []:
            member_types = _types(member, root)
            if not member_types:
                return frozenset()
            found |= member_types
    if "integer" in found and "number" in found:
        found.discard("integer")
    return frozenset(found)


def _compare(
    old: Any, new: Any, old_root: dict[str, Any], new_root: dict[str, Any], path: str, depth: int
) -> Iterator[tuple[str, str, str]]:
    if depth > MAX_DEPTH:
        return
    old, new = _resolve(old, old_root), _resolve(new, new_root)
    if not isinstance(old, dict) or not isinstance(new, dict):
        return
    old_types, new_types = _types(old, old_root), _types(new, new_root)
    if old_types and not old_types <= (new_types or old_types):
        yield path, "type-changed", f"{'|'.join(sorted(old_types))} → {'|'.join(sorted(new_types))}"
        return
    if "enum" in old and isinstance(old["enum"], list):
        new_enum = new.get("enum")
        if isinstance(new_enum, list):
            lost = [v for v in old["enum"] if v not in new_enum]
            if lost:
                yield path, "enum-value-removed", f"{', '.join(map(str, lost))} removed"
    if "const" in old and "const" in new and old["const"] != new["const"]:
        yield path, "enum-value-removed", f"{old['const']} → {new['const']}"
    old_props = old.get("properties") or {}
    new_props = new.get("properties") or {}
    for name in old_props:
        if name not in new_props:
            yield f"{path}/{name}", "field-removed", "the field no longer exists"
    old_required = set(old.get("required") or [])
    for name in sorted(set(new.get("required") or []) - old_required):
        if name in old_props and name not in new_props:
            continue
        yield f"{path}/{name}", "required-added", "a new required field"
    for name, old_child in old_props.items():
        if name in new_props:
            yield from _compare(
                old_child, new_props[name], old_root, new_root, f"{path}/{name}", depth + 1
            )
    for key in ("items", "additionalProperties"):
        if isinstance(old.get(key), dict) and isinstance(new.get(key), dict):
            yield from _compare(old[key], new[key], old_root, new_root, f"{path}/{key}", depth + 1)
    for key in ("anyOf", "oneOf"):
        old_members, new_members = old.get(key) or [], new.get(key) or []
        if len(old_members) == len(new_members):
            for index, (a, b) in enumerate(zip(old_members, new_members, strict=True)):
                yield from _compare(a, b, old_root, new_root, f"{path}/{key}{index}", depth + 1)


def check(stored: Schemas, current: Schemas) -> list[Breaking]:
    """Every breaking change from `stored` to `current` whose version was not raised."""
    out: list[Breaking] = []
    for key, old in sorted(stored.items()):
        new = current.get(key)
        if new is None:
            out.append(Breaking(key, "", "removed", "the schema no longer exists"))
            continue
        if int(new.get("x-version", 0)) > int(old.get("x-version", 0)):
            continue
        for path, kind, detail in _compare(old, new, old, new, "", 0):
            out.append(Breaking(key, path, kind, detail))
    return out
