"""A partner's AS2 message, once decrypted and verified, kept in the EDI file store as a
``received`` file — the same path a file picked up over SFTP or from a folder takes, so it is then
parsed, answered by its 997 and processed by the EDI loop.

One transaction stores the file and records its Message-ID: a message sent again (the partner
did not get our MDN) is recognised by its Message-ID and answered again without being stored
twice. Its MIC is kept so the repeated receipt is the same.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from crossdock.flows.edi import store
from crossdock.flows.edi.as2_tables import edi_as2_received


@dataclass(frozen=True, slots=True)
class As2Received:
    file_id: str
    mic: str
    duplicate: bool
    """The Message-ID was received before: nothing new was stored."""


def _earlier(conn: Connection, partner: str, message_id: str) -> As2Received | None:
    row = conn.execute(
        select(edi_as2_received.c.file_id, edi_as2_received.c.mic).where(
            edi_as2_received.c.partner == partner,
            edi_as2_received.c.message_id == message_id,
        )
    ).first()
    return As2Received(row.file_id, row.mic, duplicate=True) if row is not None else None


def file_name(message_id: str, filename: str | None) -> str:
    """The stored file's name: the one the partner gave, else one made of the Message-ID."""
    if filename:
        return filename
    local = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in message_id.strip("<>"))
    return f"as2-{local[:200]}.x12"


def keep_message(
    conn: Connection,
    *,
    partner: str,
    message_id: str,
    payload: bytes,
    filename: str | None,
    mic: str,
    now: float,
    detail: dict[str, Any],
) -> As2Received:
    """Store a verified message's payload for ``partner`` unless its Message-ID is known."""
    earlier = _earlier(conn, partner, message_id)
    if earlier is not None:
        return earlier
    record, _ = store.store_file(
        conn,
        partner=partner,
        direction="in",
        name=file_name(message_id, filename),
        spool=payload,
        sha256=hashlib.sha256(payload).hexdigest(),
        size=len(payload),
        state="received",
        now=now,
        detail={"as2": {"message_id": message_id, "mic": mic, **detail}},
    )
    try:
        with conn.begin_nested():
            conn.execute(
                insert(edi_as2_received).values(
                    partner=partner,
                    message_id=message_id,
                    file_id=record.id,
                    mic=mic,
                    received_at=now,
                )
            )
    except IntegrityError:  # the same message, stored by a concurrent request
        earlier = _earlier(conn, partner, message_id)
        if earlier is None:
            raise
        return earlier
    return As2Received(record.id, mic, duplicate=False)
