"""AS2 messages (RFC 4130 §5): a payload packed for a partner, and a partner's message unpacked.

Outbound, the payload becomes a MIME entity, signed (multipart/signed, detached), then encrypted
(application/pkcs7-mime enveloped-data). The payload part travels ``binary`` when its line
breaks are already canonical (CRLF) and ``base64`` otherwise, so that every verifier — those that
canonicalise line breaks and those that do not — sees the same signed bytes.

Inbound, the layers are peeled in whatever order the partner used (encryption, signature,
compression), each checked against the partner's profile; the MIC the receipt echoes is computed
on the way, as §7.3.1 says: over the signed entity (headers included) of a signed message, the
decrypted entity of an encrypted unsigned one, and the bare content of a plain one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from crossdock.config.as2 import As2Transport
from crossdock.connectors.edi.as2 import smime
from crossdock.connectors.edi.as2.mime import (
    CRLF,
    MimeError,
    base64_lines,
    entity_of,
    header_lines,
    read_entity,
)
from crossdock.errors import CrossdockError

_BARE_BREAK = re.compile(rb"\r(?!\n)|(?<!\r)\n")


class KeysUnreadable(CrossdockError):
    """A certificate or key file of an AS2 profile cannot be read."""


@dataclass(frozen=True, slots=True)
class As2Keys:
    """Our certificate and key, and the partner's certificate."""

    certificate: x509.Certificate
    key: smime.PrivateKey
    partner: x509.Certificate


def load_keys(settings: As2Transport, password: bytes | None = None) -> As2Keys:
    """Read a profile's PEM files (``password`` opens an encrypted private key)."""

    def read(path: Path, what: str) -> bytes:
        try:
            return path.read_bytes()
        except OSError as exc:
            raise KeysUnreadable(f"{what} {path}: {exc.strerror}") from exc

    try:
        certificate = x509.load_pem_x509_certificate(read(settings.certificate, "certificate"))
        partner = x509.load_pem_x509_certificate(
            read(settings.partner_certificate, "partner_certificate")
        )
        key = serialization.load_pem_private_key(
            read(settings.private_key, "private_key"), password
        )
    except (ValueError, TypeError) as exc:
        raise KeysUnreadable(f"AS2 keys: {exc}") from exc
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise KeysUnreadable("private_key: only RSA and EC keys are supported")
    return As2Keys(certificate, key, partner)


def keys_of(settings: As2Transport) -> As2Keys:
    """A profile's keys, read now (renewed certificates are picked up without a restart)."""
    secret = settings.private_key_password
    return load_keys(settings, secret.resolve().encode() if secret is not None else None)


# -- outbound -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Packed:
    """An AS2 message ready to post: its MIME headers, body and the MIC its receipt must echo."""

    headers: dict[str, str]
    body: bytes
    mic: str


def payload_entity(payload: bytes, filename: str, content_type: str) -> bytes:
    """The payload as a MIME entity (binary when its line breaks are canonical, else base64)."""
    binary = _BARE_BREAK.search(payload) is None
    headers = {
        "Content-Type": content_type,
        "Content-Transfer-Encoding": "binary" if binary else "base64",
        "Content-Disposition": f'attachment; filename="{_safe(filename)}"',
    }
    return header_lines(headers) + CRLF + (payload if binary else base64_lines(payload))


def pack(payload: bytes, filename: str, settings: As2Transport, keys: As2Keys) -> Packed:
    """Sign then encrypt ``payload`` as the profile says."""
    entity = payload_entity(payload, filename, settings.content_type)
    if not settings.sign and not settings.encrypt:
        digest = settings.digest
        headers = {
            "Content-Type": settings.content_type,
            "Content-Disposition": f'attachment; filename="{_safe(filename)}"',
        }
        return Packed(headers, payload, smime.mic(payload, digest))
    value = smime.mic(entity, settings.digest)
    if settings.sign:
        content_type, body = smime.sign(entity, keys.certificate, keys.key, settings.digest)
        entity = f"Content-Type: {content_type}".encode() + CRLF + CRLF + body
    if settings.encrypt:
        enveloped = smime.encrypt(entity, keys.partner, settings.encryption)
        content_type = 'application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"'
        headers = {
            "Content-Type": content_type,
            "Content-Disposition": 'attachment; filename="smime.p7m"',
        }
        return Packed(headers, enveloped, value)
    outer = read_entity(entity)
    return Packed({"Content-Type": str(outer.headers["Content-Type"])}, outer.body, value)


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name) or "payload"


# -- inbound --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unpacked:
    """A partner's message with its layers checked and removed."""

    payload: bytes
    filename: str | None
    content_type: str
    signed: bool
    encrypted: bool
    compressed: bool
    mic: str
    """The Received-Content-MIC its receipt carries."""
    digest: str


@dataclass
class _Peeling:
    signed: bool = False
    encrypted: bool = False
    compressed: bool = False
    mic_source: bytes | None = None
    signer_digest: str | None = None
    layers: list[str] = field(default_factory=list)


MAX_LAYERS = 6
"""Encryption, signature and compression nest at most a few deep; more is not a message."""


def unpack(
    content_type: str,
    body: bytes,
    settings: As2Transport,
    keys: As2Keys,
    *,
    transfer_encoding: str | None = None,
    micalgs: tuple[str, ...] = (),
) -> Unpacked:
    """Decrypt, verify and decompress an inbound message; raises
    :class:`~crossdock.connectors.edi.as2.smime.SecurityError` naming the RFC 4130 failure.
    ``micalgs`` are the digests the sender asked its MIC in (signed-receipt-micalg)."""
    try:
        entity = entity_of(content_type, body, transfer_encoding)
    except MimeError as exc:
        raise smime.SecurityError("unexpected-processing-error", str(exc)) from exc
    state = _Peeling()
    try:
        for _ in range(MAX_LAYERS):
            kind = entity.content_type
            if kind in ("application/pkcs7-mime", "application/x-pkcs7-mime"):
                inner = entity.decoded()
                if smime.smime_type(entity) == "compressed-data":
                    entity = read_entity(smime.decompress(inner))
                    state.compressed = True
                    continue
                decrypted = smime.decrypt(inner, keys.certificate, keys.key)
                entity = read_entity(decrypted)
                state.encrypted = True
                if not state.signed:
                    state.mic_source = decrypted
                continue
            if kind == "multipart/signed":
                checked = smime.verify_signed(entity, keys.partner)
                if not state.signed:
                    state.mic_source, state.signer_digest = checked.content, checked.digest
                state.signed = True
                entity = read_entity(checked.content)
                continue
            break
        else:
            raise smime.SecurityError("unexpected-processing-error", "too many nested layers")
        payload = entity.decoded()
        filename = entity.headers.get_filename()
    except (MimeError, UnicodeError, LookupError) as exc:  # not a MIME message we can read
        raise smime.SecurityError("unexpected-processing-error", str(exc)) from exc
    if settings.require_encrypted and not state.encrypted:
        raise smime.SecurityError(
            "insufficient-message-security", "the partner's profile requires encrypted messages"
        )
    if settings.require_signed and not state.signed:
        raise smime.SecurityError(
            "insufficient-message-security", "the partner's profile requires signed messages"
        )
    digest = next(
        (d for d in (smime.digest_name(m) for m in micalgs) if d is not None),
        state.signer_digest or "sha256",
    )
    source = state.mic_source if state.mic_source is not None else payload
    return Unpacked(
        payload=payload,
        filename=str(filename) if filename else None,
        content_type=entity.content_type,
        signed=state.signed,
        encrypted=state.encrypted,
        compressed=state.compressed,
        mic=smime.mic(source, digest),
        digest=digest,
    )
