"""Base classes of the canonical model.

* :class:`ValueObject` — a part of a business object (a line, an address, a milestone): strict
  (unknown fields are rejected) and immutable.
* :class:`CanonicalObject` — a business object exchanged between systems. It names where it came
  from (``source``), its identifier there (``external_ref``), optionally its identifiers in other
  systems (``refs``), and carries a schema name and version for its JSON Schema.

The model knows no external system: an Odoo id, a Shopify id or a WMS id is just an entry in
``refs`` keyed by the system's name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from crossdock.model.types import ExternalRef, SystemName

__all__ = ["CanonicalObject", "ValueObject", "schema_fields_optional"]


class ValueObject(BaseModel):
    """A strict, immutable part of a canonical object."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class CanonicalObject(ValueObject):
    """A business object as exchanged between systems, with its origin and schema version."""

    SCHEMA_NAME: ClassVar[str] = ""
    """Stable name of the object's JSON Schema (``order``); empty on abstract bases."""

    SCHEMA_VERSION: ClassVar[int] = 1
    """Version of the object's JSON Schema; exported as ``<name>.v<version>.json``."""

    external_ref: ExternalRef = Field(
        description="Identifier of this object in its source system (order number, record id).",
    )
    source: SystemName = Field(
        description="Name of the system this object came from (e.g. `webshop`, `odoo`).",
    )
    refs: dict[SystemName, ExternalRef] = Field(
        default_factory=dict,
        description="Identifiers of the same object in other systems, keyed by system name.",
    )


def schema_fields_optional(*names: str) -> Callable[[JsonDict], None]:
    """A ``json_schema_extra`` hook that drops ``names`` from the schema's ``required`` list.

    For fields a producer may omit because a model validator fills them in (an order's
    ``source`` defaults to its ``channel``); the validated object always has them.
    """

    def patch(schema: JsonDict) -> None:
        required = schema.get("required")
        if isinstance(required, list):
            schema["required"] = [field for field in required if field not in names]

    return patch
