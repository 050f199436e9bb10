"""A partner's SFTP server (asyncssh): pick up from their outbox, put into their inbox under a
temporary name then rename atomically, archive or delete what was picked up.

One SSH connection is opened on first use and kept; any failure drops it, so the next call
reconnects. Connection failures (refused, reset, timed out, host key mismatch is not one of
them) are :class:`Unavailable`; SFTP status refusals are :class:`PartnerRefused`.
"""

from __future__ import annotations

import asyncio
import posixpath
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import asyncssh

from crossdock.config.edi import SftpTransport
from crossdock.connectors.edi.errors import PartnerRefused
from crossdock.connectors.edi.port import RemoteFile, Sent
from crossdock.errors import Unavailable

T = TypeVar("T")

TEMPORARY_PREFIX = ".part-"


class SftpMailbox:
    """:class:`~crossdock.connectors.edi.port.EdiTransport` on a partner's SFTP server."""

    def __init__(self, settings: SftpTransport, *, name: str = "") -> None:
        self.settings = settings
        self.name = name
        self._conn: asyncssh.SSHClientConnection | None = None
        self._sftp: asyncssh.SFTPClient | None = None
        self._lock = asyncio.Lock()

    async def _client(self) -> asyncssh.SFTPClient:
        if self._sftp is not None:
            return self._sftp
        s = self.settings
        options: dict[str, Any] = {
            "port": s.port,
            "username": s.username,
            "connect_timeout": s.timeout_s,
            "client_keys": None,
            "agent_path": None,
        }
        if s.password is not None:
            options["password"] = s.password.resolve()
        if s.private_key is not None:
            options["client_keys"] = [asyncssh.import_private_key(s.private_key.resolve())]
        if s.host_key is not None:
            host = s.host if s.port == 22 else f"[{s.host}]:{s.port}"
            options["known_hosts"] = asyncssh.import_known_hosts(f"{host} {s.host_key}\n")
        self._conn = await asyncssh.connect(s.host, **options)
        self._sftp = await self._conn.start_sftp_client()
        return self._sftp

    async def _call(self, what: str, op: Callable[[asyncssh.SFTPClient], Awaitable[T]]) -> T:
        async with self._lock:
            try:
                sftp = await self._client()
                return await asyncio.wait_for(op(sftp), self.settings.timeout_s * 10)
            except asyncssh.SFTPError as exc:
                raise PartnerRefused(f"sftp {self.name}: {what}: {exc.reason}") from exc
            except asyncssh.HostKeyNotVerifiable as exc:
                await self._drop()
                raise PartnerRefused(f"sftp {self.name}: host key not verified") from exc
            except asyncssh.PermissionDenied as exc:
                await self._drop()
                raise PartnerRefused(f"sftp {self.name}: authentication refused") from exc
            except (OSError, asyncssh.Error, TimeoutError) as exc:
                await self._drop()
                reason = getattr(exc, "reason", None) or type(exc).__name__
                raise Unavailable(f"sftp {self.name}: {what}: {reason}", system=self.name) from exc

    async def _drop(self) -> None:
        conn, self._conn, self._sftp = self._conn, None, None
        if conn is not None:
            conn.abort()

    async def list_inbound(self) -> list[RemoteFile]:
        outbox = self.settings.outbox

        async def op(sftp: asyncssh.SFTPClient) -> list[RemoteFile]:
            found = []
            for entry in await sftp.readdir(outbox):
                name = str(entry.filename)
                if name.startswith(".") or entry.attrs.type != asyncssh.FILEXFER_TYPE_REGULAR:
                    continue
                found.append(RemoteFile(name, entry.attrs.size))
            return sorted(found, key=lambda f: f.name)

        return await self._call(f"list {outbox}", op)

    async def fetch(self, file: RemoteFile, into: Path) -> None:
        remote = posixpath.join(self.settings.outbox, file.name)

        async def op(sftp: asyncssh.SFTPClient) -> None:
            await sftp.get(remote, str(into))

        await self._call(f"get {remote}", op)

    async def done(self, file: RemoteFile) -> None:
        remote = posixpath.join(self.settings.outbox, file.name)
        archive = self.settings.archive

        async def op(sftp: asyncssh.SFTPClient) -> None:
            try:
                if archive is None:
                    await sftp.remove(remote)
                else:
                    await _rename(sftp, remote, posixpath.join(archive, file.name))
            except asyncssh.SFTPNoSuchFile:
                return  # already archived or deleted by an earlier attempt

        await self._call(f"done {remote}", op)

    async def put(self, name: str, source: Path) -> Sent:
        temporary = posixpath.join(self.settings.inbox, TEMPORARY_PREFIX + name)
        target = posixpath.join(self.settings.inbox, name)

        async def op(sftp: asyncssh.SFTPClient) -> None:
            await sftp.put(str(source), temporary)
            await _rename(sftp, temporary, target)

        await self._call(f"put {target}", op)
        return Sent(name)

    async def aclose(self) -> None:
        conn, self._conn, self._sftp = self._conn, None, None
        if conn is not None:
            conn.close()
            await conn.wait_closed()


async def _rename(sftp: asyncssh.SFTPClient, old: str, new: str) -> None:
    """Rename replacing ``new`` atomically where the server offers POSIX rename."""
    try:
        await sftp.posix_rename(old, new)
    except asyncssh.SFTPOpUnsupported:
        await sftp.rename(old, new)
