"""Asynchronous MDNs (RFC 4130 §7.3), our side as the receiver: the MDN a partner asked to get
later (``Receipt-Delivery-Option: <url>``) described as plain data when its message is accepted,
kept durably by the caller, then built, signed and posted to that URL by :func:`post_mdn`.

The MDN is built at sending time from the recorded facts (disposition, MIC, text), so what is
kept holds no key material; a retry signs it again, and the partner reads the same receipt.

:func:`post_mdn` raises :class:`~crossdock.errors.Unavailable` when the partner cannot be reached
or answers 5xx/408/425/429 and :class:`~crossdock.connectors.edi.errors.PartnerRefused` when it
refuses (any other non-2xx): the caller retries both with its back-off and gives up after its
limit.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from email.utils import formatdate
from typing import Any

import httpx

from crossdock.config.as2 import As2Transport
from crossdock.connectors.edi.as2 import mdn
from crossdock.connectors.edi.as2.client import RETRYABLE_STATUS, USER_AGENT, quoted
from crossdock.connectors.edi.as2.message import keys_of
from crossdock.connectors.edi.errors import PartnerRefused
from crossdock.errors import Unavailable

_URL_SCHEMES = ("http://", "https://")


def delivery_url(header: str | None) -> str | None:
    """The URL of a ``Receipt-Delivery-Option`` header, or None when it is not an HTTP(S) URL
    (``mailto:`` MDNs are not sent)."""
    url = (header or "").strip()
    if not url.lower().startswith(_URL_SCHEMES) or len(url) > 2000 or any(c.isspace() for c in url):
        return None
    return url


def due(
    *,
    url: str,
    original_message_id: str,
    disposition: str,
    mic: str | None,
    text: str,
    signed: bool,
    digest: str,
) -> dict[str, Any]:
    """An MDN owed to the partner, as the JSON data the caller keeps until it is sent."""
    return {
        "url": url,
        "original_message_id": original_message_id,
        "disposition": disposition,
        "mic": mic,
        "text": text,
        "signed": signed,
        "digest": digest,
    }


async def post_mdn(
    settings: As2Transport,
    data: Mapping[str, Any],
    *,
    client: httpx.AsyncClient | None = None,
) -> str:
    """Build, sign (when asked) and post the MDN ``data`` (made by :func:`due`) to its URL;
    answers the MDN's Message-ID."""
    keys = await asyncio.to_thread(keys_of, settings)
    content_type, body = mdn.build(
        original_message_id=str(data["original_message_id"]),
        our_id=settings.as2_id,
        disposition=str(data["disposition"]),
        mic=data.get("mic"),
        text=str(data.get("text", "")),
        signer=(keys.certificate, keys.key) if data.get("signed") else None,
        digest=str(data.get("digest") or settings.digest),
    )
    ours = f"<mdn-{uuid.uuid4().hex}@crossdock>"
    headers = {
        "Content-Type": content_type,
        "AS2-Version": "1.2",
        "AS2-From": quoted(settings.as2_id),
        "AS2-To": quoted(settings.partner_as2_id),
        "Message-ID": ours,
        "MIME-Version": "1.0",
        "Date": formatdate(usegmt=True),
        "User-Agent": USER_AGENT,
    }
    url = str(data["url"])
    what = f"as2 MDN for {data['original_message_id']} to {url}"
    http = client or httpx.AsyncClient(timeout=settings.timeout_s)
    try:
        answer = await http.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise Unavailable(f"{what}: {type(exc).__name__}", system="as2") from exc
    finally:
        if client is None:
            await http.aclose()
    if answer.status_code >= 500 or answer.status_code in RETRYABLE_STATUS:
        raise Unavailable(f"{what}: HTTP {answer.status_code}", system="as2")
    if answer.status_code >= 300:
        raise PartnerRefused(f"{what}: refused with HTTP {answer.status_code}")
    return ours
