"""The transport of a partner, built from its configuration."""

from __future__ import annotations

from crossdock.config.as2 import As2Transport
from crossdock.config.edi import DirectoryTransport, EdiPartner, SftpTransport
from crossdock.connectors.edi.as2.client import As2Mailbox
from crossdock.connectors.edi.directory import DirectoryMailbox
from crossdock.connectors.edi.port import EdiTransport
from crossdock.connectors.edi.sftp import SftpMailbox


def open_transport(name: str, partner: EdiPartner) -> EdiTransport:
    """The transport of partner ``name`` (nothing is connected until the first call)."""
    transport = partner.transport
    if isinstance(transport, SftpTransport):
        return SftpMailbox(transport, name=name)
    if isinstance(transport, As2Transport):
        return As2Mailbox(transport, name=name)
    assert isinstance(transport, DirectoryTransport)
    return DirectoryMailbox(transport)
