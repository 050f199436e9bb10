"""Checks of an AS2 profile's certificates: validity dates, key usage and revocation.

Both certificates are pinned (the configured files are the only ones trusted), and checked
again on every use, so a certificate that expires or is revoked while the hub runs stops being
used at that moment:

- **dates**: now must lie between ``notBefore`` and ``notAfter``;
- **key usage** (RFC 5280 §4.2.1.3), when the extension is present: a certificate whose
  signatures we verify or make needs ``digitalSignature`` (or ``nonRepudiation``), one we
  encrypt to or decrypt with needs ``keyEncipherment`` — for the operations the profile enables;
- **revocation**: ``partner_crl``, a CRL file (PEM or DER) of the partner certificate's issuer,
  read on every use (refresh the file to update it). The CRL must name that issuer, and when
  the partner certificate is self-signed its signature must verify with the certificate's key;
  a CRL of a CA whose certificate the hub does not hold is trusted as the operator put it there.
  A CRL past its ``nextUpdate`` is still applied, with a warning.

:func:`problems` answers what is wrong now (the certificate must not be used) and
:func:`warnings` what will be soon (``certificate_warning_days`` before ``notAfter``) or is
doubtful (a stale CRL).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from crossdock.config.as2 import As2Transport
from crossdock.config.edi import EdiPartner
from crossdock.connectors.edi.as2.message import As2Keys, KeysUnreadable, keys_of
from crossdock.errors import CrossdockError

Whose = Literal["ours", "partner"]


class CertificateRefused(CrossdockError):
    """A certificate of the profile may not be used now (expired, not yet valid, revoked, or
    without the key usage the operation needs)."""

    def __init__(self, whose: Whose, message: str) -> None:
        super().__init__(message)
        self.whose = whose


@dataclass(frozen=True, slots=True)
class CertificateFinding:
    whose: Whose
    message: str


def _utc(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _dates(
    certificate: x509.Certificate, whose: Whose, now: datetime.datetime
) -> list[CertificateFinding]:
    name = "our certificate" if whose == "ours" else "the partner's certificate"
    serial = f"{certificate.serial_number:x}"
    if now < certificate.not_valid_before_utc:
        return [
            CertificateFinding(
                whose,
                f"{name} (serial {serial}) is not valid before "
                f"{_utc(certificate.not_valid_before_utc)}",
            )
        ]
    if now > certificate.not_valid_after_utc:
        return [
            CertificateFinding(
                whose,
                f"{name} (serial {serial}) expired on {_utc(certificate.not_valid_after_utc)}",
            )
        ]
    return []


def _usage(
    certificate: x509.Certificate, whose: Whose, *, signs: bool, encrypts: bool
) -> list[CertificateFinding]:
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return []  # no restriction
    name = "our certificate" if whose == "ours" else "the partner's certificate"
    found = []
    if signs and not (usage.digital_signature or usage.content_commitment):
        found.append(
            CertificateFinding(whose, f"{name}'s key usage does not allow digitalSignature")
        )
    if encrypts and not usage.key_encipherment:
        found.append(
            CertificateFinding(whose, f"{name}'s key usage does not allow keyEncipherment")
        )
    return found


def read_crl(path: Path) -> x509.CertificateRevocationList:
    """A CRL file, PEM or DER."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeysUnreadable(f"partner_crl: cannot read {path}: {exc.strerror}") from exc
    try:
        if b"-----BEGIN X509 CRL-----" in data:
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except ValueError as exc:
        raise KeysUnreadable(f"partner_crl: {path} is not a CRL (PEM or DER): {exc}") from exc


def _revocation(
    certificate: x509.Certificate, crl: x509.CertificateRevocationList
) -> list[CertificateFinding]:
    if crl.issuer != certificate.issuer:
        return [
            CertificateFinding(
                "partner",
                f"partner_crl is issued by {crl.issuer.rfc4514_string()}, not by the partner "
                f"certificate's issuer {certificate.issuer.rfc4514_string()}",
            )
        ]
    if certificate.issuer == certificate.subject:
        public = certificate.public_key()
        if not isinstance(public, rsa.RSAPublicKey | ec.EllipticCurvePublicKey) or not (
            crl.is_signature_valid(public)
        ):
            return [CertificateFinding("partner", "partner_crl's signature does not verify")]
    revoked = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
    if revoked is None:
        return []
    return [
        CertificateFinding(
            "partner",
            f"the partner's certificate (serial {certificate.serial_number:x}) was revoked on "
            f"{_utc(revoked.revocation_date_utc)}",
        )
    ]


def problems(
    settings: As2Transport, keys: As2Keys, now: datetime.datetime | None = None
) -> list[CertificateFinding]:
    """What forbids using the profile's certificates now (empty: they may be used)."""
    moment = now or datetime.datetime.now(datetime.UTC)
    found = _dates(keys.certificate, "ours", moment) + _dates(keys.partner, "partner", moment)
    found += _usage(
        keys.certificate,
        "ours",
        signs=settings.sign or settings.signed_mdn,
        encrypts=settings.require_encrypted,
    )
    found += _usage(
        keys.partner,
        "partner",
        signs=settings.require_signed or settings.signed_mdn,
        encrypts=settings.encrypt,
    )
    if settings.partner_crl is not None:
        found += _revocation(keys.partner, read_crl(settings.partner_crl))
    return found


def check(settings: As2Transport, keys: As2Keys, now: datetime.datetime | None = None) -> None:
    """Raise :class:`CertificateRefused` (the partner's problem first) when a certificate may
    not be used now; raises :class:`KeysUnreadable` when the CRL file cannot be read."""
    found = problems(settings, keys, now)
    if found:
        first = next((f for f in found if f.whose == "partner"), found[0])
        raise CertificateRefused(first.whose, "; ".join(f.message for f in found))


def warnings(
    settings: As2Transport, keys: As2Keys, now: datetime.datetime | None = None
) -> list[CertificateFinding]:
    """What will soon forbid using the certificates: an expiry within
    ``certificate_warning_days``, a CRL past its next update."""
    moment = now or datetime.datetime.now(datetime.UTC)
    horizon = moment + datetime.timedelta(days=settings.certificate_warning_days)
    found = []
    for whose, certificate in (("ours", keys.certificate), ("partner", keys.partner)):
        after = certificate.not_valid_after_utc
        if moment <= after <= horizon:
            name = "our certificate" if whose == "ours" else "the partner's certificate"
            days = (after - moment).total_seconds() / 86400
            found.append(
                CertificateFinding(
                    "ours" if whose == "ours" else "partner",
                    f"{name} (serial {certificate.serial_number:x}) expires on {_utc(after)}, "
                    f"in {days:.0f} days",
                )
            )
    if settings.partner_crl is not None:
        crl = read_crl(settings.partner_crl)
        next_update = crl.next_update_utc
        if next_update is not None and next_update < moment:
            found.append(
                CertificateFinding(
                    "partner",
                    f"partner_crl {settings.partner_crl} is stale: its next update was due "
                    f"{_utc(next_update)}",
                )
            )
    return found


def audit(
    settings: As2Transport, now: datetime.datetime | None = None
) -> tuple[list[CertificateFinding], list[CertificateFinding]]:
    """The profile's keys read now: what forbids their use, and what will soon. Raises
    :class:`~crossdock.errors.CrossdockError` when the keys, the key's password or the CRL
    cannot be read."""
    keys = keys_of(settings)
    return problems(settings, keys, now), warnings(settings, keys, now)


Notice = tuple[str, Whose, Literal["refused", "expiring"], str]
"""(partner, whose certificate, refused now or expiring soon, what)."""


def notices(
    partners: Mapping[str, EdiPartner], now: datetime.datetime | None = None
) -> list[Notice]:
    """Every AS2 partner's certificate findings (keys that cannot be read are refusals)."""
    found: list[Notice] = []
    for name, partner in partners.items():
        transport = partner.transport
        if not isinstance(transport, As2Transport):
            continue
        try:
            refused, coming = audit(transport, now)
        except CrossdockError as exc:
            found.append((name, "ours", "refused", str(exc)))
            continue
        found += [(name, f.whose, "refused", f.message) for f in refused]
        found += [(name, f.whose, "expiring", f.message) for f in coming]
    return found
