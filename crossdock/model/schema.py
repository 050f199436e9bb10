"""JSON Schema export: one schema file per canonical object and version (``order.v1.json``).

The schemas describe what a producer must send (pydantic's *validation* schema). Output is
deterministic — sorted keys, two-space indentation, UTF-8, trailing newline — so exported schemas
can be committed and compared.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from crossdock.model.base import CanonicalObject
from crossdock.model.registry import MODELS

__all__ = [
    "JSON_SCHEMA_DIALECT",
    "export_schemas",
    "model_schema",
    "render_schema",
    "schema_filename",
    "schema_id",
]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
"""The JSON Schema dialect pydantic generates."""


def schema_filename(model: type[CanonicalObject]) -> str:
    """File name of ``model``'s schema: ``<name>.v<version>.json``."""
    return f"{model.SCHEMA_NAME}.v{model.SCHEMA_VERSION}.json"


def schema_id(model: type[CanonicalObject]) -> str:
    """Stable identifier of ``model``'s schema: ``urn:crossdock:schema:<name>:v<version>``."""
    return f"urn:crossdock:schema:{model.SCHEMA_NAME}:v{model.SCHEMA_VERSION}"


def model_schema(model: type[CanonicalObject]) -> dict[str, Any]:
    """The JSON Schema of ``model`` (validation mode) with ``$schema``, ``$id`` and version."""
    schema: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": schema_id(model),
        **model.model_json_schema(mode="validation"),
        "x-schema-name": model.SCHEMA_NAME,
        "x-version": model.SCHEMA_VERSION,
    }
    return schema


def render_schema(model: type[CanonicalObject]) -> str:
    """``model``'s schema as deterministic JSON text, ending with a newline."""
    return json.dumps(model_schema(model), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def export_schemas(
    directory: Path, models: Mapping[str, type[CanonicalObject]] = MODELS
) -> list[Path]:
    """Write one schema file per model into ``directory`` (created if missing).

    Returns the written paths in schema-name order. Existing files of the same name are
    overwritten; other files in ``directory`` are left alone.
    """
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for _name, model in sorted(models.items()):
        path = directory / schema_filename(model)
        path.write_bytes(render_schema(model).encode("utf-8"))
        written.append(path)
    return written
