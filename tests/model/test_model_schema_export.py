"""`crossdock schema export DIR` and the exported JSON Schemas."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from crossdock.cli import app
from crossdock.model import MODELS, Order
from crossdock.model.schema import export_schemas
from tests.model.model_samples import SAMPLES, sample_body

runner = CliRunner()

SCHEMA_KEYWORDS = {
    "$defs", "$id", "$ref", "$schema", "additionalProperties", "anyOf", "default",
    "description", "enum", "exclusiveMinimum", "format", "items", "maxItems", "maxLength",
    "maximum", "minItems", "minLength", "minimum", "pattern", "patternProperties", "properties",
    "propertyNames", "required", "title", "type", "uniqueItems", "x-schema-name", "x-version",
}  # fmt: skip
JSON_TYPES = {"object", "array", "string", "integer", "number", "boolean", "null"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("schemas") / "out"
    result = runner.invoke(app, ["schema", "export", str(directory)])
    assert result.exit_code == 0, result.output
    assert f"{len(MODELS)} schemas exported" in result.output
    return directory


def load(directory: Path, name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((directory / f"{name}.v1.json").read_text("utf-8"))
    return schema


def test_export_writes_one_file_per_model_and_version(exported: Path) -> None:
    assert sorted(path.name for path in exported.iterdir()) == sorted(
        f"{name}.v{model.SCHEMA_VERSION}.json" for name, model in MODELS.items()
    )
    assert {"order.v1.json", "invoice.v1.json", "stock_event.v1.json"} <= {
        path.name for path in exported.iterdir()
    }


def test_export_names_every_written_file(exported: Path) -> None:
    result = runner.invoke(app, ["schema", "export", str(exported)])
    assert result.exit_code == 0
    for path in exported.iterdir():
        assert path.name in result.output


def test_export_is_deterministic(exported: Path, tmp_path: Path) -> None:
    written = export_schemas(tmp_path)
    assert [path.name for path in written] == sorted(path.name for path in written)
    for path in written:
        text = path.read_text("utf-8")
        assert text == (exported / path.name).read_text("utf-8")
        assert text.endswith("}\n")
        canonical = json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False)
        assert text == canonical + "\n"


def _walk(node: Any, path: str, defs: dict[str, Any]) -> None:
    """Check that ``node`` is a JSON Schema built from the keywords pydantic emits."""
    assert isinstance(node, dict), path
    unknown = set(node) - SCHEMA_KEYWORDS
    assert not unknown, f"{path}: unexpected keywords {unknown}"
    if "type" in node:
        assert node["type"] in JSON_TYPES, path
    if "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/$defs/"), path
        assert ref.removeprefix("#/$defs/") in defs, f"{path}: dangling {ref}"
    if "pattern" in node:
        re.compile(node["pattern"])
    if "required" in node:
        assert set(node["required"]) <= set(node.get("properties", {})), path
    for key in ("properties", "patternProperties", "$defs"):
        for name, child in node.get(key, {}).items():
            _walk(child, f"{path}/{key}/{name}", defs)
    for key in ("items", "propertyNames"):
        if key in node:
            _walk(node[key], f"{path}/{key}", defs)
    for index, child in enumerate(node.get("anyOf", [])):
        _walk(child, f"{path}/anyOf/{index}", defs)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_each_schema_is_a_well_formed_json_schema(exported: Path, name: str) -> None:
    schema = load(exported, name)
    model = MODELS[name]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"urn:crossdock:schema:{name}:v1"
    assert schema["x-schema-name"] == name
    assert schema["x-version"] == model.SCHEMA_VERSION
    assert schema["title"] == model.__name__
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert {"external_ref", "source", "refs"} <= set(schema["properties"])
    assert "external_ref" in schema["required"]
    _walk(schema, name, schema.get("$defs", {}))


class _Invalid(Exception):
    pass


def _check(instance: Any, schema: dict[str, Any], root: dict[str, Any], path: str) -> None:
    """A small validator for the subset of JSON Schema the exported schemas use."""
    if "$ref" in schema:
        schema = root["$defs"][schema["$ref"].removeprefix("#/$defs/")]
    if "anyOf" in schema:
        failures = []
        for option in schema["anyOf"]:
            try:
                _check(instance, option, root, path)
                break
            except _Invalid as error:
                failures.append(str(error))
        else:
            raise _Invalid(f"{path}: no option matches ({'; '.join(failures)})")
    kind = schema.get("type")
    python_types: dict[str, Any] = {
        "object": dict, "array": list, "string": str, "null": type(None), "boolean": bool,
    }  # fmt: skip
    if kind == "integer":
        if not isinstance(instance, int) or isinstance(instance, bool):
            raise _Invalid(f"{path}: not an integer")
        if instance < schema.get("minimum", instance) or instance > schema.get("maximum", instance):
            raise _Invalid(f"{path}: out of range")
    elif kind is not None and not isinstance(instance, python_types[kind]):
        raise _Invalid(f"{path}: not a {kind}")
    if "enum" in schema and instance not in schema["enum"]:
        raise _Invalid(f"{path}: not one of {schema['enum']}")
    if isinstance(instance, str):
        if "pattern" in schema and not re.search(schema["pattern"], instance):
            raise _Invalid(f"{path}: {instance!r} does not match {schema['pattern']}")
        if len(instance) < schema.get("minLength", 0):
            raise _Invalid(f"{path}: too short")
    if isinstance(instance, dict) and kind == "object":
        missing = set(schema.get("required", [])) - set(instance)
        if missing:
            raise _Invalid(f"{path}: missing {sorted(missing)}")
        properties = schema.get("properties", {})
        for key, value in instance.items():
            if key in properties:
                _check(value, properties[key], root, f"{path}/{key}")
            elif schema.get("additionalProperties") is False:
                raise _Invalid(f"{path}: unexpected property {key!r}")
    if isinstance(instance, list) and "items" in schema:
        if len(instance) < schema.get("minItems", 0):
            raise _Invalid(f"{path}: too few items")
        for index, item in enumerate(instance):
            _check(item, schema["items"], root, f"{path}/{index}")


def test_sample_order_body_is_valid_against_the_exported_order_schema(exported: Path) -> None:
    schema = load(exported, "order")
    _check(sample_body(), schema, schema, "order")
    # `source` may be omitted on the order and its customer; the rest of the sample is required.
    assert "source" not in schema["required"]
    assert set(schema["required"]) == {"external_ref", "channel", "currency", "customer", "lines"}
    customer = schema["$defs"]["OrderCustomer"]
    assert set(customer["required"]) == {"external_ref", "name"}
    address = schema["$defs"]["Address"]
    assert set(address["required"]) == {"street", "city", "postal_code", "country"}
    assert set(schema["$defs"]["OrderLine"]["required"]) == {"sku", "quantity", "unit_price"}


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda body: body.pop("channel"), "missing ['channel']"),
        (lambda body: body["customer"]["address"].pop("city"), "missing ['city']"),
        (lambda body: body["lines"][0].update(quantity=1.5), "lines/0/quantity"),
        (lambda body: body["lines"][0].update(unit_price=""), "lines/0/unit_price"),
        (lambda body: body["lines"][0].update(quantity="0"), "lines/0/quantity"),
        (lambda body: body.update(currency="dollars"), "order/currency"),
        (lambda body: body.update(lines=[]), "too few items"),
        (lambda body: body.update(odoo_id=3), "unexpected property 'odoo_id'"),
    ],
)
def test_exported_order_schema_rejects_what_the_model_rejects(
    exported: Path, change: Any, where: str
) -> None:
    schema = load(exported, "order")
    body = sample_body()
    change(body)
    with pytest.raises(_Invalid, match=re.escape(where)):
        _check(body, schema, schema, "order")
    with pytest.raises(ValueError):  # pydantic's ValidationError is a ValueError
        Order.model_validate(body)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_samples_are_valid_against_their_exported_schema(exported: Path, name: str) -> None:
    schema = load(exported, name)
    _check(SAMPLES[name], schema, schema, name)


@pytest.mark.skipif(importlib.util.find_spec("jsonschema") is None, reason="jsonschema missing")
@pytest.mark.parametrize("name", sorted(MODELS))
def test_schemas_validate_with_jsonschema(exported: Path, name: str) -> None:
    import jsonschema  # type: ignore[import-untyped]

    schema = load(exported, name)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(SAMPLES[name])
