"""The current schema set — every event type's and every canonical object's JSON Schema — and
reading or writing a stored set (`schemas/` at the repository root: `events/`, `objects/`).

Each document names itself with `x-schema-name` and `x-version`; files are
`<name>.v<version>.json`, deterministic JSON so they can be committed and compared.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from crossdock.catalog.registry import CATALOG
from crossdock.model.registry import MODELS
from crossdock.model.schema import model_schema

Schemas = dict[str, dict[str, Any]]  # "events/order.accepted" -> document


def current_schemas() -> Schemas:
    """Every schema the code defines now, keyed `events/<name>` and `objects/<name>`."""
    out: Schemas = {}
    for name, event_type in CATALOG.items():
        out[f"events/{name}"] = event_type.document()
    for name, model in MODELS.items():
        out[f"objects/{name}"] = model_schema(model)
    return out


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schemas(directory: Path, schemas: Schemas | None = None) -> list[Path]:
    """Write the set under `directory` (`events/…`, `objects/…`); returns the paths."""
    written: list[Path] = []
    for key, document in sorted((schemas or current_schemas()).items()):
        kind = key.split("/", 1)[0]
        path = directory / kind / f"{document['x-schema-name']}.v{document['x-version']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(document), encoding="utf-8")
        written.append(path)
    return written


def read_schemas(directory: Path) -> Schemas:
    """A stored set: for each name, the document of its highest stored version."""
    out: Schemas = {}
    for path in sorted(directory.rglob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        name, version = document.get("x-schema-name"), document.get("x-version")
        if not isinstance(name, str) or not isinstance(version, int):
            continue
        kind = path.relative_to(directory).parts[0] if path.parent != directory else "objects"
        key = f"{kind}/{name}"
        if key not in out or out[key]["x-version"] < version:
            out[key] = document
    return out
