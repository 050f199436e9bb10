"""Outbound EDI files: recorded with their control numbers in one transaction, sent through the
partner's transport, then waited on for their 997.

:func:`record_outbound` allocates the ISA13, GS06 and ST02 numbers and stores the interchange the
builder made with them, in the caller's transaction (the flow's, so the file exists exactly when
the business step that asked for it committed). :func:`send_due` puts each ``queued`` file; a
transport failure leaves it queued with a back-off, and after ``max_attempts`` it is ``failed``
with the reason and an exception. A crash between the put and the state change sends the file
again: partners recognise an interchange by its ISA13, which does not change.
:func:`check_acknowledgements` opens an exception for each sent file whose 997 is overdue;
:func:`acknowledge` records a 997's verdict on the group it names.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import Connection, select

from crossdock.config.edi import EdiPartner
from crossdock.connectors.edi.port import EdiTransport
from crossdock.engine import Database
from crossdock.errors import CrossdockError
from crossdock.flows.edi import store
from crossdock.flows.edi.control import allocate
from crossdock.flows.edi.inbound import ACTIONS, OWNER, Retrying
from crossdock.flows.edi.tables import edi_files
from crossdock.flows.exceptions import open_exception

log = structlog.get_logger("crossdock.edi")


@dataclass(frozen=True, slots=True)
class ControlNumbers:
    """The numbers an outbound interchange carries."""

    interchange: int
    group: int
    sets: tuple[int, ...]

    @property
    def isa13(self) -> str:
        return f"{self.interchange:09d}"


Builder = Callable[[ControlNumbers], bytes]
"""Makes the interchange's bytes once its control numbers are known."""


def record_outbound(
    conn: Connection,
    name: str,
    partner: EdiPartner,
    build: Builder,
    *,
    sets: list[str],
    now: float,
    detail: Mapping[str, Any] | None = None,
) -> store.EdiFile:
    """Allocate control numbers, build the interchange and queue it for partner ``name``."""
    unknown = [s for s in sets if s not in partner.send]
    if unknown:
        raise CrossdockError(f"partner {name} does not receive {', '.join(unknown)}")
    # An interchange without sets (a TA1) uses no group or set number, so those stay gap-free.
    first = allocate(conn, name, "st", len(sets), now=now) if sets else 0
    numbers = ControlNumbers(
        interchange=allocate(conn, name, "isa", now=now),
        group=allocate(conn, name, "gs", now=now) if sets else 0,
        sets=tuple(range(first, first + len(sets))),
    )
    data = build(numbers)
    file_name = f"{name}-{'-'.join(dict.fromkeys(sets)) or 'TA1'}-{numbers.isa13}.x12"
    record, _ = store.store_file(
        conn,
        partner=name,
        direction="out",
        name=file_name,
        spool=data,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        state="queued",
        now=now,
        detail={**(detail or {}), "sets": sets, "st": list(numbers.sets)},
        interchange=numbers.isa13,
        group_control=str(numbers.group) if sets else None,
    )
    log.info("edi.queued", partner=name, file_id=record.id, interchange=numbers.isa13)
    return record


async def send_due(
    db: Database,
    transports: Mapping[str, EdiTransport],
    partners: Mapping[str, EdiPartner],
    *,
    retrying: Retrying,
    clock: Callable[[], float] = time.time,
    spool_dir: Path | None = None,
    limit: int = 50,
) -> int:
    """Send the queued files that are due; answers how many were tried."""
    files = await db.read(lambda c: store.due(c, "out", ("queued",), clock(), limit))
    tried = 0
    for file in files:
        transport = transports.get(file.partner)
        partner = partners.get(file.partner)
        if transport is None or partner is None:
            # Its partner left the configuration: say so rather than keep it queued forever.
            await db.write(partial(_orphan, file, clock()))
            continue
        if await _send_one(db, file, transport, partner, retrying, clock, spool_dir):
            tried += 1
    return tried


async def _send_one(
    db: Database,
    file: store.EdiFile,
    transport: EdiTransport,
    partner: EdiPartner,
    retrying: Retrying,
    clock: Callable[[], float],
    spool_dir: Path | None,
) -> bool:
    def claim(conn: Connection) -> bool:
        return store.claim(conn, file, now=clock())

    if not await db.write(claim):
        return False  # another worker has it
    attempts = file.attempts + 1
    with tempfile.TemporaryDirectory(dir=spool_dir, prefix="edi-") as tmp:
        spool = Path(tmp) / file.name

        def copy(conn: Connection) -> None:
            store.copy_to(conn, file.id, spool)

        await db.read(copy)
        try:
            sent = await transport.put(file.name, spool)
        except CrossdockError as exc:
            error = exc

            def failed(conn: Connection) -> None:
                send_failed(conn, file, attempts, error, retrying, clock())

            await db.write(failed)
            return True

    def done(conn: Connection) -> None:
        now = clock()
        receipt = {"receipt": sent.receipt} if sent.receipt else {}
        detail = {**file.detail, "sent_at": now, **receipt, **sent.detail}
        if sent.confirm_within_s is not None:
            # Not delivered until its receipt arrives (check_receipts fails it when it is late).
            store.set_state(
                conn,
                file.id,
                "mdn_pending",
                now=now,
                next_attempt_at=now + sent.confirm_within_s,
                detail=detail,
            )
            return
        mark_sent(conn, file, partner, now=now, detail=detail)

    await db.write(done)
    confirmed = sent.confirm_within_s is None
    log.info("edi.sent", partner=file.partner, file_id=file.id, confirmed=confirmed)
    return True


def mark_sent(
    conn: Connection,
    file: store.EdiFile,
    partner: EdiPartner,
    *,
    now: float,
    detail: dict[str, Any],
) -> None:
    """``file`` is delivered: ``sent``, waiting for its 997 when the partner answers one."""
    ack = partner.acknowledgement
    # A 997 answers business sets; a 997 or a TA1 is never acknowledged itself.
    expects_997 = ack.required and any(s != "997" for s in file.detail.get("sets", []))
    store.set_state(
        conn,
        file.id,
        "sent",
        now=now,
        next_attempt_at=now + ack.within_h * 3600 if expects_997 else None,
        detail=detail,
    )


def _orphan(file: store.EdiFile, now: float, conn: Connection) -> None:
    reason = f"partner {file.partner} is not in the configuration any more"
    store.set_state(conn, file.id, "failed", now=now, reason=reason)
    open_exception(
        conn,
        type="edi_send_failed",
        owner=OWNER,
        subject=f"edi-file:{file.id}",
        reason=f"file {file.name}: {reason}",
        actions=ACTIONS,
        now=now,
    )


async def check_receipts(
    db: Database, *, retrying: Retrying, clock: Callable[[], float] = time.time, limit: int = 100
) -> int:
    """Files whose asynchronous receipt is overdue: a failed attempt each (sent again after the
    back-off, or ``failed`` with an exception after ``max_attempts``)."""

    def run(conn: Connection) -> int:
        now = clock()
        late = store.due(conn, "out", ("mdn_pending",), now, limit)
        for file in late:
            sent_at = float(file.detail.get("sent_at", file.updated_at))
            error = CrossdockError(
                f"no MDN for message {file.detail.get('as2_message_id', '?')} "
                f"{(now - sent_at) / 60:.0f} min after it was sent"
            )
            send_failed(conn, file, file.attempts, error, retrying, now)
        return len(late)

    return await db.write(run)


def send_failed(
    conn: Connection,
    file: store.EdiFile,
    attempts: int,
    exc: Exception,
    retrying: Retrying,
    now: float,
) -> None:
    error = str(exc)
    if attempts >= retrying.max_attempts:
        reason = f"gave up after {attempts} attempts: {error}"
        store.set_state(conn, file.id, "failed", now=now, reason=reason)
        open_exception(
            conn,
            type="edi_send_failed",
            owner=OWNER,
            subject=f"edi-file:{file.id}",
            reason=f"partner {file.partner}, file {file.name}: {reason}",
            actions=ACTIONS,
            now=now,
        )
        log.error("edi.send_failed", partner=file.partner, file_id=file.id, reason=reason)
        return
    store.set_state(
        conn,
        file.id,
        "queued",
        now=now,
        reason=f"attempt {attempts} failed: {error}",
        next_attempt_at=now + retrying.backoff.delay(attempts),
    )
    log.warning("edi.send_retry", partner=file.partner, file_id=file.id, attempts=attempts)


async def check_acknowledgements(
    db: Database, *, clock: Callable[[], float] = time.time, limit: int = 100
) -> int:
    """Files sent whose 997 did not arrive in time become ``ack_overdue`` with an exception."""

    def run(conn: Connection) -> int:
        now = clock()
        overdue = store.due(conn, "out", ("sent",), now, limit)
        for file in overdue:
            sent_at = file.detail.get("sent_at", file.updated_at)
            hours = (now - float(sent_at)) / 3600
            reason = (
                f"no 997 for interchange {file.interchange} (group {file.group_control}, sets "
                f"{', '.join(file.detail.get('sets', []))}) {hours:.1f} h after it was sent"
            )
            store.set_state(conn, file.id, "ack_overdue", now=now, reason=reason)
            open_exception(
                conn,
                type="edi_ack_overdue",
                owner=OWNER,
                subject=f"edi-file:{file.id}",
                reason=f"partner {file.partner}, file {file.name}: {reason}",
                actions=ACTIONS,
                now=now,
            )
        return len(overdue)

    return await db.write(run)


def acknowledge(
    conn: Connection,
    partner: str,
    group_control: str,
    *,
    accepted: bool,
    errors: list[str],
    now: float,
) -> store.EdiFile | None:
    """Record a 997's verdict (AK9) on the outbound group ``group_control`` (its AK102).

    A rejection opens an exception naming the set and the errors. Answers the file, or None when
    no file of ours carries that group (the caller reports it)."""
    row = conn.execute(
        select(edi_files.c.id).where(
            edi_files.c.partner == partner,
            edi_files.c.direction == "out",
            edi_files.c.group_control == str(int(group_control)),
        )
    ).first()
    if row is None:
        return None
    file = store.get_file(conn, row.id)
    assert file is not None
    if accepted:
        store.set_state(conn, file.id, "acknowledged", now=now, reason=None)
    else:
        reason = f"997 rejected group {int(group_control)}: " + ("; ".join(errors) or "no detail")
        store.set_state(conn, file.id, "ack_rejected", now=now, reason=reason)
        open_exception(
            conn,
            type="edi_ack_rejected",
            owner=OWNER,
            subject=f"edi-file:{file.id}",
            reason=f"partner {partner}, file {file.name}: {reason}",
            actions=ACTIONS,
            now=now,
        )
    return store.get_file(conn, file.id)
