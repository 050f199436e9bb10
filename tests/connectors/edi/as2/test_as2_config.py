"""An AS2 partner's profile: its defaults, and each mistake reported with its path."""

from __future__ import annotations

import pytest

from crossdock.config import ConfigError, parse_config
from crossdock.config.as2 import As2Transport

PARTNER = """\
edi:
  partners:
    initech:
      channel: edi-initech
      ours: {isa_qualifier: ZZ, isa_id: CROSSDOCK, gs_id: CROSSDOCK}
      theirs: {isa_qualifier: ZZ, isa_id: INITECH, gs_id: INITECH}
      transport:
        kind: as2
        url: https://as2.initech.example/as2
        as2_id: CROSSDOCK
        partner_as2_id: INITECH EDI
        certificate: /etc/crossdock/as2/crossdock.pem
        private_key: /etc/crossdock/as2/crossdock.key
        partner_certificate: /etc/crossdock/as2/initech.pem
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    return info.value.problems


def test_an_as2_partner_with_its_defaults() -> None:
    transport = parse_config(PARTNER).edi.partners["initech"].transport
    assert isinstance(transport, As2Transport)
    assert (transport.sign, transport.encrypt, transport.signed_mdn) == (True, True, True)
    assert (transport.digest, transport.encryption, transport.mdn) == (
        "sha256",
        "aes256_cbc",
        "sync",
    )
    assert (transport.require_signed, transport.require_encrypted) == (True, True)
    assert transport.partner_as2_id == "INITECH EDI"
    assert (transport.mdn_url, transport.mdn_within_s) == (None, 3600.0)


def test_an_async_mdn_profile() -> None:
    text = PARTNER.replace(
        "/initech.pem\n",
        "/initech.pem\n        mdn: async\n        mdn_url: https://hub.example/v1/edi/as2/initech/mdn\n",
    )
    transport = parse_config(text).edi.partners["initech"].transport
    assert isinstance(transport, As2Transport)
    assert (transport.mdn, transport.mdn_url) == (
        "async",
        "https://hub.example/v1/edi/as2/initech/mdn",
    )


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (("url: https://", "url: ftp://"), "transport.as2.url"),
        (("as2_id: CROSSDOCK", 'as2_id: "CROSS\\"DOCK"'), "transport.as2.as2_id"),
        (("        as2_id: CROSSDOCK\n", ""), "transport.as2.as2_id"),
        (
            ("/initech.pem\n", "/initech.pem\n        encryption: des3\n"),
            "transport.as2.encryption",
        ),
        (("/initech.pem\n", "/initech.pem\n        digest: sha1\n"), "transport.as2.digest"),
        (("/initech.pem\n", "/initech.pem\n        mdn: async\n"), "transport.as2: mdn: async"),
        (
            ("/initech.pem\n", "/initech.pem\n        mdn_url: mailto:edi@x\n"),
            "transport.as2.mdn_url",
        ),
        (
            ("/initech.pem\n", "/initech.pem\n        mdn_within_s: 0\n"),
            "transport.as2.mdn_within_s",
        ),
        (
            ("/initech.pem\n", "/initech.pem\n        private_key_password: secret\n"),
            "transport.as2.private_key_password: secrets must be references",
        ),
    ],
)
def test_mistakes_name_the_setting(change: tuple[str, str], where: str) -> None:
    found = problems(PARTNER.replace(*change))
    assert any(f"edi.partners.initech.{where}" in p for p in found), found
