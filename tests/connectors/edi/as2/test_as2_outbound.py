"""Sending over AS2 to a local partner (openssl decrypts and verifies, openssl signs the MDN): a
file is sent only on a signed MDN that names its Message-ID, says processed and echoes the MIC;
a partner down, an unsigned, forged, negative or mismatched MDN, or no MDN at all is retried with
the back-off and, after the limit, fails the file with an exception. The same file sent again
carries the same Message-ID, so the partner can recognise it."""

from __future__ import annotations

import hashlib

import pytest

from crossdock.config.edi import EdiPartner
from crossdock.connectors.edi.transports import open_transport
from crossdock.engine import Database
from crossdock.flows.edi import store
from crossdock.flows.edi.inbound import Retrying
from crossdock.flows.edi.outbound import ControlNumbers, record_outbound, send_due
from crossdock.flows.exceptions import list_exceptions
from crossdock.retry import Backoff
from tests.connectors.edi.as2.conftest import Keys, profile
from tests.connectors.edi.as2.support import Partner
from tests.flows.edi.support import interchange

RETRYING = Retrying(2, Backoff(base_s=10.0, factor=2.0, max_s=100.0, jitter=0.0))


def _builder(numbers: ControlNumbers) -> bytes:
    return interchange(numbers.interchange, po=f"PO-{numbers.interchange}")


async def _send(db: Database, acme: EdiPartner, now: float) -> store.EdiFile:
    transport = open_transport("acme", acme)
    try:
        await send_due(
            db, {"acme": transport}, {"acme": acme}, retrying=RETRYING, clock=lambda: now
        )
    finally:
        await transport.aclose()
    [file] = db.read_sync(lambda c: store.list_files(c, direction="out"))
    return file


def _queue(db: Database, acme: EdiPartner) -> bytes:
    record = db.write_sync(
        lambda c: record_outbound(c, "acme", acme, _builder, sets=["855"], now=1000.0)
    )
    return db.read_sync(lambda c: store.read_bytes(c, record.id))


async def test_a_file_is_sent_on_a_signed_mdn_with_its_mic(
    db: Database, keys: Keys, partner: Partner
) -> None:
    acme = EdiPartner.model_validate(profile(keys, partner.url))
    data = _queue(db, acme)

    file = await _send(db, acme, 1000.0)

    assert file.state == "sent", file.reason
    assert partner.received == [data]  # decrypted and verified by openssl, byte for byte
    assert file.detail["mdn"] == "processed"
    assert file.detail["as2_message_id"] == partner.requests[0]["message-id"]
    assert file.detail["mic"].endswith(", sha-256")


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("500", "HTTP 500"),
        ("empty", "no MDN in the answer"),
        ("unsigned", "the MDN is not signed"),
        ("forged", "the MDN's signature"),
        ("bad_mic", "the MDN's MIC"),
        ("error", "the partner answered processed/error: decryption-failed"),
    ],
)
async def test_no_good_mdn_is_retried_then_fails_with_an_exception(
    db: Database, keys: Keys, partner: Partner, answer: str, reason: str
) -> None:
    acme = EdiPartner.model_validate(profile(keys, partner.url))
    _queue(db, acme)
    partner.answers = [answer, answer]

    first = await _send(db, acme, 1000.0)

    assert first.state == "queued"
    assert reason in (first.reason or ""), first.reason
    assert first.next_attempt_at == 1010.0  # the back-off's first wait
    assert db.read_sync(lambda c: list_exceptions(c, type="edi_send_failed")) == []

    last = await _send(db, acme, 1010.0)

    assert last.state == "failed"
    assert (last.reason or "").startswith("gave up after 2 attempts: as2 acme:"), last.reason
    assert reason in (last.reason or "")
    [opened] = db.read_sync(lambda c: list_exceptions(c, type="edi_send_failed"))
    assert opened.subject == f"edi-file:{last.id}"
    # Both attempts were the same message to the partner.
    ids = {r["message-id"] for r in partner.requests}
    assert len(ids) == 1 and len(partner.requests) == 2


async def test_a_retry_after_a_failed_mdn_succeeds_with_the_same_message_id(
    db: Database, keys: Keys, partner: Partner
) -> None:
    acme = EdiPartner.model_validate(profile(keys, partner.url))
    _queue(db, acme)
    partner.answers = ["unsigned"]

    assert (await _send(db, acme, 1000.0)).state == "queued"
    file = await _send(db, acme, 1010.0)

    assert file.state == "sent"
    first, second = partner.requests
    assert first["message-id"] == second["message-id"] == file.detail["as2_message_id"]


async def test_partner_unreachable_is_retried(db: Database, keys: Keys) -> None:
    acme = EdiPartner.model_validate(profile(keys, "http://127.0.0.1:9/as2", timeout_s=5))
    _queue(db, acme)

    file = await _send(db, acme, 1000.0)

    assert file.state == "queued"
    assert "as2 acme: posting" in (file.reason or "")


async def test_a_file_with_bare_line_breaks_arrives_byte_for_byte(
    db: Database, keys: Keys, partner: Partner
) -> None:
    # Segments one per line (LF, as some VANs ask): canonical-form verifiers such as openssl's
    # S/MIME reader would change bare LFs, so the payload part travels base64.
    acme = EdiPartner.model_validate(profile(keys, partner.url))
    data = interchange(7).replace(b"~", b"~\n")
    db.write_sync(
        lambda c: store.store_file(
            c,
            partner="acme",
            direction="out",
            name="acme-lf.x12",
            spool=data,
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            state="queued",
            now=1000.0,
            detail={"sets": ["997"]},
        )
    )

    file = await _send(db, acme, 1000.0)

    assert file.state == "sent", file.reason
    assert partner.received == [data]


async def test_a_signed_only_profile_is_verified_by_openssl(
    db: Database, keys: Keys, partner: Partner
) -> None:
    acme = EdiPartner.model_validate(profile(keys, partner.url, encrypt=False))
    data = _queue(db, acme)

    file = await _send(db, acme, 1000.0)

    assert file.state == "sent", file.reason
    assert partner.received == [data]
    assert partner.requests[0]["content-type"].startswith("multipart/signed")
