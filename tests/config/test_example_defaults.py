"""`crossdock.example.yaml` documents every setting of the schema with its true default.

The rule the example follows, which this test reads it by:

- every field of every section appears, as a setting (`key: value`) or as a commented setting
  (`# key: value`, the `#` where the key would start, one space, then the key);
- its value is the schema's default, or the line says the default: `(default: <yaml value>)`
  (for a field without a default value, `(default: none…)` or `(default: unset…)`);
- a mapping of named entries (systems, lanes, channels, inventory channels, webhook sources…) is
  an example: each field of its entries' model appears in at least one entry, and at least one
  of them shows the default (or notes it); a note is always checked;
- a field with no default (required) appears, with any value; so does one whose default is none
  when it is commented out (the commented value is an example of what to set), while a setting
  in force with another value than none must note the default.

So the test fails when a default changes, a field is added, or a section is left out.
"""

from __future__ import annotations

import re
import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, TypeAdapter
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from crossdock.config import Config

EXAMPLE = Path(__file__).resolve().parents[2] / "crossdock.example.yaml"
COMMENTED_SETTING = re.compile(r"^(\s*)# ([a-z_][a-z0-9_]*:(?: .*)?)$")
DEFAULT_NOTE = re.compile(r"\(default: (.*)\)")


def uncommented(text: str) -> str:
    """The example with its commented settings made settings (line numbers kept)."""
    return "\n".join(
        f"{m.group(1)}{m.group(2)}" if (m := COMMENTED_SETTING.match(line)) else line
        for line in text.splitlines()
    )


class Example:
    """The example's settings as YAML nodes (for their lines) over its uncommented text."""

    def __init__(self, text: str) -> None:
        self.original = text.splitlines()
        self.lines = uncommented(text).splitlines()
        self.root = yaml.compose(uncommented(text))

    def commented(self, line: int) -> bool:
        return self.original[line].lstrip().startswith("#")

    def child(self, node: yaml.Node | None, key: str) -> yaml.Node | None:
        if not isinstance(node, yaml.MappingNode):
            return None
        for k, v in node.value:
            if k.value == key:
                return v  # type: ignore[no-any-return]
        return None

    def entries(self, node: yaml.Node | None) -> list[tuple[str, yaml.Node]]:
        return [(k.value, v) for k, v in node.value] if isinstance(node, yaml.MappingNode) else []

    def note(self, key_line: int) -> str | None:
        found = DEFAULT_NOTE.search(self.lines[key_line])
        return found.group(1) if found else None

    def key_line(self, node: yaml.Node, key: str) -> int:
        for k, _ in node.value:
            if k.value == key:
                return int(k.start_mark.line)
        raise KeyError(key)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    return (
        annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    )


def _entry_model(annotation: Any) -> type[BaseModel] | None:
    """The model of a `dict[str, Model]` field's entries."""
    if get_origin(annotation) is dict:
        return _model_of(get_args(annotation)[1])
    return None


def _optional(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(annotation)


def _default(field: FieldInfo) -> Any:
    if field.default_factory is not None:
        return field.default_factory()  # type: ignore[call-arg]
    return field.default


def check_model(
    example: Example,
    model: type[BaseModel],
    nodes: list[tuple[str, yaml.Node]],
    *,
    entries: bool = False,
) -> list[str]:
    """Problems of the example's `nodes` (path, mapping node) of `model`: each field present in
    at least one of them, each value the default or noted (with `entries`, the nodes are the
    entries of a mapping: one showing the default is enough)."""
    problems: list[str] = []
    for name, field in model.model_fields.items():
        present = [(path, node) for path, node in nodes if example.child(node, name) is not None]
        if not present:
            where = " or ".join(path for path, _ in nodes)
            problems.append(f"{where}.{name}: not in the example")
            continue
        annotation = field.annotation
        sub_model = _model_of(annotation)
        entry_model = _entry_model(annotation)
        if sub_model is not None:
            children = [(f"{p}.{name}", example.child(n, name)) for p, n in present]
            problems += check_model(example, sub_model, children, entries=entries)  # type: ignore[arg-type]
            continue
        if entry_model is not None:
            named = [
                (f"{p}.{name}.{key}", value)
                for p, n in present
                for key, value in example.entries(example.child(n, name))
            ]
            if not named:
                problems.append(f"{present[0][0]}.{name}: no example entry")
            else:
                problems += check_model(example, entry_model, named, entries=True)
            continue
        if field.is_required():
            continue
        default = _default(field)
        if isinstance(default, dict) and not default:
            continue  # a mapping of named entries: the example's entries are examples
        adapter: TypeAdapter[Any] = TypeAdapter(annotation)
        found: list[list[str]] = []
        for path, node in present:
            line = example.key_line(node, name)
            value = yaml.safe_load(yaml.serialize(example.child(node, name)))  # type: ignore[arg-type]
            note = example.note(line)
            commented = example.commented(line)
            found.append(_check_value(path, name, adapter, value, default, note, line, commented))
            if note is not None:
                problems += found[-1]  # a note is always checked
        if entries:
            if default is not None and all(found):
                problems += [
                    f"{' or '.join(p for p, _ in present)}.{name}: no entry shows "
                    f"the default {default!r}"
                ]
        else:
            problems += [p for f in found for p in f if p not in problems]
    return problems


def _check_value(
    path: str,
    name: str,
    adapter: TypeAdapter[Any],
    value: Any,
    default: Any,
    note: str | None,
    line: int,
    commented: bool,
) -> list[str]:
    where = f"{path}.{name} (line {line + 1})"
    if default is None or default is PydanticUndefined:
        if note is not None:
            if not re.match(r"(none|unset)\b", note, re.IGNORECASE):
                return [f"{where}: noted default {note!r}, but the schema has none"]
            return []
        if value is not None and not commented:
            return [f"{where}: shows {value!r} without (default: none…); the schema has none"]
        return []
    if note is not None:
        try:
            noted = adapter.validate_python(yaml.safe_load(note))
        except Exception:
            return [f"{where}: noted default {note!r} is not a value of the field"]
        if noted != default:
            return [f"{where}: noted default {note!r}, the schema's is {default!r}"]
        return []
    try:
        shown = adapter.validate_python(value)
    except Exception:
        return [f"{where}: {value!r} is not a value of the field"]
    if shown != default:
        return [f"{where}: shows {value!r} without (default: …); the schema's is {default!r}"]
    return []


def problems_of(text: str) -> list[str]:
    example = Example(text)
    return check_model(example, Config, [("", example.root)])


def test_the_example_documents_every_setting_with_its_default() -> None:
    assert problems_of(EXAMPLE.read_text()) == []


def test_the_check_finds_a_wrong_default_and_a_missing_section() -> None:
    text = EXAMPLE.read_text()
    wrong = re.sub(r"(?m)^(\s*)#? ?poll_interval_ms: \d+", r"\1poll_interval_ms: 7", text, count=1)
    assert any("engine.poll_interval_ms" in p for p in problems_of(wrong))
    without = re.sub(r"(?ms)^reconciliation:.*?(?=^\S)", "", text + "\nend: 1\n")
    assert any(p.startswith(".reconciliation") for p in problems_of(without))
