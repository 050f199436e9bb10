"""What the hub's AS2 endpoint answers to messages that are not right (a real server on
127.0.0.1, messages made by openssl): a request that is no AS2 message for this partner gets a
4xx problem naming the header; a message failing a security check gets a signed MDN saying
``processed/error: <failure>`` (or, with no MDN asked, a 400/403 problem); nothing of it is
stored. Also: an unsigned MDN when none was asked signed, and no MDN when none was asked."""

from __future__ import annotations

import base64
import hashlib
import zlib

import httpx
import pytest
from asn1crypto import cms  # type: ignore[import-untyped]
from sqlalchemy import Connection, func, select

from crossdock.flows.edi import store
from crossdock.flows.edi.tables import edi_files
from tests.connectors.edi.as2.conftest import As2Hub, Keys
from tests.connectors.edi.as2.support import (
    As2Post,
    openssl_encrypt,
    openssl_sign,
    partner_message,
    payload_entity,
    read_mdn,
)
from tests.flows.edi.support import interchange


def _stored(hub: As2Hub) -> int:
    def count(conn: Connection) -> int:
        return int(conn.execute(select(func.count()).select_from(edi_files)).scalar_one())

    return hub.api.hub.engine.db.read_sync(count)


async def _post(
    hub: As2Hub, message: As2Post, *, path: str = "/v1/edi/as2/acme", **headers: str | None
) -> httpx.Response:
    sent = {k: v for k, v in {**message.headers, **headers}.items() if v is not None}
    return await hub.api.client.post(path, content=message.body, headers=sent)


def _message(keys: Keys, n: int = 1, **options: bool) -> As2Post:
    return partner_message(
        interchange(4200 + n), keys.partner, keys.hub, message_id=f"<m{n}@acme.example>", **options
    )


@pytest.mark.parametrize(
    ("path", "headers", "status", "pointer"),
    [
        ("/v1/edi/as2/globex", {}, 404, None),
        ("/v1/edi/as2/acme", {"Message-ID": None}, 400, "/headers/Message-ID"),
        ("/v1/edi/as2/acme", {"AS2-From": "SOMEONE"}, 403, "/headers/AS2-From"),
        ("/v1/edi/as2/acme", {"AS2-To": "OTHER HUB"}, 400, "/headers/AS2-To"),
        (
            "/v1/edi/as2/acme",
            {"Receipt-Delivery-Option": "mailto:edi@acme.example"},
            400,
            "/headers/Receipt-Delivery-Option",
        ),
    ],
)
async def test_what_is_no_as2_message_for_the_partner_is_a_problem(
    hub: As2Hub, keys: Keys, path: str, headers: dict[str, str | None], status: int, pointer: str
) -> None:
    answer = await _post(hub, _message(keys), path=path, **headers)

    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    if pointer is not None:
        [error] = answer.json()["errors"]
        assert error["pointer"] == pointer
    assert _stored(hub) == 0


async def test_garbage_is_answered_by_an_error_mdn_or_a_problem(hub: As2Hub, keys: Keys) -> None:
    garbage = As2Post(dict(_message(keys).headers), b"\x30\x03\x02\x01\x00 not DER", "", "<g@a>")

    with_mdn = await _post(hub, garbage)

    assert with_mdn.status_code == 200
    fields = read_mdn(with_mdn.headers["Content-Type"], with_mdn.content, keys.hub)
    assert fields["Disposition"].endswith("processed/error: decryption-failed")
    without = await _post(hub, garbage, **{"Disposition-Notification-To": None})
    assert without.status_code == 400
    assert without.json()["errors"][0]["rule"] == "decryption-failed"
    assert _stored(hub) == 0


async def test_a_message_for_another_certificate_cannot_be_decrypted(
    hub: As2Hub, keys: Keys
) -> None:
    signed = openssl_sign(payload_entity(interchange(4210)), keys.partner)
    message = _message(keys)
    message.body = openssl_encrypt(signed, keys.partner)  # not to the hub's certificate

    answer = await _post(hub, message)

    fields = read_mdn(answer.headers["Content-Type"], answer.content, keys.hub)
    assert fields["Disposition"].endswith("processed/error: decryption-failed")
    assert _stored(hub) == 0


async def test_content_changed_after_signing_fails_the_integrity_check(
    hub: As2Hub, keys: Keys
) -> None:
    signed = openssl_sign(payload_entity(interchange(4211, po="PO-1")), keys.partner)
    tampered = signed.replace(b"PO-1", b"PO-9")
    assert tampered != signed
    message = _message(keys)
    message.body = openssl_encrypt(tampered, keys.hub)

    answer = await _post(hub, message)

    fields = read_mdn(answer.headers["Content-Type"], answer.content, keys.hub)
    assert fields["Disposition"].endswith("processed/error: integrity-check-failed")
    without = await _post(hub, message, **{"Disposition-Notification-To": None})
    assert without.status_code == 403
    assert _stored(hub) == 0


async def test_a_message_less_secure_than_the_profile_is_refused(hub: As2Hub, keys: Keys) -> None:
    signed_only = _message(keys, 2, encrypt=False)
    encrypted_only = _message(keys, 3, sign=False)

    for message in (signed_only, encrypted_only):
        answer = await _post(hub, message)
        fields = read_mdn(answer.headers["Content-Type"], answer.content, keys.hub)
        assert fields["Disposition"].endswith("processed/error: insufficient-message-security")
    assert _stored(hub) == 0


async def test_an_unsigned_mdn_when_asked_and_none_when_not_asked(hub: As2Hub, keys: Keys) -> None:
    message = _message(keys, 4)

    answer = await _post(hub, message, **{"Disposition-Notification-Options": None})

    assert answer.headers["content-type"].startswith("multipart/report")
    fields = read_mdn(answer.headers["Content-Type"], answer.content, None)
    assert fields["Disposition"].endswith("; processed")
    assert fields["Received-Content-MIC"] == message.mic
    quiet = await _post(hub, _message(keys, 5), **{"Disposition-Notification-To": None})
    assert (quiet.status_code, quiet.content) == (200, b"")
    files = hub.api.hub.engine.db.read_sync(lambda c: store.list_files(c, direction="in"))
    assert len(files) == 2


def _compressed(entity: bytes) -> bytes:
    """``entity`` as RFC 3274 compressed data (zlib), the way AS2 software compresses before
    signing. Built here with asn1crypto: this machine's openssl has no zlib."""
    info = cms.ContentInfo(
        {
            "content_type": "compressed_data",
            "content": cms.CompressedData(
                {
                    "version": "v0",
                    "compression_algorithm": {"algorithm": "zlib"},
                    "encap_content_info": {
                        "content_type": "data",
                        "content": zlib.compress(entity),
                    },
                }
            ),
        }
    )
    return (
        b"Content-Type: application/pkcs7-mime; smime-type=compressed-data; "
        b'name="smime.p7z"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + base64.encodebytes(info.dump()).replace(b"\n", b"\r\n")
    )


async def test_a_compressed_message_is_read(hub: As2Hub, keys: Keys) -> None:
    payload = interchange(4220)
    signed = openssl_sign(_compressed(payload_entity(payload)), keys.partner)
    message = _message(keys, 6)
    message.body = openssl_encrypt(signed, keys.hub)

    answer = await _post(hub, message)

    fields = read_mdn(answer.headers["Content-Type"], answer.content, keys.hub)
    assert fields["Disposition"].endswith("; processed"), fields["Disposition"]
    [file] = hub.api.hub.engine.db.read_sync(lambda c: store.list_files(c, direction="in"))
    assert hub.api.hub.engine.db.read_sync(lambda c: store.read_bytes(c, file.id)) == payload
    assert file.detail["as2"]["compressed"] is True


async def test_a_mic_asked_in_sha1_is_answered_in_a_sha256_signed_mdn(
    hub: As2Hub, keys: Keys
) -> None:
    message = _message(keys, 7)
    options = (
        "signed-receipt-protocol=required, pkcs7-signature; signed-receipt-micalg=required, sha1"
    )

    answer = await _post(hub, message, **{"Disposition-Notification-Options": options})

    assert "micalg=sha-256" in answer.headers["content-type"]
    fields = read_mdn(answer.headers["Content-Type"], answer.content, keys.hub)
    assert fields["Disposition"].endswith("; processed")
    digest = hashlib.sha1(payload_entity(interchange(4207))).digest()
    assert fields["Received-Content-MIC"] == f"{base64.b64encode(digest).decode()}, sha1"
