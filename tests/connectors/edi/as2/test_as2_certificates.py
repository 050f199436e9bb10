"""AS2 certificate checks: validity dates, key usage and a partner CRL, enforced on every message
both ways (an MDN error or a 403 problem, and an exception), reported ahead of time by
``crossdock config check`` and by the EDI loop's audit. Certificates and CRLs are made here with
``cryptography``'s builders, with dates in the past and the future."""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from crossdock.cli import app
from crossdock.config import CONFIG_ENV_VAR
from crossdock.config.as2 import As2Transport
from crossdock.config.edi import EdiConfig, EdiPartner
from crossdock.connectors.edi.as2 import certificates
from crossdock.connectors.edi.as2.message import keys_of
from crossdock.connectors.edi.transports import open_transport
from crossdock.engine import Database
from crossdock.flows.edi import store
from crossdock.flows.edi.as2_certificates import audit_certificates
from crossdock.flows.edi.inbound import Retrying
from crossdock.flows.edi.outbound import ControlNumbers, record_outbound, send_due
from crossdock.flows.edi.service import CERTIFICATE_AUDIT_S, EdiService
from crossdock.flows.exceptions import list_exceptions
from crossdock.retry import Backoff
from tests.api.conftest import serve_api
from tests.connectors.edi.as2.conftest import Keys, profile
from tests.connectors.edi.as2.support import (
    Identity,
    Partner,
    partner_message,
    read_mdn,
)
from tests.flows.edi.support import interchange

NOW = datetime.datetime.now(datetime.UTC)
DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Made:
    identity: Identity
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey


def make(
    folder: Path,
    name: str,
    *,
    before: datetime.datetime = NOW - DAY,
    after: datetime.datetime = NOW + 365 * DAY,
    usage: x509.KeyUsage | None = None,
) -> Made:
    """A self-signed RSA certificate valid from ``before`` to ``after``, as PEM files."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(before)
        .not_valid_after(after)
    )
    if usage is not None:
        builder = builder.add_extension(usage, critical=True)
    certificate = builder.sign(key, hashes.SHA256())
    folder.mkdir(parents=True, exist_ok=True)
    identity = Identity(folder / f"{name}.pem", folder / f"{name}.key")
    identity.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    identity.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Made(identity, certificate, key)


def crl(
    path: Path,
    issuer: Made,
    revoked: list[int],
    *,
    next_update: datetime.datetime = NOW + 7 * DAY,
    der: bool = False,
) -> Path:
    """A CRL signed by ``issuer`` revoking the ``revoked`` serial numbers."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.certificate.subject)
        .last_update(NOW - DAY)
        .next_update(next_update)
    )
    for serial in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(NOW - DAY / 2)
            .build()
        )
    made = builder.sign(issuer.key, hashes.SHA256())
    path.write_bytes(
        made.public_bytes(serialization.Encoding.DER if der else serialization.Encoding.PEM)
    )
    return path


def settings(ours: Identity, theirs: Identity, **overrides: Any) -> As2Transport:
    return As2Transport.model_validate(
        {
            "kind": "as2",
            "url": "http://127.0.0.1:9/as2",
            "as2_id": "CROSSDOCK",
            "partner_as2_id": "ACME AS2",
            "certificate": str(ours.certificate),
            "private_key": str(ours.key),
            "partner_certificate": str(theirs.certificate),
            **overrides,
        }
    )


def findings(s: As2Transport) -> list[str]:
    return [f.message for f in certificates.problems(s, keys_of(s))]


# -- the checks -----------------------------------------------------------------------------------


def test_valid_certificates_pass(tmp_path: Path, keys: Keys) -> None:
    s = settings(keys.hub, keys.partner)
    assert findings(s) == []
    assert certificates.warnings(s, keys_of(s)) == []


@pytest.mark.parametrize(
    ("dates", "says"),
    [
        ({"before": NOW - 400 * DAY, "after": NOW - DAY}, "expired on"),
        ({"before": NOW + DAY, "after": NOW + 400 * DAY}, "is not valid before"),
    ],
)
def test_dates_are_enforced_for_both_certificates(
    tmp_path: Path, keys: Keys, dates: dict[str, datetime.datetime], says: str
) -> None:
    bad = make(tmp_path, "bad", **dates).identity
    [partner] = findings(settings(keys.hub, bad))
    [ours] = findings(settings(bad, keys.partner))
    assert partner.startswith("the partner's certificate") and says in partner
    assert ours.startswith("our certificate") and says in ours
    with pytest.raises(certificates.CertificateRefused) as refused:
        certificates.check(settings(bad, bad), keys_of(settings(bad, bad)))
    assert refused.value.whose == "partner"  # theirs named first


def test_key_usage_is_enforced_where_present(tmp_path: Path, keys: Keys) -> None:
    signing_only = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    theirs = make(tmp_path, "signer", usage=signing_only).identity
    assert findings(settings(keys.hub, theirs)) == [
        "the partner's certificate's key usage does not allow keyEncipherment"
    ]
    # Nothing is encrypted to them: signing is all their certificate is used for.
    assert findings(settings(keys.hub, theirs, encrypt=False)) == []


@pytest.mark.parametrize("der", [False, True])
def test_a_revoked_partner_certificate_is_refused(tmp_path: Path, der: bool) -> None:
    ours = make(tmp_path, "hub")
    theirs = make(tmp_path, "acme")
    listed = crl(tmp_path / "acme.crl", theirs, [theirs.certificate.serial_number], der=der)
    [found] = findings(settings(ours.identity, theirs.identity, partner_crl=str(listed)))
    assert "was revoked on" in found

    clean = crl(tmp_path / "clean.crl", theirs, [theirs.certificate.serial_number + 1], der=der)
    assert findings(settings(ours.identity, theirs.identity, partner_crl=str(clean))) == []


def test_a_crl_of_another_issuer_or_forged_is_refused(tmp_path: Path) -> None:
    ours = make(tmp_path, "hub")
    theirs = make(tmp_path, "acme")
    other = crl(tmp_path / "other.crl", ours, [])
    [found] = findings(settings(ours.identity, theirs.identity, partner_crl=str(other)))
    assert "not by the partner certificate's issuer" in found

    impostor = make(tmp_path / "impostor", "acme")  # the same name, another key
    forged = crl(tmp_path / "forged.crl", impostor, [])
    [found] = findings(settings(ours.identity, theirs.identity, partner_crl=str(forged)))
    assert found == "partner_crl's signature does not verify"

    garbage = tmp_path / "garbage.crl"
    garbage.write_bytes(b"not a crl")
    with pytest.raises(certificates.KeysUnreadable, match="not a CRL"):
        findings(settings(ours.identity, theirs.identity, partner_crl=str(garbage)))


def test_an_expiry_within_the_warning_days_and_a_stale_crl_are_warnings(tmp_path: Path) -> None:
    ours = make(tmp_path, "hub", after=NOW + 10 * DAY)
    theirs = make(tmp_path, "acme")
    stale = crl(tmp_path / "stale.crl", theirs, [], next_update=NOW - DAY)
    s = settings(ours.identity, theirs.identity, partner_crl=str(stale))
    assert findings(s) == []
    warned = [f.message for f in certificates.warnings(s, keys_of(s))]
    assert len(warned) == 2
    assert warned[0].startswith("our certificate") and "in 10 days" in warned[0]
    assert "is stale" in warned[1]
    quiet = settings(ours.identity, theirs.identity, certificate_warning_days=5)
    assert certificates.warnings(quiet, keys_of(quiet)) == []


# -- at use: inbound, outbound --------------------------------------------------------------------


def _hub_config(tmp_path: Path, keys: Keys, url: str, **transport: Any) -> dict[str, Any]:
    acme = profile(keys, url, **transport)
    return {
        "database": {"url": f"sqlite:///{tmp_path / 'hub.db'}"},
        "api": {"port": 0},
        "edi": {"max_attempts": 2, "partners": {"acme": acme}},
    }


@pytest.mark.parametrize("why", ["expired", "revoked"])
async def test_a_message_signed_with_an_unusable_certificate_is_refused(
    tmp_path: Path, keys: Keys, why: str
) -> None:
    theirs = make(tmp_path, "acme", after=NOW - DAY if why == "expired" else NOW + 365 * DAY)
    overrides: dict[str, Any] = {"partner_certificate": str(theirs.identity.certificate)}
    if why == "revoked":
        listed = crl(tmp_path / "acme.crl", theirs, [theirs.certificate.serial_number])
        overrides["partner_crl"] = str(listed)
    config = _hub_config(tmp_path, keys, "http://127.0.0.1:9/as2", **overrides)
    with_mdn = partner_message(interchange(4701), theirs.identity, keys.hub, message_id="<c1@a>")
    without = partner_message(
        interchange(4702), theirs.identity, keys.hub, message_id="<c2@a>", mdn=False
    )
    async with serve_api(config) as api:
        answer = await api.client.post(
            "/v1/edi/as2/acme", content=with_mdn.body, headers=with_mdn.headers
        )
        problem = await api.client.post(
            "/v1/edi/as2/acme", content=without.body, headers=without.headers
        )
        db = api.hub.engine.db
        files = await db.read(lambda c: store.list_files(c, direction="in"))
        [opened] = await db.read(lambda c: list_exceptions(c, type="edi_as2_certificate"))
    assert answer.status_code == 200
    fields = read_mdn(answer.headers["content-type"], answer.content, keys.hub)
    assert " ".join(str(fields["Disposition"]).split()).endswith(
        "processed/error: authentication-failed"
    )
    assert problem.status_code == 403
    [error] = problem.json()["errors"]
    assert error["pointer"] == "/headers/AS2-From"
    assert ("expired on" if why == "expired" else "was revoked on") in error["detail"]
    assert files == []
    assert opened.subject == "as2-certificate:acme:partner"
    assert ("expired on" if why == "expired" else "was revoked on") in opened.reason


async def test_nothing_is_sent_to_a_revoked_partner_certificate(
    tmp_path: Path, keys: Keys, partner: Partner, db: Database
) -> None:
    listed = crl(tmp_path / "acme.crl", _made(keys.partner), [_serial(keys.partner)])
    acme = EdiPartner.model_validate(profile(keys, partner.url, partner_crl=str(listed)))
    retrying = Retrying(1, Backoff(base_s=10.0, jitter=0.0))

    def build(numbers: ControlNumbers) -> bytes:
        return interchange(numbers.interchange)

    db.write_sync(lambda c: record_outbound(c, "acme", acme, build, sets=["855"], now=1000.0))
    transport = open_transport("acme", acme)
    try:
        await send_due(db, {"acme": transport}, {"acme": acme}, retrying=retrying, clock=time.time)
    finally:
        await transport.aclose()
    [file] = db.read_sync(lambda c: store.list_files(c, direction="out"))
    [opened] = db.read_sync(lambda c: list_exceptions(c, type="edi_send_failed"))
    assert partner.requests == []  # nothing posted
    assert file.state == "failed"
    assert "was revoked on" in opened.reason


def _serial(identity: Identity) -> int:
    return x509.load_pem_x509_certificate(identity.certificate.read_bytes()).serial_number


def _made(identity: Identity) -> Made:
    certificate = x509.load_pem_x509_certificate(identity.certificate.read_bytes())
    key = serialization.load_pem_private_key(identity.key.read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return Made(identity, certificate, key)


# -- ahead of time: config check, the EDI loop's audit --------------------------------------------


def _config_file(tmp_path: Path, keys: Keys, ours: Identity) -> Path:
    acme = profile(keys, "https://as2.acme.example/as2", certificate=str(ours.certificate))
    acme["transport"]["private_key"] = str(ours.key)
    path = tmp_path / "hub.yaml"
    path.write_text(yaml.safe_dump({"edi": {"partners": {"acme": acme}}}), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("after", "code", "says"),
    [
        (NOW + 10 * DAY, 0, "WARNING: edi.partners.acme.transport: our certificate"),
        (NOW - DAY, 2, "ERROR: edi.partners.acme.transport: our certificate"),
    ],
)
def test_config_check_reports_our_certificate_ahead_of_time(
    tmp_path: Path,
    keys: Keys,
    monkeypatch: pytest.MonkeyPatch,
    after: datetime.datetime,
    code: int,
    says: str,
) -> None:
    monkeypatch.delenv(CONFIG_ENV_VAR, raising=False)
    ours = make(tmp_path, "hub", before=NOW - 400 * DAY, after=after).identity
    result = CliRunner().invoke(
        app, ["config", "check", "--config", str(_config_file(tmp_path, keys, ours))]
    )
    assert result.exit_code == code, result.output
    assert says in result.output


async def test_the_edi_loop_opens_an_exception_before_a_certificate_expires(
    tmp_path: Path, keys: Keys, db: Database
) -> None:
    ours = make(tmp_path, "hub", after=NOW + 10 * DAY).identity
    acme = EdiPartner.model_validate(
        profile(
            keys,
            "http://127.0.0.1:9/as2",
            certificate=str(ours.certificate),
            private_key=str(ours.key),
        )
    )
    found = await audit_certificates(db, lambda: certificates.notices({"acme": acme}), 1000.0)
    again = await audit_certificates(db, lambda: certificates.notices({"acme": acme}), 2000.0)
    opened = db.read_sync(lambda c: list_exceptions(c, type="edi_as2_certificate_expiring"))
    assert (found, again) == (1, 1)
    [one] = opened  # the same finding is one open exception
    assert one.subject == "as2-certificate:acme:ours"
    assert "expires on" in one.reason and "in 10 days" in one.reason


async def test_the_edi_loop_audits_the_certificates_hourly(db: Database) -> None:
    audits: list[float] = []
    now = [1000.0]

    def audit() -> list[tuple[str, str, str, str]]:
        audits.append(now[0])
        return [("acme", "ours", "expiring", "our certificate expires on 2027-01-01 00:00 UTC")]

    service = EdiService(EdiConfig(), db, {}, certificates=audit, clock=lambda: now[0])
    for moment in (1000.0, 1000.0 + CERTIFICATE_AUDIT_S - 1, 1000.0 + CERTIFICATE_AUDIT_S):
        now[0] = moment
        await service.run_once(poll=False)
    [opened] = db.read_sync(lambda c: list_exceptions(c, type="edi_as2_certificate_expiring"))
    assert audits == [1000.0, 1000.0 + CERTIFICATE_AUDIT_S]
    assert "expires on 2027-01-01" in opened.reason
