"""The hub's AS2 endpoint (RFC 4130): ``POST /v1/edi/as2/{partner}``, where a trading partner
whose profile has ``transport: {kind: as2}`` posts its messages.

Authenticated by the message itself, not a token: it must be encrypted to our certificate and
signed by the partner's (as the profile requires). A message that passes is stored in the EDI file
store as a ``received`` file (then parsed, answered by its 997 and processed by the EDI loop) and
answered with a synchronous MDN, signed when the partner asks for it: ``processed``, or
``processed/warning: duplicate-document`` for a Message-ID already received (nothing stored
again). One that fails a check is answered with ``processed/error: <failure>``
(decryption-failed, authentication-failed, integrity-check-failed,
insufficient-message-security, decompression-failed, unexpected-processing-error) and nothing is
stored; without an MDN requested, with a 400 or 403 problem. A request that is not an AS2
message for this partner (unknown partner, missing or wrong AS2 headers, a
``Receipt-Delivery-Option`` that is no HTTP URL) is a 4xx problem naming the header.

An asynchronous MDN asked (``Receipt-Delivery-Option: <url>``, RFC 4130 §7.3) is answered with a
bare 200 once the message is stored; the MDN is owed in the same transaction and posted later by
the ``edi-as2-mdn`` consumer group (:mod:`crossdock.flows.edi.as2_mdns`). The partner's own
asynchronous MDNs, for what we sent with ``mdn: async``, come to ``POST
/v1/edi/as2/{partner}/mdn``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from email.utils import formatdate
from typing import Any

import structlog
from fastapi import APIRouter, Request, Response
from sqlalchemy import Connection

from crossdock.api.problems import Problem
from crossdock.api.query import StrictQueryRoute
from crossdock.config.as2 import As2Transport
from crossdock.connectors.edi.as2 import async_mdn, certificates, mdn, smime
from crossdock.connectors.edi.as2.client import quoted, unquoted
from crossdock.connectors.edi.as2.message import As2Keys, Unpacked, keys_of, unpack
from crossdock.connectors.edi.as2.mime import MimeError
from crossdock.engine import Engine
from crossdock.errors import CrossdockError
from crossdock.flows.edi.as2 import As2Received, keep_message
from crossdock.flows.edi.as2_certificates import certificate_refused
from crossdock.flows.edi.as2_mdns import Settled, mdn_arrived, owe_mdn
from crossdock.flows.edi.service import retrying_of

log = structlog.get_logger("crossdock.edi.as2")

_ISA = (
    "ISA*00*          *00*          *01*123456789      *ZZ*CROSSDOCK      *261205*0630*U*00401*"
    "000004101*0*P*>~GS*PO*ACME*CROSSDOCK*20261205*0630*4101*X*004010~ST*850*0001~..."
)


def _media(example: str) -> dict[str, Any]:
    return {"schema": {"type": "string", "format": "binary"}, "example": example}


def _body_examples() -> dict[str, dict[str, Any]]:
    """Each media type with an example (S/MIME bodies are binary: named, not shown)."""
    smime_bodies = {
        "application/pkcs7-mime": "(DER EnvelopedData: the signed message encrypted to us)",
        "application/x-pkcs7-mime": "(DER EnvelopedData: the signed message encrypted to us)",
        "multipart/signed": "(the payload part, then its application/pkcs7-signature part)",
    }
    return {m: _media(smime_bodies.get(m, _ISA)) for m in MEDIA_TYPES}


router = APIRouter(prefix="/v1/edi/as2", tags=["edi"], route_class=StrictQueryRoute)

MEDIA_TYPES = (
    "application/pkcs7-mime",
    "application/x-pkcs7-mime",
    "multipart/signed",
    "application/edi-x12",
    "application/edifact",
    "application/edi-consent",
    "application/xml",
    "application/octet-stream",
    "text/plain",
)
"""What an AS2 message may come as: encrypted, signed, or (when the profile allows) plain."""

FORBIDDEN = frozenset({"authentication-failed", "integrity-check-failed"})
"""Failures answered with 403 when no MDN is asked (the others are 400)."""


def _problem(status: int, header: str, rule: str, detail: str) -> Problem:
    return Problem(
        status,
        "Bad request" if status == 400 else "Forbidden",
        detail,
        kind="as2",
        errors=[{"pointer": f"/headers/{header}", "rule": rule, "detail": detail}],
    )


def _keys_unreadable(partner: str, exc: Exception) -> Problem:
    """Our keys, a key's password or a CRL file cannot be read: the hub's fault, logged, and
    a 503 for the partner to try again."""
    log.error("edi.as2_keys_unreadable", partner=partner, error=str(exc))
    return Problem(
        503,
        "Unavailable",
        f"the AS2 keys of partner {partner} are unreadable",
        kind="unavailable",
    )


def _profile(request: Request, partner: str) -> As2Transport:
    partners = request.app.state.hub.config.edi.partners
    profile = partners.get(partner)
    if profile is None or not isinstance(profile.transport, As2Transport):
        raise Problem(404, "Not found", f"no AS2 partner {partner!r}", kind="not-found")
    transport: As2Transport = profile.transport
    return transport


def _check_headers(request: Request, settings: As2Transport) -> str:
    headers = request.headers
    message_id = (headers.get("message-id") or "").strip()
    if not message_id:
        raise _problem(400, "Message-ID", "required", "Message-ID: an AS2 message must have one")
    if len(message_id) > 255:
        raise _problem(400, "Message-ID", "max_length", "Message-ID: at most 255 characters")
    sender = unquoted(headers.get("as2-from"))
    if sender != settings.partner_as2_id:
        raise _problem(
            403, "AS2-From", "partner", "AS2-From: not the AS2 id of this partner's profile"
        )
    receiver = unquoted(headers.get("as2-to"))
    if receiver != settings.as2_id:
        raise _problem(400, "AS2-To", "ours", f"AS2-To: this hub's AS2 id is {settings.as2_id}")
    option = headers.get("receipt-delivery-option")
    if option is not None and async_mdn.delivery_url(option) is None:
        raise _problem(
            400,
            "Receipt-Delivery-Option",
            "http_url",
            "Receipt-Delivery-Option: the URL asynchronous MDNs are posted to (http or https, "
            "at most 2000 characters)",
        )
    return message_id


def _mdn_response(
    *,
    settings: As2Transport,
    keys: As2Keys,
    message_id: str,
    disposition: str,
    mic: str | None,
    text: str,
    signed: bool,
    digest: str,
) -> Response:
    content_type, body = mdn.build(
        original_message_id=message_id,
        our_id=settings.as2_id,
        disposition=disposition,
        mic=mic,
        text=text,
        signer=(keys.certificate, keys.key) if signed else None,
        digest=digest,
    )
    headers = {
        "AS2-Version": "1.2",
        "AS2-From": quoted(settings.as2_id),
        "AS2-To": quoted(settings.partner_as2_id),
        "Message-ID": f"<mdn-{uuid.uuid4().hex}@crossdock>",
        "MIME-Version": "1.0",
        "Date": formatdate(usegmt=True),
    }
    return Response(body, status_code=200, media_type=content_type, headers=headers)


@router.post(
    "/{partner}",
    response_class=Response,
    responses={
        200: {
            "description": "The synchronous MDN (multipart/signed or multipart/report), or an "
            "empty body when no MDN was asked",
            "content": {"multipart/signed": {}, "multipart/report": {}},
        },
        403: {"description": "The message is not signed by the partner; nothing stored"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "An AS2 message (RFC 4130): encrypted and/or signed S/MIME.",
            "content": _body_examples(),
        }
    },
)
async def receive(partner: str, request: Request) -> Response:
    """A trading partner's AS2 message: decrypted, verified, de-duplicated by Message-ID, stored
    for the EDI loop, answered with its MDN. Authenticated by the partner's signature."""
    settings = _profile(request, partner)
    message_id = _check_headers(request, settings)
    body = await request.body()
    if not body:
        raise _problem(400, "Content-Length", "required", "the AS2 message has no body")
    content_type = request.headers.get("content-type", "")
    wanted = mdn.options(request.headers.get("disposition-notification-options"))
    asks_mdn = bool(request.headers.get("disposition-notification-to"))
    # RFC 4130 §7.3: the MDN is posted later to this URL; the HTTP answer is a bare 200.
    async_url = (
        async_mdn.delivery_url(request.headers.get("receipt-delivery-option")) if asks_mdn else None
    )
    protocol = wanted.get("signed-receipt-protocol")
    signed_mdn = protocol is not None and "pkcs7-signature" in [v.lower() for v in protocol[1]]
    micalgs = tuple(wanted.get("signed-receipt-micalg", ("", []))[1])
    try:
        keys = await asyncio.to_thread(keys_of, settings)
    except CrossdockError as exc:  # KeysUnreadable, or the key password's secret
        raise _keys_unreadable(partner, exc) from None
    digest = next(
        (d for d in (smime.digest_name(m) for m in micalgs) if d is not None), settings.digest
    )

    # The MDN is signed with the MIC's digest when we sign with it (never SHA-1).
    mdn_digest = digest if digest in smime.SIGNING_DIGESTS else settings.digest
    engine: Engine = request.app.state.hub.engine

    def owed(disposition: str, mic: str | None, text: str) -> dict[str, Any]:
        assert async_url is not None
        return async_mdn.due(
            url=async_url,
            original_message_id=message_id,
            disposition=disposition,
            mic=mic,
            text=text,
            signed=signed_mdn,
            digest=mdn_digest,
        )

    def answer(disposition: str, mic: str | None, text: str) -> Response:
        return _mdn_response(
            settings=settings,
            keys=keys,
            message_id=message_id,
            disposition=disposition,
            mic=mic,
            text=text,
            signed=signed_mdn,
            digest=mdn_digest,
        )

    try:
        await asyncio.to_thread(certificates.check, settings, keys)
    except certificates.CertificateRefused as exc:
        # Ours or theirs may not be used now: refused like a bad signature, and an exception.
        reason, whose = str(exc), exc.whose
        log.warning(
            "edi.as2_certificate_refused", partner=partner, message_id=message_id, reason=reason
        )
        failure = (
            "authentication-failed" if exc.whose == "partner" else "unexpected-processing-error"
        )
        refusal = (
            f"processed/error: {failure}",
            None,
            f"The message {message_id} was not accepted: {reason}. Nothing was stored.",
        )

        def refuse(conn: Connection) -> None:
            certificate_refused(conn, partner, whose, reason, time.time())
            if async_url is not None:
                owe_mdn(conn, partner, owed(*refusal), engine.partitions)

        await engine.writer.submit(refuse, appends=async_url is not None)
        if not asks_mdn:
            header = "AS2-From" if exc.whose == "partner" else "AS2-To"
            raise _problem(403, header, "certificate", reason) from None
        return Response(status_code=200) if async_url is not None else answer(*refusal)
    except CrossdockError as exc:  # the CRL file cannot be read
        raise _keys_unreadable(partner, exc) from None
    try:
        unpacked: Unpacked = await asyncio.to_thread(
            unpack,
            content_type,
            body,
            settings,
            keys,
            transfer_encoding=request.headers.get("content-transfer-encoding"),
            micalgs=micalgs,
        )
    except smime.SecurityError as exc:
        log.warning(
            "edi.as2_refused",
            partner=partner,
            message_id=message_id,
            failure=exc.failure,
            reason=str(exc),
        )
        if not asks_mdn:
            status = 403 if exc.failure in FORBIDDEN else 400
            raise _problem(status, "Content-Type", exc.failure, f"{exc.failure}: {exc}") from None
        refusal = (
            f"processed/error: {exc.failure}",
            None,
            f"The message {message_id} was not accepted ({exc.failure}): {exc}. "
            "Nothing was stored.",
        )
        if async_url is not None:
            due = owed(*refusal)
            await engine.writer.submit(
                lambda c: owe_mdn(c, partner, due, engine.partitions), appends=True
            )
            return Response(status_code=200)
        return answer(*refusal)
    detail: dict[str, Any] = {
        "signed": unpacked.signed,
        "encrypted": unpacked.encrypted,
        "compressed": unpacked.compressed,
        "content_type": unpacked.content_type,
    }

    def receipt(kept: As2Received) -> tuple[str, str | None, str]:
        if kept.duplicate:
            return (
                "processed/warning: duplicate-document",
                kept.mic,
                f"The message {message_id} was received before (file {kept.file_id}); "
                "it was not stored again.",
            )
        return (
            "processed",
            unpacked.mic,
            f"The message {message_id} was received and stored as file {kept.file_id}.",
        )

    def write(conn: Connection) -> As2Received:
        kept = keep_message(
            conn,
            partner=partner,
            message_id=message_id,
            payload=unpacked.payload,
            filename=unpacked.filename,
            mic=unpacked.mic,
            now=time.time(),
            detail=detail,
        )
        if async_url is not None:  # owed in the transaction that stores the file
            owe_mdn(conn, partner, owed(*receipt(kept)), engine.partitions)
        return kept

    kept = await engine.writer.submit(write, appends=async_url is not None)
    if kept.duplicate:
        log.info("edi.as2_duplicate", partner=partner, message_id=message_id, file_id=kept.file_id)
    else:
        log.info("edi.as2_received", partner=partner, message_id=message_id, file_id=kept.file_id)
    if not asks_mdn or async_url is not None:
        return Response(status_code=200)
    return answer(*receipt(kept))


@router.post(
    "/{partner}/mdn",
    response_class=Response,
    responses={
        200: {"description": "The MDN settled the message it answers (or was already known)"},
        403: {"description": "The MDN is not signed by the partner; nothing changed"},
        404: {"description": "No message of ours awaits an MDN with that Original-Message-ID"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "An asynchronous MDN (RFC 4130 §7.3): multipart/signed around a "
            "multipart/report, or a bare multipart/report when unsigned MDNs are allowed.",
            "content": {
                "multipart/signed": _media("(the multipart/report, then its signature)"),
                "multipart/report": _media(
                    "(the human text, then message/disposition-notification)"
                ),
            },
        }
    },
)
async def receive_mdn(partner: str, request: Request) -> Response:
    """A trading partner's asynchronous MDN for a message we sent with ``mdn: async``: verified
    against the partner's certificate, then the file it names is delivered (``processed`` with
    our MIC), failed with an exception (a negative disposition), or sent again (another MIC)."""
    settings = _profile(request, partner)
    sender = unquoted(request.headers.get("as2-from"))
    if sender != settings.partner_as2_id:
        raise _problem(
            403, "AS2-From", "partner", "AS2-From: not the AS2 id of this partner's profile"
        )
    body = await request.body()
    if not body:
        raise _problem(400, "Content-Length", "required", "the MDN has no body")
    try:
        keys = await asyncio.to_thread(keys_of, settings)
    except CrossdockError as exc:
        raise _keys_unreadable(partner, exc) from None
    try:
        await asyncio.to_thread(certificates.check, settings, keys)
    except certificates.CertificateRefused as exc:
        reason, whose = str(exc), exc.whose
        log.warning("edi.as2_certificate_refused", partner=partner, reason=reason)
        await request.app.state.hub.engine.writer.submit(
            lambda c: certificate_refused(c, partner, whose, reason, time.time())
        )
        header = "AS2-From" if whose == "partner" else "AS2-To"
        raise _problem(403, header, "certificate", reason) from None
    except CrossdockError as exc:  # the CRL file cannot be read
        raise _keys_unreadable(partner, exc) from None
    try:
        receipt = await asyncio.to_thread(
            mdn.read,
            request.headers.get("content-type", ""),
            body,
            keys.partner,
            message_id=request.headers.get("message-id"),
        )
    except smime.SecurityError as exc:
        raise _problem(403, "Content-Type", exc.failure, f"the MDN's signature: {exc}") from None
    except (MimeError, UnicodeError, LookupError, ValueError) as exc:
        raise _problem(400, "Content-Type", "mdn", f"not a readable MDN: {exc}") from None
    if settings.signed_mdn and not receipt.signed:
        raise _problem(
            403,
            "Content-Type",
            "insufficient-message-security",
            "the MDN is not signed (the profile asks for signed MDNs)",
        )
    if receipt.original_message_id is None:
        raise _problem(
            400, "Original-Message-ID", "required", "the MDN does not name the message it answers"
        )
    hub = request.app.state.hub
    profile = hub.config.edi.partners[partner]
    retrying = retrying_of(hub.config.edi)
    engine: Engine = hub.engine
    original = receipt.original_message_id

    def write(conn: Connection) -> Settled:
        return mdn_arrived(
            conn,
            partner,
            profile,
            original_message_id=original,
            accepted=receipt.accepted,
            disposition=receipt.disposition,
            mic=receipt.mic,
            same_mic=smime.same_mic,
            retrying=retrying,
            now=time.time(),
        )

    settled = await engine.writer.submit(write)
    if settled.outcome == "unknown":
        raise Problem(
            404,
            "Not found",
            f"Original-Message-ID: no message sent to {partner} awaits an MDN as {original}",
            kind="not-found",
            errors=[
                {
                    "pointer": "/body/Original-Message-ID",
                    "rule": "awaiting",
                    "detail": "no message of ours awaits this MDN",
                }
            ],
        )
    log.info(
        "edi.as2_async_mdn",
        partner=partner,
        original_message_id=original,
        outcome=settled.outcome,
        file_id=settled.file_id,
    )
    return Response(status_code=200)
