"""Standard Webhooks signatures: `whsec_` secrets, signing outbound messages (with every secret
valid during a rotation), and verifying inbound ones (Standard Webhooks or a plain HMAC header).

Signature: `v1,` + base64(HMAC-SHA256(key, f"{msg_id}.{timestamp}.{body}")), where the key is the
base64-decoded part of the secret after `whsec_`. Several signatures are separated by spaces.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime

from standardwebhooks import Webhook

from crossdock.errors import CrossdockError

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


class SignatureError(CrossdockError):
    """A request whose signature, timestamp or headers do not verify (answered 401)."""


def new_secret() -> str:
    """A fresh signing secret, `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_…` secret (a secret without the prefix is base64 as well)."""
    text = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except ValueError as exc:
        raise ValueError("secret: not base64 after the whsec_ prefix") from exc
    if not key:
        raise ValueError("secret: empty")
    return key


def sign(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature, computed by the `standardwebhooks` reference library."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return str(_webhook(key).sign(msg_id, moment, body.decode("utf-8")))


@functools.lru_cache(maxsize=1024)
def _webhook(key: bytes) -> Webhook:
    return Webhook(key)


def signature_header(keys: Iterable[bytes], msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: one signature per key, space-separated (rotation)."""
    return " ".join(sign(key, msg_id, timestamp, body) for key in keys)


def verify_standard(key: bytes, msg_id: str, timestamp: int, body: bytes, header: str) -> None:
    """Raise `SignatureError` unless one `v1` signature of `header` matches."""
    expected = sign(key, msg_id, timestamp, body).encode()
    for candidate in header.split():
        if candidate.startswith("v1,") and hmac.compare_digest(candidate.encode(), expected):
            return
    raise SignatureError("no matching signature")


def verify_hmac(key: bytes, body: bytes, header: str, encoding: str) -> None:
    """A plain HMAC-SHA256 of the body in hex or base64 (as Shopify sends it)."""
    digest = hmac.new(key, body, hashlib.sha256).digest()
    expected = digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()
    given = header.strip()
    if encoding == "hex":
        given = given.lower()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise SignatureError("signature does not match")
