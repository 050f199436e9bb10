"""Whether published events are what the catalog says: each event's ``data`` validated against its
type's JSON Schema (``crossdock.catalog``), as a subscriber's validator would."""

from __future__ import annotations

from collections.abc import Iterable

import jsonschema

from crossdock.catalog.registry import CATALOG
from crossdock.engine import Event


def problems(events: Iterable[Event]) -> list[str]:
    """What is wrong with each event: not in the catalog, or data against the schema."""
    out: list[str] = []
    for event in events:
        known = CATALOG.get(event.type)
        if known is None:
            out.append(f"{event.type}: not in the catalog")
            continue
        validator = jsonschema.Draft202012Validator(
            known.document(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
        for error in validator.iter_errors(event.data):
            where = "/".join(str(p) for p in error.absolute_path)
            out.append(f"{event.type} /{where}: {error.message}")
    return out
