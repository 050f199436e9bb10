"""JSON request bodies that a route reads itself (the bulk and hot intake paths).

The raw bytes are validated in one step by pydantic's JSON parser; FastAPI's own body handling
decodes them to Python objects first and validates those after, twice the work on every order.
A body that fails gets the same 422 problem as a declared body would, and the OpenAPI document
still describes it (``openapi_extra=json_body(Model, example)``).
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def inline_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema with its ``$defs`` inlined (OpenAPI resolves no ``#/$defs``)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(defs[ref.removeprefix("#/$defs/")])
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    inlined: dict[str, Any] = walk(schema)
    return inlined


def json_body(model: type[BaseModel], example: Any) -> dict[str, Any]:
    """``openapi_extra`` for a route whose required JSON body is ``model``, with an example."""
    schema = inline_schema(model.model_json_schema())
    media = {"schema": schema, "example": example}
    return {"requestBody": {"required": True, "content": {"application/json": media}}}


def body_example(example: Any, media_type: str = "application/json") -> dict[str, Any]:
    """``openapi_extra`` giving a declared request body its example."""
    return {"requestBody": {"content": {media_type: {"example": example}}}}


def parse_json_body(model: type[M], raw: bytes) -> M:
    """``raw`` as ``model``, or the request's 422 problem (fields as JSON pointers)."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc
