"""The ``edi`` section of ``crossdock.yaml``: X12 trading partners, how files reach them and
how long the hub keeps trying before it gives up on a file.

.. code-block:: yaml

    edi:
      poll_schedule: "* * * * *"      # when each partner's side is polled (cron, UTC)
      poll_s: 60                      # how often received files are processed and ours sent
      max_attempts: 5                 # a file still not processed after this many tries is rejected
      retry: {base_s: 30, factor: 2, max_s: 3600}
      partners:
        acme:
          channel: edi-acme           # the sales channel its orders come in as
          usage: P                    # ISA15: P (production) | T (test)
          version: "004010"           # 004010 | 005010
          ours: {isa_qualifier: ZZ, isa_id: CROSSDOCK, gs_id: CROSSDOCK}
          theirs: {isa_qualifier: "01", isa_id: "123456789", gs_id: ACME}
          delimiters: {element: "*", sub_element: ">", repetition: "^", segment: "~"}
          receive: ["850", "997"]
          send: ["997", "855", "856", "810"]
          acknowledgement: {required: true, within_h: 24}
          mapping: {ship_to_qualifier: ST, product_qualifier: VN}
          transport:
            kind: sftp
            host: sftp.acme.example
            username: crossdock
            password: ${ACME_SFTP_PASSWORD}
            host_key: "ssh-ed25519 AAAA..."
            outbox: /out              # their outbox: where we pick files up
            inbox: /in                # their inbox: where we put files

Credentials are secret references (``${ENV}`` or ``file:/path``), as everywhere else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from crossdock.config.as2 import As2Transport
from crossdock.config.base import ConfigModel, Cron, Name, RetryPolicy
from crossdock.config.secrets import SecretRef

__all__ = [
    "SETS",
    "AckExpectation",
    "DelimiterSettings",
    "DirectoryTransport",
    "EdiConfig",
    "EdiPartner",
    "Identity",
    "MappingOverrides",
    "RetryPolicy",
    "SftpTransport",
    "Transport",
]

SETS = ("850", "855", "856", "810", "997")
"""The transaction sets a partner may exchange (TA1 follows the interchanges, not this list)."""

Set = Literal["850", "855", "856", "810", "997"]

# ISA identifiers are fixed-width fields of printable characters; the qualifier is 2 wide, the id
# up to 15 (padded with spaces when written).
_ISA_ID = r"^[!-~][ -~]{0,14}$"


class Identity(ConfigModel):
    """One side of an interchange: the ISA qualifier and id, and the GS application code."""

    isa_qualifier: str = Field(pattern=r"^[0-9A-Z]{2}$")
    isa_id: str = Field(pattern=_ISA_ID)
    gs_id: str = Field(pattern=r"^[!-~][ -~]{1,14}$")
    """GS02/GS03: 2 to 15 characters."""


class DelimiterSettings(ConfigModel):
    """The separators written into outbound interchanges (inbound ones are read from the ISA)."""

    element: str = Field(default="*", min_length=1, max_length=1)
    sub_element: str = Field(default=">", min_length=1, max_length=1)
    repetition: str = Field(default="^", min_length=1, max_length=1)
    """ISA11 in 005010; 004010 writes ``U`` there and has no repetition separator."""
    segment: str = Field(default="~", min_length=1, max_length=1)
    line_break: bool = False
    """A line break after each segment terminator (some VANs ask for it)."""

    @model_validator(mode="after")
    def _distinct(self) -> DelimiterSettings:
        chars = [self.element, self.sub_element, self.repetition, self.segment]
        if len(set(chars)) != len(chars):
            raise PydanticCustomError("distinct", "the four delimiters must be different")
        if any(c.isalnum() or c == " " for c in chars):
            raise PydanticCustomError(
                "delimiter", "a delimiter may not be a letter, a digit or a space"
            )
        return self


class AckExpectation(ConfigModel):
    """Whether the partner answers our sets with a 997, and within how long."""

    required: bool = True
    within_h: float = Field(default=24.0, gt=0)


class MappingOverrides(ConfigModel):
    """Partner variations of the canonical mapping."""

    ship_to_qualifier: str = Field(default="ST", pattern=r"^[0-9A-Z]{2,3}$")
    """The N101 entity code that names the ship-to party."""
    bill_to_qualifier: str = Field(default="BT", pattern=r"^[0-9A-Z]{2,3}$")
    product_qualifier: Literal["BP", "VN", "UP", "IN", "SK"] = "VN"
    """The PO1/LIN qualifier whose id is our SKU (BP buyer's part, VN vendor's, UP UPC…)."""


class SftpTransport(ConfigModel):
    """Files over SFTP: picked up from the partner's outbox, put in their inbox."""

    kind: Literal["sftp"]
    host: str = Field(min_length=1, max_length=255)
    port: int = Field(default=22, ge=1, le=65535)
    username: str = Field(min_length=1, max_length=100)
    password: SecretRef | None = None
    private_key: SecretRef | None = None
    """An OpenSSH private key (PEM text), as a secret reference."""
    host_key: str | None = None
    """The server's public key (``ssh-ed25519 AAAA…``); unset: the system's known_hosts."""
    outbox: str = "/out"
    inbox: str = "/in"
    archive: str | None = None
    """Where picked-up files are moved on their server; unset: they are deleted."""
    timeout_s: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _credential(self) -> SftpTransport:
        if self.password is None and self.private_key is None:
            raise PydanticCustomError("credential", "set password or private_key")
        return self


class DirectoryTransport(ConfigModel):
    """A mailbox mounted as files (a VAN's drop folders)."""

    kind: Literal["directory"]
    inbound: Path
    """Where the partner's files appear."""
    outbound: Path
    """Where ours are put (written under a temporary name, then renamed)."""
    archive: Path | None = None
    """Where picked-up files are moved; unset: they are deleted."""


Transport = Annotated[
    SftpTransport | DirectoryTransport | As2Transport, Field(discriminator="kind")
]


def _sets(*names: Set) -> list[Set]:
    return list(names)


class EdiPartner(ConfigModel):
    """A trading partner: who they are, what is exchanged and how."""

    channel: Name
    """The sales channel their orders come in as (``channels:`` policies apply)."""
    supplier: str | None = Field(default=None, min_length=1, max_length=100)
    """The supplier this partner is (its reference in the ERP): its purchase orders go out as
    850s (with ``850`` in ``send``) and its 855, 856 and 810 come in to procure-to-stock."""
    usage: Literal["P", "T"] = "P"
    """ISA15: production or test."""
    version: Literal["004010", "005010"] = "004010"
    ours: Identity
    theirs: Identity
    delimiters: DelimiterSettings = Field(default_factory=DelimiterSettings)
    receive: list[Set] = Field(default_factory=lambda: _sets("850", "997"))
    send: list[Set] = Field(default_factory=lambda: _sets("997", "855", "856", "810"))
    acknowledgement: AckExpectation = Field(default_factory=AckExpectation)
    mapping: MappingOverrides = Field(default_factory=MappingOverrides)
    transport: Transport

    @field_validator("receive", "send")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise PydanticCustomError("unique", "a set is listed twice")
        return value


class EdiConfig(ConfigModel):
    """EDI trading partners and the file handling shared by them."""

    poll_schedule: Cron | None = "* * * * *"
    """When each partner's side is polled (cron, UTC): an engine schedule per partner, so that
    one node polls a partner at a time; a failed poll is retried with ``retry`` and opens an
    exception after ``max_attempts``. ``null``: each node's loop polls every ``poll_s`` (a
    single node, such as the demo)."""
    poll_s: float = Field(default=60.0, gt=0)
    max_attempts: int = Field(default=5, ge=1)
    """Tries of a transport call, and of a received file's processing, before an exception."""
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    partners: dict[Name, EdiPartner] = Field(default_factory=dict)


    @model_validator(mode="after")
    def _distinct_partners(self) -> EdiConfig:
        seen: dict[tuple[str, str], str] = {}
        for name, partner in self.partners.items():
            key = (partner.theirs.isa_qualifier, partner.theirs.isa_id)
            if key in seen:
                raise PydanticCustomError(
                    "duplicate_partner",
                    "partners {a} and {b} have the same ISA qualifier and id",
                    {"a": seen[key], "b": name},
                )
            seen[key] = name
        return self
