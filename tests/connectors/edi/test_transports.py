"""The EDI transports against the real thing: an asyncssh SFTP server on 127.0.0.1 (a free port)
and local folders: pick up, archive or delete, put under a temporary name then rename, and a
server that is down answered as unavailable, never as an empty outbox."""

from __future__ import annotations

import socket
from pathlib import Path

import asyncssh
import pytest

from crossdock.config.edi import DirectoryTransport, SftpTransport
from crossdock.connectors.edi.directory import DirectoryMailbox
from crossdock.connectors.edi.errors import PartnerRefused
from crossdock.connectors.edi.port import RemoteFile
from crossdock.connectors.edi.sftp import SftpMailbox
from crossdock.errors import Unavailable
from tests.flows.edi.support import PASSWORD, PASSWORD_ENV, interchange, sftp_server


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)


async def test_sftp_picks_up_archives_and_puts_atomically(tmp_path: Path) -> None:
    async with sftp_server(tmp_path / "server") as server:
        (server.root / "out" / "b.x12").write_bytes(interchange(2))
        (server.root / "out" / "a.x12").write_bytes(interchange(1))
        (server.root / "out" / ".partial").write_bytes(b"ISA")
        mailbox = SftpMailbox(
            SftpTransport.model_validate(server.transport(archive="/archive")), name="acme"
        )
        try:
            listed = await mailbox.list_inbound()
            assert [f.name for f in listed] == ["a.x12", "b.x12"]
            assert listed[0].size == len(interchange(1))
            local = tmp_path / "a.x12"
            await mailbox.fetch(listed[0], local)
            assert local.read_bytes() == interchange(1)
            await mailbox.done(listed[0])
            await mailbox.done(listed[0])  # a second attempt after a lost answer: no error
            assert not (server.root / "out" / "a.x12").exists()
            assert (server.root / "archive" / "a.x12").read_bytes() == interchange(1)

            sent = await mailbox.put("997-1.x12", local)
            assert sent.name == "997-1.x12"
            assert sorted(p.name for p in (server.root / "in").iterdir()) == ["997-1.x12"]
            assert (server.root / "in" / "997-1.x12").read_bytes() == interchange(1)
        finally:
            await mailbox.aclose()


async def test_sftp_deletes_without_archive(tmp_path: Path) -> None:
    async with sftp_server(tmp_path / "server") as server:
        (server.root / "out" / "a.x12").write_bytes(interchange(1))
        mailbox = SftpMailbox(SftpTransport.model_validate(server.transport()), name="acme")
        try:
            [file] = await mailbox.list_inbound()
            await mailbox.done(file)
            assert list((server.root / "out").iterdir()) == []
            assert list((server.root / "archive").iterdir()) == []
        finally:
            await mailbox.aclose()


async def test_sftp_refusals_are_errors_not_outages(tmp_path: Path) -> None:
    async with sftp_server(tmp_path / "server") as server:
        wrong = SftpMailbox(
            SftpTransport.model_validate(server.transport(outbox="/missing")), name="acme"
        )
        with pytest.raises(PartnerRefused, match="list /missing"):
            await wrong.list_inbound()
        await wrong.aclose()
        another_key = (
            asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
        )
        other_key = SftpMailbox(
            SftpTransport.model_validate(server.transport(host_key=another_key)),
            name="acme",
        )
        with pytest.raises(PartnerRefused, match="host key not verified"):
            await other_key.list_inbound()
        await other_key.aclose()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_sftp_server_down_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = SftpTransport.model_validate(
        {
            "kind": "sftp",
            "host": "127.0.0.1",
            "port": _closed_port(),
            "username": "crossdock",
            "password": "${" + PASSWORD_ENV + "}",
            "timeout_s": 5,
        }
    )
    mailbox = SftpMailbox(settings, name="acme")
    with pytest.raises(Unavailable):
        await mailbox.list_inbound()
    with pytest.raises(Unavailable):
        await mailbox.put("x", Path(__file__))


async def test_directory_mailbox(tmp_path: Path) -> None:
    for folder in ("in", "out"):
        (tmp_path / folder).mkdir()
    (tmp_path / "in" / "one.edi").write_bytes(interchange(7))
    (tmp_path / "in" / ".part-two.edi").write_bytes(b"ISA*")
    mailbox = DirectoryMailbox(
        DirectoryTransport(
            kind="directory",
            inbound=tmp_path / "in",
            outbound=tmp_path / "out",
            archive=tmp_path / "archive",
        )
    )
    [file] = await mailbox.list_inbound()
    assert file == RemoteFile("one.edi", len(interchange(7)))
    await mailbox.fetch(file, tmp_path / "copy")
    await mailbox.done(file)
    assert (tmp_path / "archive" / "one.edi").read_bytes() == interchange(7)
    assert [f.name for f in await mailbox.list_inbound()] == []
    await mailbox.put("855-1.edi", tmp_path / "copy")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["855-1.edi"]


async def test_directory_missing_is_unavailable(tmp_path: Path) -> None:
    mailbox = DirectoryMailbox(
        DirectoryTransport(kind="directory", inbound=tmp_path / "no", outbound=tmp_path / "no")
    )
    with pytest.raises(Unavailable):
        await mailbox.list_inbound()
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(Unavailable):
        await mailbox.put("f", tmp_path / "f")
