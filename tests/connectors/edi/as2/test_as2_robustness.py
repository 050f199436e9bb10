"""Whatever bytes arrive, unpacking an AS2 message either succeeds or raises the
``SecurityError`` an MDN names — never another exception (which the route would turn into a
5xx): random bodies under each content type, and a real message with bytes flipped."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crossdock.config.as2 import As2Transport
from crossdock.connectors.edi.as2 import smime
from crossdock.connectors.edi.as2.message import As2Keys, keys_of, pack, unpack
from tests.connectors.edi.as2.conftest import Keys, transport

CONTENT_TYPES = [
    'application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"',
    "application/pkcs7-mime; smime-type=compressed-data",
    'multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="b"',
    "multipart/signed",
    "application/edi-x12",
    "text/plain; charset=",
    "",
    "garbage/;;;boundary",
]


@pytest.fixture(scope="module")
def setup(keys: Keys) -> tuple[As2Transport, As2Keys, As2Keys]:
    ours = As2Transport.model_validate(transport(keys, "http://127.0.0.1:9/as2"))
    # The partner's side of the same pair, to make real messages to the hub.
    theirs = As2Transport.model_validate(
        transport(
            keys,
            "http://127.0.0.1:9/as2",
            certificate=str(keys.partner.certificate),
            private_key=str(keys.partner.key),
            partner_certificate=str(keys.hub.certificate),
        )
    )
    return ours, keys_of(ours), keys_of(theirs)


def _unpack_or_refuse(content_type: str, body: bytes, ours: As2Transport, keys: As2Keys) -> None:
    with contextlib.suppress(smime.SecurityError):
        unpack(content_type, body, ours, keys)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content_type=st.sampled_from(CONTENT_TYPES), body=st.binary(max_size=600))
def test_random_bodies_are_refused_by_a_security_error(
    setup: tuple[As2Transport, As2Keys, As2Keys], content_type: str, body: bytes
) -> None:
    ours, keys, _ = setup
    boundary_body = b"--b\r\n" + body + b"\r\n--b\r\n" + body[::-1] + b"\r\n--b--\r\n"
    for candidate in (body, boundary_body):
        _unpack_or_refuse(content_type, candidate, ours, keys)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_real_message_with_flipped_bytes_is_refused_or_intact(
    setup: tuple[As2Transport, As2Keys, As2Keys], data: st.DataObject
) -> None:
    ours, keys, partner_keys = setup
    payload = b"ISA*00*~GS*PO~ST*850*0001~SE*2*0001~"
    for sign, encrypt in ((True, True), (True, False)):
        settings_ = ours.model_copy(update={"sign": sign, "encrypt": encrypt})
        packed = pack(payload, "po.x12", settings_, partner_keys)
        body = bytearray(packed.body)
        for _ in range(data.draw(st.integers(1, 4))):
            at = data.draw(st.integers(0, len(body) - 1))
            body[at] ^= data.draw(st.integers(1, 255))
        relaxed = ours.model_copy(update={"require_encrypted": encrypt})
        try:
            got = unpack(packed.headers["Content-Type"], bytes(body), relaxed, keys)
        except smime.SecurityError:
            continue
        # Accepted only if the flips missed everything the signature covers.
        assert got.payload == payload


@pytest.mark.parametrize(
    ("sign", "encrypt"), [(True, True), (True, False), (False, True), (False, False)]
)
def test_every_profile_round_trips_with_the_mic_the_sender_expects(
    setup: tuple[As2Transport, As2Keys, As2Keys], sign: bool, encrypt: bool
) -> None:
    ours, keys, partner_keys = setup
    theirs = ours.model_copy(update={"sign": sign, "encrypt": encrypt})
    payload = b"ISA*00*~GS*PO~\r\nST*850*0001~\nSE*2*0001~"  # mixed line breaks

    packed = pack(payload, "po.x12", theirs, partner_keys)
    relaxed = ours.model_copy(update={"require_signed": sign, "require_encrypted": encrypt})
    got = unpack(packed.headers["Content-Type"], packed.body, relaxed, keys, micalgs=("sha-256",))

    assert (got.payload, got.signed, got.encrypted) == (payload, sign, encrypt)
    assert got.mic == packed.mic
    assert got.filename == ("po.x12" if sign or encrypt else None)


def test_a_mic_asked_in_sha1_is_answered_in_sha1(
    setup: tuple[As2Transport, As2Keys, As2Keys],
) -> None:
    ours, keys, partner_keys = setup
    packed = pack(b"ISA*00*~", "po.x12", ours, partner_keys)

    got = unpack(packed.headers["Content-Type"], packed.body, ours, keys, micalgs=("sha1",))

    assert got.mic.endswith(", sha1") and got.digest == "sha1"
