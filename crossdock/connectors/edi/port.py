"""The port the EDI flows move files through, whatever the transport.

Inbound is pull-shaped: list what the partner left for us, fetch one file into a local file,
then mark it done (archived or deleted) only once the hub has stored it durably. Outbound puts a
local file into the partner's inbox so that it appears whole or not at all (a temporary name then
an atomic rename, or one AS2 message acknowledged by its MDN).

Every call raises :class:`~crossdock.errors.Unavailable` when the
partner's side cannot be reached (a caller retries it) and
:class:`~crossdock.connectors.edi.errors.PartnerRefused` when it refuses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class RemoteFile:
    """A file waiting at the partner's side."""

    name: str
    size: int | None = None


@dataclass(frozen=True, slots=True)
class Sent:
    """What the partner's side answered for a file put there."""

    name: str
    receipt: str | None = None
    """A transport-level receipt when there is one (the AS2 MDN's message id)."""
    detail: dict[str, Any] = field(default_factory=dict)
    """What the transport recorded about the delivery (AS2: Message-ID, MIC, disposition)."""
    confirm_within_s: float | None = None
    """The receipt comes later (an asynchronous AS2 MDN): the file is not delivered until it
    does, and counts as a failed attempt when it has not within this many seconds."""


class EdiTransport(Protocol):
    """Files to and from one trading partner."""

    async def list_inbound(self) -> list[RemoteFile]:
        """Files waiting for us, oldest name first."""
        ...

    async def fetch(self, file: RemoteFile, into: Path) -> None:
        """Copy ``file`` into the local path ``into`` (streamed)."""
        ...

    async def done(self, file: RemoteFile) -> None:
        """``file`` is stored on our side: archive it, or delete it."""
        ...

    async def put(self, name: str, source: Path) -> Sent:
        """Deliver the local file ``source`` to the partner as ``name``."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
