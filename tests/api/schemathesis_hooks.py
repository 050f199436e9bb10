"""Schemathesis hooks for tests/api/test_openapi_fuzz.py (loaded through `SCHEMATHESIS_HOOKS`):
a serializer for NDJSON bodies (the stock counts of `PUT /v1/inventory/snapshots/{warehouse}`),
sent as the text they are, as for CSV; and one for the media types an AS2 message comes in
(`POST /v1/edi/as2/{partner}`), whose bodies are sent as their bytes."""

from __future__ import annotations

import json
from typing import Any

import schemathesis


def _as_bytes(value: Any) -> dict[str, Any]:
    if isinstance(value, bytes):
        return {"data": value}
    text = value if isinstance(value, str) else json.dumps(value)
    return {"data": text.encode("utf-8", "surrogatepass")}


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx: Any, value: Any) -> dict[str, Any]:
    return _as_bytes(value)


@schemathesis.serializer(
    "application/pkcs7-mime",
    "application/x-pkcs7-mime",
    "multipart/signed",
    "multipart/report",
    "application/edi-x12",
    "application/edifact",
    "application/edi-consent",
)
def as2_body(ctx: Any, value: Any) -> dict[str, Any]:
    return _as_bytes(value)


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """A multipart AS2 body (a signed message or MDN, an MDN's report) is sent as the bytes it is
    under its own Content-Type with a boundary, as an AS2 partner sends it (schemathesis drops
    the bare media type, expecting a form encoder to name the boundary)."""
    if case.media_type in ("multipart/signed", "multipart/report"):
        case.headers = {**(case.headers or {}), "Content-Type": f"{case.media_type}; boundary=b"}
