"""What ``crossdock config check`` says about the AS2 partners' certificates: each problem that
stops messages now (expired, not yet valid, revoked, wrong key usage, unreadable) and each
warning of one to come (an expiry within ``certificate_warning_days``, a stale CRL)."""

from __future__ import annotations

import datetime

from crossdock.config import Config
from crossdock.config.as2 import As2Transport
from crossdock.connectors.edi.as2.certificates import audit
from crossdock.errors import CrossdockError


def certificate_report(
    cfg: Config, now: datetime.datetime | None = None
) -> tuple[list[str], list[str]]:
    """Lines of problems and lines of warnings, one per finding, named by partner."""
    problems: list[str] = []
    warnings: list[str] = []
    for name, partner in cfg.edi.partners.items():
        transport = partner.transport
        if not isinstance(transport, As2Transport):
            continue
        try:
            found, coming = audit(transport, now)
        except CrossdockError as exc:
            problems.append(f"edi.partners.{name}.transport: {exc}")
            continue
        problems += [f"edi.partners.{name}.transport: {f.message}" for f in found]
        warnings += [f"edi.partners.{name}.transport: {f.message}" for f in coming]
    return problems, warnings
