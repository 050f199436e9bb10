"""The EDI loop of a node running workers: every ``edi.poll_s`` it picks up each partner's files
(unless the engine's schedules drive the polls: :mod:`.polling`), processes the stored ones that
are due, sends the queued ones and checks overdue receipts (asynchronous AS2 MDNs) and 997s.

Several nodes may run it at once: storing is keyed by the file's hash, processing and sending
claim a file by its attempt count, so two loops never handle one file twice. One partner's
failing transport opens its exception and does not hold up the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import structlog
from sqlalchemy import Connection

from crossdock.config.edi import EdiConfig
from crossdock.connectors.edi.port import EdiTransport
from crossdock.engine import Database, Engine
from crossdock.errors import CrossdockError
from crossdock.flows.edi.as2_certificates import CertificateAudit, audit_certificates
from crossdock.flows.edi.inbound import (
    Documents,
    Processor,
    Retrying,
    Write,
    envelope_processor,
    poll_partner,
    process_due,
)
from crossdock.flows.edi.outbound import check_acknowledgements, check_receipts, send_due

log = structlog.get_logger("crossdock.edi")

CERTIFICATE_AUDIT_S = 3600.0
"""How often the AS2 certificates' dates and revocation are audited (they change by the day)."""


def engine_writes(engine: Engine) -> Write:
    """Processing transactions through the engine's writer: they append events (orders)."""

    async def write(fn: Callable[[Connection], None]) -> None:
        await engine.writer.submit(fn, appends=True)

    return write


def retrying_of(config: EdiConfig) -> Retrying:
    return Retrying(config.max_attempts, config.retry.backoff)


@dataclass
class EdiService:
    """The partners' file loop over their transports."""

    config: EdiConfig
    db: Database | Callable[[], Database]
    """The database, or how to get it (the engine's exists once it has started)."""
    transports: Mapping[str, EdiTransport]
    documents: Documents | None = None
    write: Write | None = None
    """How processing transactions run (see :data:`~.inbound.Write`); default ``db.write``."""
    clock: Callable[[], float] = time.time
    scheduled: bool = False
    """Polling is driven by the engine's schedules (:mod:`.polling`); the loop only processes,
    sends and checks acknowledgements."""
    certificates: CertificateAudit | None = None
    """The AS2 certificates' audit, run every ``CERTIFICATE_AUDIT_S`` (:mod:`.as2_certificates`)."""
    _audited_at: float | None = field(default=None, init=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    @property
    def processor(self) -> Processor:
        return envelope_processor(dict(self.config.partners), self.documents)

    @property
    def database(self) -> Database:
        return self.db if isinstance(self.db, Database) else self.db()

    async def poll(self, name: str, *, final: bool = True, attempt: int = 0) -> int:
        """One scheduled poll of partner ``name`` (each transport call tried once: the schedule's
        consumer retries the poll), then what it picked up processed; answers how many files
        were new. Raises :class:`~.inbound.TransportFailed` (:class:`~.inbound.TransportGaveUp`
        with an exception opened when ``final``)."""
        config = retrying_of(self.config)
        once = Retrying(1, config.backoff)
        db = self.database
        stored = await poll_partner(
            db,
            name,
            self.transports[name],
            retrying=once,
            clock=self.clock,
            give_up=final,
            attempt=attempt,
        )
        await self._process(db, config)
        return len(stored)

    async def _process(self, db: Database, retrying: Retrying) -> None:
        while await process_due(
            db, self.processor, retrying=retrying, clock=self.clock, write=self.write
        ):
            pass

    async def run_once(self, *, poll: bool = True) -> None:
        """One round: pick up (unless ``poll`` is false), process, send, check
        acknowledgements."""
        retrying = retrying_of(self.config)
        db = self.database
        for name, transport in self.transports.items() if poll else ():
            try:
                await poll_partner(db, name, transport, retrying=retrying, clock=self.clock)
            except CrossdockError as exc:  # its exception is open; the others go on
                log.error("edi.poll_failed", partner=name, error=str(exc))
        await self._process(db, retrying)
        await send_due(
            db, self.transports, self.config.partners, retrying=retrying, clock=self.clock
        )
        await check_receipts(db, retrying=retrying, clock=self.clock)
        now = self.clock()
        if self.certificates is not None and (
            self._audited_at is None or now - self._audited_at >= CERTIFICATE_AUDIT_S
        ):
            self._audited_at = now
            await audit_certificates(db, self.certificates, now)
        await check_acknowledgements(db, clock=self.clock)

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once(poll=not self.scheduled)
            except Exception as exc:  # the loop outlives a round's fault; the next round retries
                log.exception("edi.round_failed", error=str(exc))
            await asyncio.sleep(self.config.poll_s)

    def start(self) -> None:
        if self._task is None and self.transports:
            self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for transport in self.transports.values():
            await transport.aclose()
