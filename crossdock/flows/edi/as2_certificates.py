"""Exceptions about AS2 certificates, one open exception per partner and certificate:
``edi_as2_certificate`` when a message was refused because a certificate may not be used (expired,
not yet valid, revoked, wrong key usage), and ``edi_as2_certificate_expiring`` when one will
expire within the profile's ``certificate_warning_days`` — opened before it happens, so the
certificate can be renewed in time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import structlog
from sqlalchemy import Connection

from crossdock.engine import Database
from crossdock.flows.edi.inbound import ACTIONS, OWNER
from crossdock.flows.exceptions import open_exception

__all__ = ["CertificateAudit", "audit_certificates", "certificate_refused"]

log = structlog.get_logger("crossdock.edi.as2")

CertificateAudit = Callable[[], Sequence[tuple[str, str, str, str]]]
"""The AS2 certificates' findings now: (partner, ``ours`` | ``partner``, ``refused`` |
``expiring``, what) — the AS2 connector's ``certificates.notices`` over the partners."""


def certificate_refused(
    conn: Connection, partner: str, whose: str, reason: str, now: float
) -> None:
    """A message was refused because of ``whose`` certificate: its exception."""
    _open(conn, "refused", partner, whose, reason, now)


def _open(conn: Connection, kind: str, partner: str, whose: str, reason: str, now: float) -> None:
    refused = kind == "refused"
    open_exception(
        conn,
        type="edi_as2_certificate" if refused else "edi_as2_certificate_expiring",
        owner=OWNER,
        subject=f"as2-certificate:{partner}:{whose}",
        reason=f"partner {partner}: {'AS2 messages refused: ' if refused else ''}{reason}",
        actions=ACTIONS,
        now=now,
    )


async def audit_certificates(db: Database, audit: CertificateAudit, now: float) -> int:
    """Open an exception for each certificate that may not be used or will expire soon;
    answers how many findings there were."""
    found = await asyncio.to_thread(audit)
    for partner, whose, kind, what in found:
        log.warning("edi.as2_certificate", partner=partner, whose=whose, kind=kind, reason=what)

    def write(conn: Connection) -> None:
        for partner, whose, kind, what in found:
            _open(conn, kind, partner, whose, what, now)

    if found:
        await db.write(write)
    return len(found)
