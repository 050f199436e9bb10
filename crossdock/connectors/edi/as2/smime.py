"""S/MIME for AS2: detached signatures (multipart/signed), enveloped data, compressed data and
the MIC a receipt echoes.

Signing, encrypting and decrypting are the ``cryptography`` package's (PKCS7SignatureBuilder,
PKCS7EnvelopeBuilder, pkcs7_decrypt_der). It does not verify signatures, so a SignedData is read
with ``asn1crypto`` and checked here by the rules of RFC 5652 §5.4: the signer must be the
partner's configured certificate (issuer and serial number, or subject key identifier), the
``messageDigest`` signed attribute must equal the digest of the content, and the signature over
the DER of the signed attributes must verify with that certificate's public key.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from dataclasses import dataclass

from asn1crypto import cms  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.serialization import pkcs7

from crossdock.connectors.edi.as2.mime import (
    CRLF,
    Entity,
    base64_lines,
    boundary,
    header_lines,
    multipart,
    parts,
    read_entity,
)
from crossdock.errors import CrossdockError

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
    "sha1": hashes.SHA1,
}
"""Digests a signature or a MIC may use (hashlib names). SHA-1 is read, never written."""

MICALG = {"sha256": "sha-256", "sha384": "sha-384", "sha512": "sha-512", "sha1": "sha1"}
"""RFC 5751 micalg names of the digests."""

CIPHERS: dict[str, type[algorithms.AES128] | type[algorithms.AES256]] = {
    "aes128_cbc": algorithms.AES128,
    "aes256_cbc": algorithms.AES256,
}
SIGNING_DIGESTS: dict[str, hashes.SHA256 | hashes.SHA384 | hashes.SHA512] = {
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}
"""Digests our signatures use."""


class SecurityError(CrossdockError):
    """A message failed a security check; ``failure`` is the RFC 4130 disposition modifier
    (``authentication-failed``, ``decryption-failed``, ``integrity-check-failed``, …)."""

    def __init__(self, failure: str, detail: str) -> None:
        super().__init__(detail)
        self.failure = failure


def digest_name(micalg: str) -> str | None:
    """The hashlib name of a micalg (``sha-256``, ``sha256``, ``SHA256``), None if unknown."""
    name = micalg.strip().lower().replace("-", "")
    return name if name in DIGESTS else None


def mic(data: bytes, digest: str) -> str:
    """The Received-Content-MIC value of ``data``: base64 digest, then the micalg."""
    value = base64.b64encode(hashlib.new(digest, data).digest()).decode()
    return f"{value}, {MICALG[digest]}"


def same_mic(a: str, b: str) -> bool:
    """Whether two Received-Content-MIC values name the same digest by the same algorithm."""
    try:
        va, aa = (s.strip() for s in a.split(",", 1))
        vb, ab = (s.strip() for s in b.split(",", 1))
    except ValueError:
        return False
    return va == vb and digest_name(aa) == digest_name(ab) is not None


# -- signing --------------------------------------------------------------------------------------


def sign(
    entity: bytes, certificate: x509.Certificate, key: PrivateKey, digest: str = "sha256"
) -> tuple[str, bytes]:
    """``entity`` (a whole MIME entity) inside a multipart/signed with a detached signature;
    answers the multipart's Content-Type and body."""
    signature = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(entity)
        .add_signer(certificate, key, SIGNING_DIGESTS[digest])
        .sign(
            serialization.Encoding.DER,
            [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary],
        )
    )
    mark = boundary()
    signature_part = (
        header_lines(
            {
                "Content-Type": 'application/pkcs7-signature; name="smime.p7s"',
                "Content-Transfer-Encoding": "base64",
                "Content-Disposition": 'attachment; filename="smime.p7s"',
            }
        )
        + CRLF
        + base64_lines(signature)
    )
    content_type = (
        f'multipart/signed; protocol="application/pkcs7-signature"; micalg={MICALG[digest]}; '
        f'boundary="{mark}"'
    )
    return content_type, multipart([entity, signature_part], mark)


@dataclass(frozen=True, slots=True)
class Signed:
    """A verified multipart/signed: the signed entity's exact bytes and the digest used."""

    content: bytes
    digest: str


def verify_signed(entity: Entity, certificate: x509.Certificate) -> Signed:
    """Check a multipart/signed entity against the partner's ``certificate``."""
    found = parts(entity)
    if len(found) != 2:
        raise SecurityError("authentication-failed", f"multipart/signed has {len(found)} parts")
    content, signature = found
    signature_entity = read_entity(signature)
    if signature_entity.content_type not in (
        "application/pkcs7-signature",
        "application/x-pkcs7-signature",
    ):
        raise SecurityError(
            "authentication-failed",
            f"multipart/signed: second part is {signature_entity.content_type}",
        )
    digest = verify_detached(content, signature_entity.decoded(), certificate)
    return Signed(content, digest)


def verify_detached(content: bytes, signature: bytes, certificate: x509.Certificate) -> str:
    """Verify a detached CMS SignedData over ``content`` by ``certificate``; answers the digest
    name the signer used."""
    try:
        info = cms.ContentInfo.load(signature)
        if info["content_type"].native != "signed_data":
            raise SecurityError("authentication-failed", "the signature is not a SignedData")
        signer_infos = info["content"]["signer_infos"]
        ours = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
        signer = next((s for s in signer_infos if _signed_by(s, ours)), None)
        if signer is None:
            raise SecurityError(
                "authentication-failed",
                "the message is not signed by the partner's certificate "
                f"(serial {certificate.serial_number:x})",
            )
        return _check(signer, content, certificate)
    except SecurityError:
        raise
    except (ValueError, TypeError, KeyError, OverflowError, UnsupportedAlgorithm) as exc:
        raise SecurityError("authentication-failed", f"unreadable signature: {exc}") from exc


def _signed_by(signer: cms.SignerInfo, certificate: asn1_x509.Certificate) -> bool:
    sid = signer["sid"]
    if sid.name == "issuer_and_serial_number":
        chosen = sid.chosen
        return bool(
            chosen["serial_number"].native == certificate.serial_number
            and chosen["issuer"] == certificate.issuer
        )
    return bool(sid.chosen.native == certificate.key_identifier)


def _check(signer: cms.SignerInfo, content: bytes, certificate: x509.Certificate) -> str:
    digest = signer["digest_algorithm"]["algorithm"].native
    if digest not in DIGESTS:
        raise SecurityError("authentication-failed", f"digest {digest} is not supported")
    attributes = signer["signed_attrs"]
    if attributes.native:  # present: they are what is signed, and they hold the content's digest
        values = {a["type"].native: a["values"] for a in attributes}
        message_digest = values.get("message_digest")
        if message_digest is None:
            raise SecurityError("authentication-failed", "signed attributes lack messageDigest")
        if message_digest[0].native != hashlib.new(digest, content).digest():
            raise SecurityError(
                "integrity-check-failed", "the content's digest differs from the signed one"
            )
        # The signature covers the attributes' DER with the SET OF tag (RFC 5652 §5.4).
        signed = b"\x31" + attributes.dump()[1:]
    else:
        signed = content
    algorithm = signer["signature_algorithm"]
    public = certificate.public_key()
    try:
        if isinstance(public, rsa.RSAPublicKey):
            kind = algorithm.signature_algo
            if kind == "rsassa_pss":
                params = algorithm["parameters"]
                pss = padding.PSS(
                    mgf=padding.MGF1(
                        DIGESTS[params["mask_gen_algorithm"]["parameters"]["algorithm"].native]()
                    ),
                    salt_length=params["salt_length"].native,
                )
                public.verify(signer["signature"].native, signed, pss, DIGESTS[digest]())
            else:
                public.verify(
                    signer["signature"].native, signed, padding.PKCS1v15(), DIGESTS[digest]()
                )
        elif isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signer["signature"].native, signed, ec.ECDSA(DIGESTS[digest]()))
        else:
            raise SecurityError("authentication-failed", "the partner's key type is not supported")
    except InvalidSignature as exc:
        raise SecurityError("authentication-failed", "the signature does not verify") from exc
    return str(digest)


# -- encryption -----------------------------------------------------------------------------------


def encrypt(entity: bytes, certificate: x509.Certificate, cipher: str = "aes256_cbc") -> bytes:
    """``entity`` as a DER EnvelopedData for the holder of ``certificate`` (an RSA key)."""
    return (
        pkcs7.PKCS7EnvelopeBuilder()
        .set_data(entity)
        .add_recipient(certificate)
        .set_content_encryption_algorithm(CIPHERS[cipher])
        .encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )


def decrypt(enveloped: bytes, certificate: x509.Certificate, key: PrivateKey) -> bytes:
    """The entity inside a DER EnvelopedData addressed to ``certificate``."""
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SecurityError("decryption-failed", "decryption needs an RSA key")
    try:
        return pkcs7.pkcs7_decrypt_der(enveloped, certificate, key, [])
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise SecurityError("decryption-failed", f"cannot decrypt: {exc}") from exc


def decompress(data: bytes) -> bytes:
    """The entity inside a DER CompressedData (RFC 3274, zlib)."""
    try:
        info = cms.ContentInfo.load(data)
        if info["content_type"].native != "compressed_data":
            raise SecurityError("decompression-failed", "not a CompressedData")
        return bytes(info["content"].decompressed)
    except SecurityError:
        raise
    except (ValueError, TypeError, KeyError, OverflowError, zlib.error) as exc:
        raise SecurityError("decompression-failed", f"cannot decompress: {exc}") from exc


def smime_type(entity: Entity) -> str:
    """The smime-type of an application/pkcs7-mime entity (enveloped-data when unnamed)."""
    return (entity.param("smime-type") or "enveloped-data").lower()
