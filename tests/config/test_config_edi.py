"""The `edi` section: trading partners with their identities, version, delimiters, sets each way,
997 expectation, mapping overrides and transport; credentials as secret references; every
mistake reported with its path."""

from __future__ import annotations

import pytest

from crossdock.config import ConfigError, parse_config
from crossdock.config.edi import SftpTransport

PARTNER = """\
edi:
  partners:
    acme:
      channel: edi-acme
      ours: {isa_qualifier: ZZ, isa_id: CROSSDOCK, gs_id: CROSSDOCK}
      theirs: {isa_qualifier: "01", isa_id: "123456789", gs_id: ACME}
      transport: {kind: sftp, host: sftp.acme.example, username: hub, password: "${PW}"}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    return info.value.problems


def test_a_partner_with_its_defaults() -> None:
    cfg = parse_config(PARTNER)
    acme = cfg.edi.partners["acme"]
    assert (acme.version, acme.usage, acme.delimiters.element) == ("004010", "P", "*")
    assert acme.receive == ["850", "997"] and acme.send == ["997", "855", "856", "810"]
    assert acme.acknowledgement.within_h == 24
    assert isinstance(acme.transport, SftpTransport)
    assert acme.transport.password is not None and acme.transport.password.ref == "${PW}"
    assert parse_config("").edi.partners == {}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('password: "${PW}"', "password: hunter2"),
            "edi.partners.acme.transport.sftp.password: secrets must be references",
        ),
        (('password: "${PW}"', "port: 22"), "edi.partners.acme.transport.sftp: set password"),
        (("kind: sftp", "kind: ftp"), "edi.partners.acme.transport"),
        (("isa_qualifier: ZZ", "isa_qualifier: Z"), "edi.partners.acme.ours.isa_qualifier"),
        (('isa_id: "123456789"', "isa_id: 1234567890123456"), "edi.partners.acme.theirs.isa_id"),
        (("channel: edi-acme", 'channel: edi-acme\n      version: "003050"'), "version"),
        (
            ("channel: edi-acme", "channel: edi-acme\n      delimiters: {element: '~'}"),
            "the four delimiters must be different",
        ),
        (
            ("channel: edi-acme", "channel: edi-acme\n      receive: ['850', '850']"),
            "a set is listed twice",
        ),
        (
            ("channel: edi-acme", "channel: edi-acme\n      acknowledgement: {within_h: 0}"),
            "edi.partners.acme.acknowledgement.within_h",
        ),
    ],
)
def test_each_partner_problem_has_its_path(change: tuple[str, str], expected: str) -> None:
    found = problems(PARTNER.replace(*change))
    assert len(found) == 1 and expected in found[0], found


def test_two_partners_with_one_isa_identity_are_refused() -> None:
    second = PARTNER.split("    acme:\n")[1].replace("edi-acme", "edi-globex")
    found = problems(PARTNER + "    globex:\n" + second)
    assert len(found) == 1 and "partners acme and globex have the same ISA" in found[0]
