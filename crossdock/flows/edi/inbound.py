"""Inbound EDI files: picked up from a partner's transport, stored raw, then processed once.

Picking up (:func:`poll_partner`): list the partner's side, fetch each file into a spool file,
store it (row and bytes in one transaction), and only then archive or delete it at the partner.
A crash before the store commits leaves the file at the partner (fetched again); a crash after it
fetches the same bytes again, recognised by their hash. Transport calls are retried with the
project's :class:`~crossdock.retry.Backoff`; after ``max_attempts`` the poll fails with
:class:`TransportGaveUp` and an exception is opened: nothing is ever taken as received that was
not stored.

Processing (:func:`process_due`): each due file is claimed, handled by the processor and moved to
``processed`` or ``rejected`` in the same transaction as the processor's own rows, so its effects
happen exactly once. A processor that fails (not a verdict on the file: a database or program
fault) leaves the file due again after a back-off; after ``max_attempts`` it is rejected with the
last error as its reason and an exception is opened, so nothing stays ``received`` forever.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal

import structlog
from sqlalchemy import Connection, insert, select

from crossdock.config.edi import EdiPartner
from crossdock.connectors.edi.envelope import IsaHeader, read_isa
from crossdock.connectors.edi.errors import NotAnInterchange, PartnerRefused
from crossdock.connectors.edi.port import EdiTransport, RemoteFile
from crossdock.connectors.resilience import retry_async
from crossdock.engine import Database
from crossdock.errors import CrossdockError, Unavailable
from crossdock.flows.edi import store
from crossdock.flows.edi.tables import edi_interchanges
from crossdock.flows.exceptions import open_exception
from crossdock.retry import Backoff

log = structlog.get_logger("crossdock.edi")

OWNER = "operations"
ACTIONS = ["acknowledge"]


class TransportFailed(CrossdockError):
    """A poll of a partner's transport failed (its scheduled poll is tried again)."""


class TransportGaveUp(TransportFailed):
    """A partner's transport failed ``max_attempts`` times in a row; an exception is open."""


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """A processor's verdict on a file."""

    state: Literal["parsed", "processed", "rejected"]
    reason: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    interchange: str | None = None


SetsHandler = Callable[[Connection, store.EdiFile, IsaHeader, float], FileOutcome]
"""What follows the envelope check: the transaction sets of an accepted interchange are read and
answered (997/TA1); ``parsed`` or ``rejected``."""

Applier = Callable[[Connection, store.EdiFile, float], FileOutcome]
"""What a parsed file's accepted sets do (orders, acknowledgements); ``processed`` or
``rejected``."""


@dataclass(frozen=True, slots=True)
class Documents:
    """The two phases after the envelope: read and answer, then apply. Apart, so that the 997
    goes back even while the business side (the intake, a mapping) keeps failing."""

    parse: SetsHandler
    apply: Applier


Processor = Callable[[Connection, store.EdiFile, float], FileOutcome]


@dataclass(frozen=True, slots=True)
class Retrying:
    """How often and how long transport calls and file processing are tried."""

    max_attempts: int = 5
    backoff: Backoff = field(default_factory=lambda: Backoff(base_s=30.0, max_s=3600.0))


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, Unavailable)


async def poll_partner(
    db: Database,
    name: str,
    transport: EdiTransport,
    *,
    retrying: Retrying,
    spool_dir: Path | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Any] | None = None,
    give_up: bool = True,
    attempt: int = 0,
) -> list[store.EdiFile]:
    """Pick up what partner ``name`` left for us; answers the files newly stored.

    A transport call failing ``retrying.max_attempts`` times raises :class:`TransportGaveUp`
    with an exception opened, or, without ``give_up`` (a scheduled poll that will be tried
    again), :class:`TransportFailed` and no exception. ``attempt``: the scheduled poll's
    attempt, named in the exception."""
    retry_kwargs: dict[str, Any] = {
        "attempts": retrying.max_attempts,
        "backoff": retrying.backoff,
        "retryable": _retryable,
    }
    if sleep is not None:
        retry_kwargs["sleep"] = sleep

    async def retried(what: str, op: Callable[[], Any]) -> Any:
        try:
            return await retry_async(op, **retry_kwargs)
        except (Unavailable, PartnerRefused) as exc:
            reason = f"{what}: {exc} (after {attempt or retrying.max_attempts} attempts)"
            if not _retryable(exc):
                reason = f"{what}: {exc}"
            if not give_up:
                raise TransportFailed(f"partner {name}: {reason}") from exc
            now = clock()
            await db.write(
                lambda c: open_exception(
                    c,
                    type="edi_transport",
                    owner=OWNER,
                    subject=f"edi-partner:{name}",
                    reason=f"partner {name}: {reason}",
                    actions=ACTIONS,
                    now=now,
                )
            )
            log.error("edi.transport_failed", partner=name, reason=reason)
            raise TransportGaveUp(f"partner {name}: {reason}") from exc

    stored: list[store.EdiFile] = []
    remote: list[RemoteFile] = await retried("listing", transport.list_inbound)
    for file in remote:
        with tempfile.TemporaryDirectory(dir=spool_dir, prefix="edi-") as tmp:
            spool = Path(tmp) / "file"
            await retried(f"fetching {file.name}", partial(transport.fetch, file, spool))
            sha256, size = store.digest(spool)
            now = clock()
            keep = partial(
                store.store_file,
                partner=name,
                direction="in",
                name=file.name,
                spool=spool,
                sha256=sha256,
                size=size,
                state="received",
                now=now,
            )
            record, new = await db.write(keep)
        # Only now is the file ours: the partner's copy may go.
        await retried(f"archiving {file.name}", partial(transport.done, file))
        if new:
            stored.append(record)
            log.info("edi.received", partner=name, file_id=record.id, size=size)
        else:
            log.info("edi.received_again", partner=name, file_id=record.id)
    return stored


def envelope_processor(
    partners: dict[str, EdiPartner], documents: Documents | None = None
) -> Processor:
    """The processor that checks an interchange's envelope against its partner's profile,
    recognises a duplicate interchange control number, then hands the sets to ``documents``:
    a ``received`` file is parsed and answered, a ``parsed`` one applied."""

    def process(conn: Connection, file: store.EdiFile, now: float) -> FileOutcome:
        partner = partners.get(file.partner)
        if partner is None:
            return FileOutcome("rejected", f"no partner {file.partner} in the configuration")
        if file.state == "parsed" and documents is not None:
            return documents.apply(conn, file, now)
        head = next(store.chunks(conn, file.id), b"")
        try:
            isa = read_isa(head)
        except NotAnInterchange as exc:
            return FileOutcome("rejected", str(exc))
        problem = _identity_problem(isa, partner)
        if problem is not None:
            return FileOutcome("rejected", problem, interchange=isa.control)
        first = conn.execute(
            select(edi_interchanges.c.file_id).where(
                edi_interchanges.c.partner == file.partner,
                edi_interchanges.c.control == isa.control,
            )
        ).scalar()
        if first == file.id:  # retried: its own interchange, recorded by an earlier attempt
            pass
        elif first is not None:
            return FileOutcome(
                "rejected",
                f"ISA13: duplicate interchange control number {isa.control} "
                f"(first received in file {first})",
                interchange=isa.control,
            )
        if first is None:
            conn.execute(
                insert(edi_interchanges).values(
                    partner=file.partner, control=isa.control, file_id=file.id, at=now
                )
            )
        if documents is None:
            return FileOutcome("processed", interchange=isa.control)
        outcome = documents.parse(conn, file, isa, now)
        return FileOutcome(outcome.state, outcome.reason, outcome.detail, isa.control)

    return process


def _identity_problem(isa: IsaHeader, partner: EdiPartner) -> str | None:
    theirs, ours = partner.theirs, partner.ours
    if (isa.sender_qualifier, isa.sender_id) != (theirs.isa_qualifier, theirs.isa_id):
        return (
            f"ISA05/ISA06: sender {isa.sender_qualifier}/{isa.sender_id} is not this partner "
            f"({theirs.isa_qualifier}/{theirs.isa_id})"
        )
    if (isa.receiver_qualifier, isa.receiver_id) != (ours.isa_qualifier, ours.isa_id):
        return (
            f"ISA07/ISA08: receiver {isa.receiver_qualifier}/{isa.receiver_id} is not us "
            f"({ours.isa_qualifier}/{ours.isa_id})"
        )
    if isa.usage != partner.usage:
        return f"ISA15: usage indicator {isa.usage}, the partner's profile says {partner.usage}"
    return None


Write = Callable[[Callable[[Connection], None]], Awaitable[None]]
"""Runs a write transaction that may append events: on a running hub, the engine's writer with
``appends=True`` (on PostgreSQL, appends must hold the log's append lock so that no reader skips
an event committed late)."""


async def process_due(
    db: Database,
    processor: Processor,
    *,
    retrying: Retrying,
    clock: Callable[[], float] = time.time,
    limit: int = 50,
    write: Write | None = None,
) -> int:
    """Process the inbound files that are due; answers how many were handled."""
    files = await db.read(lambda c: store.due(c, "in", ("received", "parsed"), clock(), limit))
    for file in files:
        work = partial(_process_one, file, processor, retrying, clock)
        await (write(work) if write is not None else db.write(work))
    return len(files)


def _process_one(
    file: store.EdiFile,
    processor: Processor,
    retrying: Retrying,
    clock: Callable[[], float],
    conn: Connection,
) -> None:
    now = clock()
    if not store.claim(conn, file, now=now):
        return  # another worker has it
    attempts = file.attempts + 1
    try:
        with conn.begin_nested():
            outcome = processor(conn, file, now)
    except Exception as exc:  # a fault while processing, not a verdict on the file
        error = f"{type(exc).__name__}: {exc}"
        if attempts >= retrying.max_attempts:
            reason = f"gave up after {attempts} attempts: {error}"
            store.set_state(conn, file.id, "rejected", now=now, reason=reason)
            _exception(conn, file, reason, now)
            log.error("edi.file_rejected", file_id=file.id, partner=file.partner, reason=reason)
        else:
            retry_at = now + retrying.backoff.delay(attempts)
            store.set_state(
                conn,
                file.id,
                file.state,
                now=now,
                reason=f"attempt {attempts} failed: {error}",
                next_attempt_at=retry_at,
            )
            log.warning("edi.file_retry", file_id=file.id, attempts=attempts, error=error)
        return
    parsed = outcome.state == "parsed"
    store.set_state(
        conn,
        file.id,
        outcome.state,
        now=now,
        reason=outcome.reason,
        detail={**file.detail, **outcome.detail},
        interchange=outcome.interchange,
        # A parsed file is due at once for its second phase, which has its own attempts.
        next_attempt_at=now if parsed else None,
        attempts=0 if parsed else None,
    )
    if outcome.state == "rejected":
        _exception(conn, file, outcome.reason or "rejected", now)
        log.warning("edi.file_rejected", file_id=file.id, partner=file.partner)
    else:
        log.info(f"edi.file_{outcome.state}", file_id=file.id, partner=file.partner)


def _exception(conn: Connection, file: store.EdiFile, reason: str, now: float) -> None:
    open_exception(
        conn,
        type="edi_file_rejected",
        owner=OWNER,
        subject=f"edi-file:{file.id}",
        reason=f"partner {file.partner}, file {file.name}: {reason}",
        actions=ACTIONS,
        now=now,
    )
