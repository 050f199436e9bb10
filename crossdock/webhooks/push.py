"""Pushes of the hub's exports (the demand history) to a URL, signed like outbound webhooks.

The body is POSTed with ``webhook-id`` (the export's id, stable across retries, so the receiver
dedupes), ``webhook-timestamp`` and ``webhook-signature`` (Standard Webhooks, the same signing as
:mod:`.delivery`). Anything but a 2xx answer raises :class:`PushFailed`: the export's event is
retried by the engine with its backoff, and the watermark moves only once the push succeeded.
"""

from __future__ import annotations

import time

import httpx

from crossdock.config.forecasting import ForecastingConfig
from crossdock.config.secrets import SecretRef
from crossdock.errors import CrossdockError
from crossdock.flows.procurement.demand import Sink, directory_sink
from crossdock.webhooks.signing import secret_key, signature_header

__all__ = ["PushFailed", "demand_sink", "signed_push"]


class PushFailed(CrossdockError):
    """The receiver of a push did not accept it (retried)."""


def signed_push(url: str, secret: SecretRef, *, timeout_s: float = 30.0) -> Sink:
    async def push(export_id: str, name: str, body: bytes) -> str:
        stamp = int(time.time())
        headers = {
            "content-type": "text/csv; charset=utf-8",
            "content-disposition": f'attachment; filename="{name}"',
            "webhook-id": export_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": signature_header(
                [secret_key(secret.resolve())], export_id, stamp, body
            ),
        }
        try:
            async with httpx.AsyncClient(timeout=timeout_s) as client:
                answer = await client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise PushFailed(f"push of {name} to {url} failed: {exc!r}") from exc
        if not answer.is_success:
            raise PushFailed(f"push of {name} to {url} answered {answer.status_code}")
        return url

    return push


def demand_sink(config: ForecastingConfig) -> Sink | None:
    """Where the demand history goes: a directory, a signed push, or nowhere (kept for the
    baseline only)."""
    if config.export_directory is not None:
        return directory_sink(config.export_directory)
    if config.export_url is not None and config.export_secret is not None:
        return signed_push(str(config.export_url), config.export_secret)
    return None
