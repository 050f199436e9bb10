"""Pushes of the hub's exports (the demand history) to a URL, signed like outbound webhooks.

The body (the export's file, CSV or Parquet, streamed from disk) is POSTed with ``webhook-id``
(the export's id, stable across retries, so the receiver dedupes), ``webhook-timestamp`` and
``webhook-signature`` (Standard Webhooks, the signature :mod:`.delivery` sends, computed over the
file's bytes), and ``content-type`` ``text/csv`` or ``application/vnd.apache.parquet``. Anything
but a 2xx answer raises :class:`PushFailed`: the export's event is retried by the engine with its
backoff, and the watermark moves only once the push succeeded.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from crossdock.config.forecasting import ForecastingConfig
from crossdock.config.secrets import SecretRef
from crossdock.errors import CrossdockError
from crossdock.flows.procurement.demand import Sink, directory_sink
from crossdock.flows.procurement.export_files import MEDIA_TYPES
from crossdock.webhooks.signing import secret_key

__all__ = ["PushFailed", "demand_sink", "signed_push"]


class PushFailed(CrossdockError):
    """The receiver of a push did not accept it (retried)."""


CHUNK = 1 << 20
"""Bytes read from the export file at a time (signing and sending)."""


def _file_signature(keys: list[bytes], msg_id: str, timestamp: int, path: Path) -> str:
    """The ``webhook-signature`` of a file body, computed over its bytes in chunks: the Standard
    Webhooks signature (``v1,`` base64 HMAC-SHA256 of ``{id}.{timestamp}.{body}``), which
    :func:`~crossdock.webhooks.signing.signature_header` computes for a text body in memory.
    A Parquet body is binary and not held in memory, hence the stream here."""
    macs = [hmac.new(key, f"{msg_id}.{timestamp}.".encode(), hashlib.sha256) for key in keys]
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            for mac in macs:
                mac.update(chunk)
    return " ".join(f"v1,{base64.b64encode(mac.digest()).decode()}" for mac in macs)


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as handle:
        while chunk := await asyncio.to_thread(handle.read, CHUNK):
            yield chunk


@dataclass(frozen=True, slots=True)
class SignedPush:
    """Each export POSTed to ``url``, streamed from its file and signed."""

    url: str
    secret: SecretRef
    timeout_s: float = 30.0

    @property
    def staging(self) -> Path | None:
        return None

    async def __call__(self, export_id: str, name: str, path: Path) -> str:
        stamp = int(time.time())
        keys = [secret_key(self.secret.resolve())]
        signature = await asyncio.to_thread(_file_signature, keys, export_id, stamp, path)
        headers = {
            "content-type": MEDIA_TYPES.get(path_suffix(name), "application/octet-stream"),
            "content-length": str(path.stat().st_size),
            "content-disposition": f'attachment; filename="{name}"',
            "webhook-id": export_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": signature,
        }
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                answer = await client.post(self.url, content=_chunks(path), headers=headers)
        except httpx.HTTPError as exc:
            raise PushFailed(f"push of {name} to {self.url} failed: {exc!r}") from exc
        if not answer.is_success:
            raise PushFailed(f"push of {name} to {self.url} answered {answer.status_code}")
        return self.url


def path_suffix(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def signed_push(url: str, secret: SecretRef, *, timeout_s: float = 30.0) -> Sink:
    """POST each export to ``url``, signed like the hub's webhooks."""
    return SignedPush(url, secret, timeout_s)


def demand_sink(config: ForecastingConfig) -> Sink | None:
    """Where the demand history goes: a directory, a signed push, or nowhere (kept for the
    baseline only)."""
    if config.export_directory is not None:
        return directory_sink(config.export_directory)
    if config.export_url is not None and config.export_secret is not None:
        return signed_push(str(config.export_url), config.export_secret)
    return None
