"""Asynchronous AS2 MDNs (RFC 4130 §7.3), both ways.

**Owed to a partner.** A message asking ``Receipt-Delivery-Option: <url>`` is answered 200 once it
is stored; the MDN it is owed is appended as an ``edi.as2_mdn_due`` event in the transaction that
stores it (:func:`owe_mdn`), so the receipt survives a restart exactly as the file does. The
consumer group ``edi-as2-mdn`` posts it (the sender is the AS2 connector's, given by the caller):
a failure is retried with the group's back-off (``edi.retry``), and the last attempt
(``edi.max_attempts``) opens an ``edi_as2_mdn_failed`` exception before the event goes to the dead
letters, from where it can be replayed. One subject per message: a partner's URL down for one MDN
does not hold the others back in order behind it (they fail the same way on their own).

**Owed to us.** A file we sent with ``mdn: async`` waits as ``mdn_pending``; the MDN the partner
posts later (verified by the API: signature, then here: Original-Message-ID, disposition, MIC)
settles it with :func:`mdn_arrived`: ``processed`` with our MIC → ``sent`` (and its 997 awaited);
a negative disposition → ``failed`` with an exception naming the partner's error; another MIC → a
failed attempt, sent again with the back-off. A late MDN still settles a file queued again after
its window passed.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import structlog
from sqlalchemy import Connection, select

from crossdock.config.as2 import As2Transport
from crossdock.config.edi import EdiConfig, EdiPartner
from crossdock.engine import Batch, Failed, NewEvent, Reject, Subscription, insert_events
from crossdock.errors import CrossdockError
from crossdock.flows.edi import store
from crossdock.flows.edi.inbound import ACTIONS, OWNER, Retrying
from crossdock.flows.edi.outbound import mark_sent, send_failed
from crossdock.flows.edi.tables import edi_files
from crossdock.flows.exceptions import open_exception

__all__ = ["GROUP", "MDN_DUE", "MdnSender", "Settled", "mdn_arrived", "owe_mdn", "subscription"]

log = structlog.get_logger("crossdock.edi.as2")

MDN_DUE = "edi.as2_mdn_due"
GROUP = "edi-as2-mdn"
SOURCE = "crossdock/edi/as2"

MdnSender = Callable[[As2Transport, Mapping[str, Any]], Awaitable[Any]]
"""Posts an MDN described by the event's ``mdn`` data with a partner's AS2 settings; raises a
:class:`~crossdock.errors.CrossdockError` when it is not delivered."""


def owe_mdn(conn: Connection, partner: str, mdn: Mapping[str, Any], partitions: int) -> None:
    """Append, in the caller's transaction, the asynchronous MDN owed to ``partner``."""
    original = str(mdn["original_message_id"])
    digest = hashlib.sha256(f"{partner}\n{original}".encode()).hexdigest()[:32]
    insert_events(
        conn,
        [
            NewEvent(
                type=MDN_DUE,
                source=SOURCE,
                subject=f"as2-mdn:{digest}",
                data={"partner": partner, "mdn": dict(mdn)},
            )
        ],
        partitions,
    )


def subscription(
    config: EdiConfig, send: MdnSender, clock: Callable[[], float] = time.time
) -> Subscription:
    """The ``edi-as2-mdn`` consumer group: each owed MDN posted to the partner's URL."""

    async def handle(batch: Batch) -> None:
        for event in batch.events:
            name = str(event.data.get("partner"))
            profile = config.partners.get(name)
            if profile is None or not isinstance(profile.transport, As2Transport):
                batch.fail(event, Reject(f"partner {name} is not an AS2 partner any more"))
                continue
            data = event.data.get("mdn") or {}
            try:
                await send(profile.transport, data)
            except CrossdockError as exc:
                final = batch.attempt >= config.max_attempts
                log.warning(
                    "edi.as2_mdn_retry" if not final else "edi.as2_mdn_failed",
                    partner=name,
                    original_message_id=data.get("original_message_id"),
                    attempt=batch.attempt,
                    error=str(exc),
                )
                if final:
                    batch.write(_gave_up(name, data, batch.attempt, str(exc), clock()))
                # A counted attempt even when the partner is unreachable (not the engine's
                # Unavailable, which waits without counting): the MDN gives up after the limit.
                batch.fail(event, Failed(str(exc)))
                continue
            log.info(
                "edi.as2_mdn_sent",
                partner=name,
                original_message_id=data.get("original_message_id"),
                disposition=data.get("disposition"),
            )

    return Subscription(
        GROUP,
        (MDN_DUE,),
        handle,
        batch_size=1,
        max_attempts=config.max_attempts,
        backoff=config.retry.backoff,
    )


def _gave_up(
    partner: str, data: Mapping[str, Any], attempts: int, error: str, now: float
) -> Callable[[Connection], None]:
    original = str(data.get("original_message_id"))

    def write(conn: Connection) -> None:
        open_exception(
            conn,
            type="edi_as2_mdn_failed",
            owner=OWNER,
            subject=f"as2-mdn:{partner}:{original}"[:200],
            reason=(
                f"partner {partner}: the asynchronous MDN ({data.get('disposition')}) for "
                f"message {original} could not be posted to {data.get('url')} after "
                f"{attempts} attempts: {error}"
            ),
            actions=ACTIONS,
            now=now,
        )

    return write


# -- MDNs owed to us ------------------------------------------------------------------------------

Outcome = Literal["delivered", "refused", "mismatch", "unknown"]


@dataclass(frozen=True, slots=True)
class Settled:
    outcome: Outcome
    file_id: str | None = None
    reason: str | None = None


def _awaiting(conn: Connection, partner: str, message_id: str) -> store.EdiFile | None:
    """Our file (awaiting its MDN, or queued again after its window) sent as ``message_id``."""
    rows = conn.execute(
        select(edi_files.c.id).where(
            edi_files.c.partner == partner,
            edi_files.c.direction == "out",
            edi_files.c.state.in_(("mdn_pending", "queued")),
        )
    ).all()
    for row in rows:
        file = store.get_file(conn, row.id)
        if file is not None and file.detail.get("as2_message_id") == message_id:
            return file
    return None


def mdn_arrived(
    conn: Connection,
    name: str,
    partner: EdiPartner,
    *,
    original_message_id: str,
    accepted: bool,
    disposition: str,
    mic: str | None,
    same_mic: Callable[[str, str], bool],
    retrying: Retrying,
    now: float,
) -> Settled:
    """Settle the file an asynchronous MDN (its signature verified) answers."""
    file = _awaiting(conn, name, original_message_id)
    if file is None:
        return Settled("unknown")
    what = f"partner {name}, file {file.name}"
    detail = {**file.detail, "mdn": disposition, "mdn_at": now}
    if not accepted:
        reason = f"the partner's MDN for {original_message_id} says {disposition}"
        store.set_state(conn, file.id, "failed", now=now, reason=reason, detail=detail)
        open_exception(
            conn,
            type="edi_send_failed",
            owner=OWNER,
            subject=f"edi-file:{file.id}",
            reason=f"{what}: {reason}",
            actions=ACTIONS,
            now=now,
        )
        log.error("edi.as2_mdn_negative", partner=name, file_id=file.id, disposition=disposition)
        return Settled("refused", file.id, reason)
    sent_mic = str(file.detail.get("mic", ""))
    if mic is None or not same_mic(mic, sent_mic):
        reason = f"the MDN's MIC {mic} is not the one sent ({sent_mic})"
        if file.state == "mdn_pending":  # a queued file has had this attempt counted already
            send_failed(conn, file, file.attempts, CrossdockError(reason), retrying, now)
        return Settled("mismatch", file.id, reason)
    mark_sent(conn, file, partner, now=now, detail=detail)
    log.info("edi.as2_mdn_received", partner=name, file_id=file.id)
    return Settled("delivered", file.id)
