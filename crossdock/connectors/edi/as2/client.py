"""The AS2 transport of a partner: each outbound file posted as one signed, encrypted message,
acknowledged by the synchronous MDN in the HTTP answer, or (``mdn: async``) by an MDN the partner
posts later to the hub (:func:`check_receipt` checks it there).

A message is delivered only when a receipt says so: a signed MDN (when the profile asks for one)
that verifies with the partner's certificate, names our Message-ID, says ``processed`` and echoes
the MIC computed when the message was packed. Anything less raises, so the outbound loop sends
the file again with the project's back-off and, after ``edi.max_attempts``, fails it with an
exception: no network error, 5xx, 429 or timeout (:class:`Unavailable`), no refusal, missing,
unsigned, negative or mismatched MDN (:class:`PartnerRefused`) is ever taken as sent.

The Message-ID is derived from the file's name and content, so a file sent again carries the
same one and the partner recognises the duplicate instead of processing it twice.

AS2 is push-shaped both ways: the partner's messages arrive at the hub's AS2 route, so there is
nothing to list or fetch here.
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
from email.utils import formatdate
from pathlib import Path

import httpx

from crossdock.config.as2 import As2Transport
from crossdock.connectors.edi.as2 import certificates, mdn, smime
from crossdock.connectors.edi.as2.message import As2Keys, KeysUnreadable, Packed, keys_of, pack
from crossdock.connectors.edi.as2.mime import MimeError
from crossdock.connectors.edi.errors import PartnerRefused
from crossdock.connectors.edi.port import RemoteFile, Sent
from crossdock.errors import Unavailable

USER_AGENT = "Crossdock-AS2/1.0"
RETRYABLE_STATUS = frozenset({408, 425, 429})


def quoted(as2_id: str) -> str:
    """An AS2 name as a header value (RFC 4130 §6.2: quoted when it has a space)."""
    return f'"{as2_id}"' if " " in as2_id else as2_id


def unquoted(value: str | None) -> str:
    text = (value or "").strip()
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def message_id(name: str, payload: bytes, as2_id: str) -> str:
    """The Message-ID of a file: the same file sent again is the same message."""
    local = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name)
    host = "".join(ch if ch.isalnum() or ch in ".-" else "-" for ch in as2_id) or "crossdock"
    return f"<{local}.{hashlib.sha256(payload).hexdigest()[:16]}@{host}>"


class As2Mailbox:
    """:class:`~crossdock.connectors.edi.port.EdiTransport` posting to a partner's AS2 URL."""

    def __init__(
        self, settings: As2Transport, *, name: str = "", client: httpx.AsyncClient | None = None
    ) -> None:
        self.settings = settings
        self.name = name
        self._client = client
        self._own_client = client is None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.settings.timeout_s)
        return self._client

    async def list_inbound(self) -> list[RemoteFile]:
        return []  # the partner posts to the hub's AS2 route

    async def fetch(self, file: RemoteFile, into: Path) -> None:
        raise PartnerRefused(f"as2 {self.name}: messages are posted to the hub, never fetched")

    async def done(self, file: RemoteFile) -> None:
        return None

    async def put(self, name: str, source: Path) -> Sent:
        s = self.settings
        payload = await asyncio.to_thread(source.read_bytes)
        keys = keys_of(s)
        try:
            certificates.check(s, keys)
        except certificates.CertificateRefused as exc:
            raise certificates.CertificateRefused(
                exc.whose, f"as2 {self.name}: not sent: {exc}"
            ) from exc
        try:
            packed = await asyncio.to_thread(pack, payload, name, s, keys)
        except (ValueError, TypeError) as exc:  # e.g. a partner certificate without an RSA key
            raise KeysUnreadable(f"as2 {self.name}: cannot sign or encrypt: {exc}") from exc
        ours = message_id(name, payload, s.as2_id)
        headers = {
            **packed.headers,
            "AS2-Version": "1.2",
            "AS2-From": quoted(s.as2_id),
            "AS2-To": quoted(s.partner_as2_id),
            "Message-ID": ours,
            "Subject": f"EDI {name}",
            "Date": formatdate(usegmt=True),
            "MIME-Version": "1.0",
            "User-Agent": USER_AGENT,
        }
        if s.sign or s.encrypt:
            headers["Content-Transfer-Encoding"] = "binary"
        if s.mdn != "none":
            headers["Disposition-Notification-To"] = f"{s.as2_id}@{socket.gethostname()}"
            if s.signed_mdn:
                headers["Disposition-Notification-Options"] = (
                    "signed-receipt-protocol=optional, pkcs7-signature; "
                    f"signed-receipt-micalg=optional, {smime.MICALG[s.digest]}"
                )
        if s.mdn == "async" and s.mdn_url is not None:
            headers["Receipt-Delivery-Option"] = s.mdn_url
        answer = await self._post(name, headers, packed.body)
        detail = {"as2_message_id": ours, "mic": packed.mic}
        if s.mdn == "none":
            return Sent(name, detail={**detail, "mdn": "none"})
        if s.mdn == "async":
            # The HTTP answer only says the message arrived; the MDN comes to mdn_url later.
            return Sent(name, detail={**detail, "mdn": "pending"}, confirm_within_s=s.mdn_within_s)
        receipt = self._receipt(name, answer, ours, packed, keys)
        return Sent(
            name,
            receipt=receipt.message_id or ours,
            detail={**detail, "mdn": receipt.disposition, "mdn_signed": receipt.signed},
        )

    async def _post(self, name: str, headers: dict[str, str], body: bytes) -> httpx.Response:
        what = f"as2 {self.name}: posting {name}"
        try:
            answer = await self._http().post(
                self.settings.url, content=body, headers=headers, timeout=self.settings.timeout_s
            )
        except httpx.HTTPError as exc:
            raise Unavailable(f"{what}: {type(exc).__name__}", system=self.name) from exc
        if answer.status_code >= 500 or answer.status_code in RETRYABLE_STATUS:
            raise Unavailable(f"{what}: HTTP {answer.status_code}", system=self.name)
        if answer.status_code >= 300:
            raise PartnerRefused(f"{what}: refused with HTTP {answer.status_code}")
        return answer

    def _receipt(
        self, name: str, answer: httpx.Response, ours: str, packed: Packed, keys: As2Keys
    ) -> mdn.MdnReceipt:
        what = f"as2 {self.name}: {name}"
        content_type = answer.headers.get("Content-Type")
        if not content_type or not answer.content:
            raise PartnerRefused(f"{what}: no MDN in the answer (HTTP {answer.status_code})")
        try:
            receipt = mdn.read(
                content_type,
                answer.content,
                keys.partner,
                message_id=answer.headers.get("Message-ID"),
            )
        except smime.SecurityError as exc:
            raise PartnerRefused(f"{what}: the MDN's signature: {exc}") from exc
        except (MimeError, UnicodeError, LookupError, ValueError) as exc:
            raise PartnerRefused(f"{what}: unreadable MDN: {exc}") from exc
        if self.settings.signed_mdn and not receipt.signed:
            raise PartnerRefused(f"{what}: the MDN is not signed")
        if receipt.original_message_id is not None and receipt.original_message_id != ours:
            raise PartnerRefused(
                f"{what}: the MDN answers {receipt.original_message_id}, not {ours}"
            )
        if not receipt.accepted:
            raise PartnerRefused(f"{what}: the partner answered {receipt.disposition}")
        if receipt.mic is None or not smime.same_mic(receipt.mic, packed.mic):
            raise PartnerRefused(
                f"{what}: the MDN's MIC {receipt.mic} is not the one sent ({packed.mic})"
            )
        return receipt

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._own_client:
            await client.aclose()
