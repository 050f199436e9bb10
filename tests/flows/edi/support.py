"""Helpers of the EDI tests: a partner profile, an interchange made of an ISA envelope around one
850, and an asyncssh SFTP server on 127.0.0.1 serving a folder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh

from crossdock.config.edi import EdiPartner

USER = "crossdock"
PASSWORD = "sftp-test-password"
PASSWORD_ENV = "CROSSDOCK_TEST_SFTP_PASSWORD"


def partner(transport: dict[str, Any], **overrides: Any) -> EdiPartner:
    data: dict[str, Any] = {
        "channel": "edi-acme",
        "ours": {"isa_qualifier": "ZZ", "isa_id": "CROSSDOCK", "gs_id": "CROSSDOCK"},
        "theirs": {"isa_qualifier": "01", "isa_id": "123456789", "gs_id": "ACME"},
        "transport": transport,
    }
    data.update(overrides)
    return EdiPartner.model_validate(data)


def interchange(
    control: int, *, po: str = "PO-1", sender: str = "123456789", usage: str = "P"
) -> bytes:
    """An 004010 interchange from partner ``01/sender`` to ``ZZ/CROSSDOCK`` holding one 850."""
    isa = (
        f"ISA*00*{'':10}*00*{'':10}*01*{sender:<15}*ZZ*{'CROSSDOCK':<15}*261205*0630*U*00401*"
        f"{control:09d}*0*{usage}*>~"
    )
    assert len(isa) == 106
    body = [
        f"GS*PO*ACME*CROSSDOCK*20261205*0630*{control}*X*004010",
        "ST*850*0001",
        f"BEG*00*SA*{po}**20261205",
        "PO1*1*2*EA*9.50**VN*SKU-1",
        "CTT*1",
        "SE*5*0001",
        f"GE*1*{control}",
        f"IEA*1*{control:09d}",
    ]
    return (isa + "~".join(body) + "~").encode()


class _Server(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == USER and password == PASSWORD


@dataclass
class SftpServer:
    port: int
    root: Path
    host_key: str
    """The server's public key line, as a profile's ``host_key``."""

    def transport(self, **overrides: Any) -> dict[str, Any]:
        return {
            "kind": "sftp",
            "host": "127.0.0.1",
            "port": self.port,
            "username": USER,
            "password": "${" + PASSWORD_ENV + "}",
            "host_key": self.host_key,
            "outbox": "/out",
            "inbox": "/in",
            **overrides,
        }


@asynccontextmanager
async def sftp_server(root: Path) -> AsyncIterator[SftpServer]:
    """A real SFTP server (asyncssh) on a free port of 127.0.0.1, chrooted to ``root``."""
    for folder in ("out", "in", "archive"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    key = asyncssh.generate_private_key("ssh-ed25519")
    listener = await asyncssh.listen(
        "127.0.0.1",
        0,
        server_host_keys=[key],
        server_factory=_Server,
        sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=str(root).encode()),
    )
    port = listener.sockets[0].getsockname()[1]
    try:
        yield SftpServer(port, root, key.export_public_key().decode().strip())
    finally:
        listener.close()
        await listener.wait_closed()


def supplier_interchange(
    control: int, functional_id: str, st: str, body: list[str], *, sender: str, gs_id: str
) -> str:
    """A supplier's 004010 interchange (``ZZ/sender`` to ``ZZ/CROSSDOCK``) around one set whose
    segments between ST and SE are ``body``, as their translator writes it."""
    isa = (
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{sender:<15}*ZZ*{'CROSSDOCK':<15}*261205*0630*U*"
        f"00401*{control:09d}*0*P*>~"
    )
    segments = [
        f"GS*{functional_id}*{gs_id}*CROSSDOCK*20261205*0630*{control}*X*004010",
        f"ST*{st}*0001",
        *body,
        f"SE*{len(body) + 2}*0001",
        f"GE*1*{control}",
        f"IEA*1*{control:09d}",
    ]
    return isa + "~".join(segments) + "~"
