"""Schemathesis hooks for tests/api/test_openapi_fuzz.py (loaded through `SCHEMATHESIS_HOOKS`):
a serializer for NDJSON bodies (the stock counts of `PUT /v1/inventory/snapshots/{warehouse}`),
sent as the text they are, as for CSV."""

from __future__ import annotations

import json
from typing import Any

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx: Any, value: Any) -> dict[str, Any]:
    if isinstance(value, bytes):
        return {"data": value}
    text = value if isinstance(value, str) else json.dumps(value)
    return {"data": text.encode("utf-8", "surrogatepass")}
