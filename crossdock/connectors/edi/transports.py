"""The transport of a partner, built from its configuration."""

from __future__ import annotations

from crossdock.config.edi import DirectoryTransport, EdiPartner, SftpTransport
from crossdock.connectors.edi.directory import DirectoryMailbox
from crossdock.connectors.edi.port import EdiTransport
from crossdock.connectors.edi.sftp import SftpMailbox


def open_transport(name: str, partner: EdiPartner) -> EdiTransport:
    """The transport of partner ``name`` (nothing is connected until the first call)."""
    transport = partner.transport
    if isinstance(transport, SftpTransport):
        return SftpMailbox(transport, name=name)
    assert isinstance(transport, DirectoryTransport)
    return DirectoryMailbox(transport)
