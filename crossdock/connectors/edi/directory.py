"""A partner's mailbox mounted as files (a VAN's drop folders): pick up from ``inbound``, put
into ``outbound`` under a temporary name then rename, archive or delete what was picked up."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

from crossdock.config.edi import DirectoryTransport
from crossdock.connectors.edi.errors import PartnerRefused
from crossdock.connectors.edi.port import RemoteFile, Sent
from crossdock.errors import Unavailable

TEMPORARY_PREFIX = ".part-"
"""Files being written (ours or, by the same convention, the VAN's) are skipped by the listing."""


class DirectoryMailbox:
    """:class:`~crossdock.connectors.edi.port.EdiTransport` on local folders."""

    def __init__(self, settings: DirectoryTransport) -> None:
        self.settings = settings

    async def list_inbound(self) -> list[RemoteFile]:
        return await asyncio.to_thread(self._list)

    def _list(self) -> list[RemoteFile]:
        try:
            entries = sorted(os.scandir(self.settings.inbound), key=lambda e: e.name)
        except FileNotFoundError as exc:
            missing = f"inbound folder {self.settings.inbound} is missing"
            raise Unavailable(missing) from exc
        except OSError as exc:
            raise Unavailable(f"inbound folder unreadable: {exc.strerror}") from exc
        return [
            RemoteFile(e.name, e.stat().st_size)
            for e in entries
            if e.is_file() and not e.name.startswith((TEMPORARY_PREFIX, "."))
        ]

    async def fetch(self, file: RemoteFile, into: Path) -> None:
        await asyncio.to_thread(self._copy, self.settings.inbound / file.name, into)

    @staticmethod
    def _copy(source: Path, into: Path) -> None:
        try:
            shutil.copyfile(source, into)
        except FileNotFoundError as exc:
            raise PartnerRefused(f"{source.name} is gone from the inbound folder") from exc
        except OSError as exc:
            raise Unavailable(f"{source.name} unreadable: {exc.strerror}") from exc

    async def done(self, file: RemoteFile) -> None:
        await asyncio.to_thread(self._done, file.name)

    def _done(self, name: str) -> None:
        source = self.settings.inbound / name
        try:
            if self.settings.archive is None:
                source.unlink(missing_ok=True)
            else:
                self.settings.archive.mkdir(parents=True, exist_ok=True)
                os.replace(source, self.settings.archive / name)
        except FileNotFoundError:
            return  # already done by an earlier attempt
        except OSError as exc:
            raise Unavailable(f"{name}: cannot archive or delete: {exc.strerror}") from exc

    async def put(self, name: str, source: Path) -> Sent:
        await asyncio.to_thread(self._put, name, source)
        return Sent(name)

    def _put(self, name: str, source: Path) -> None:
        target = self.settings.outbound / name
        temporary = self.settings.outbound / f"{TEMPORARY_PREFIX}{name}"
        try:
            with source.open("rb") as src, temporary.open("wb") as dst:
                shutil.copyfileobj(src, dst)
                dst.flush()
                os.fsync(dst.fileno())
            os.replace(temporary, target)
        except FileNotFoundError as exc:
            raise Unavailable(f"outbound folder {self.settings.outbound} is missing") from exc
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise Unavailable(f"{name}: cannot write: {exc.strerror}") from exc

    async def aclose(self) -> None:
        return None
