"""The EDI file store: every file received or sent kept raw (a row and its bytes in chunks), with
its state and the reason for it.

Inbound states: ``received`` (stored, not yet handled) → ``parsed`` (read whole, answered by
its 997 or TA1) → ``processed`` (its sets applied) | ``rejected`` (with the reason).
Outbound: ``queued`` (→ ``mdn_pending``: an asynchronous AS2 MDN awaited)
→ ``sent`` → ``acknowledged`` | ``ack_rejected`` | ``ack_overdue``, or
``failed`` when the transport gave up. A file is stored
from a spool file on disk in one transaction, chunk by chunk, so a large file never sits in memory
and a crash leaves either the whole file or nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from crossdock.engine import new_event_id
from crossdock.errors import CrossdockError
from crossdock.flows.edi.tables import edi_file_chunks, edi_files

CHUNK = 1 << 20
"""Bytes per stored chunk (and per read of a spool file)."""

Direction = Literal["in", "out"]
IN_STATES = ("received", "parsed", "rejected", "processed")
OUT_STATES = (
    "queued",
    "mdn_pending",
    "sent",
    "failed",
    "acknowledged",
    "ack_rejected",
    "ack_overdue",
)
STATES = IN_STATES + OUT_STATES


@dataclass(frozen=True, slots=True)
class EdiFile:
    id: str
    partner: str
    direction: str
    name: str
    state: str
    reason: str | None
    size: int
    sha256: str
    interchange: str | None
    group_control: str | None
    attempts: int
    next_attempt_at: float | None
    received_at: float
    updated_at: float
    detail: dict[str, Any]


def _record(row: Any) -> EdiFile:
    return EdiFile(
        id=row.id,
        partner=row.partner,
        direction=row.direction,
        name=row.name,
        state=row.state,
        reason=row.reason,
        size=int(row.size),
        sha256=row.sha256,
        interchange=row.interchange,
        group_control=row.group_control,
        attempts=int(row.attempts),
        next_attempt_at=row.next_attempt_at,
        received_at=row.received_at,
        updated_at=row.updated_at,
        detail=json.loads(row.detail),
    )


def digest(path: Path) -> tuple[str, int]:
    """The SHA-256 (hex) and size of a file, read in chunks."""
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def find_by_content(conn: Connection, partner: str, direction: str, sha256: str) -> EdiFile | None:
    row = conn.execute(
        select(edi_files).where(
            edi_files.c.partner == partner,
            edi_files.c.direction == direction,
            edi_files.c.sha256 == sha256,
        )
    ).first()
    return _record(row) if row is not None else None


def store_file(
    conn: Connection,
    *,
    partner: str,
    direction: Direction,
    name: str,
    spool: Path | bytes,
    sha256: str,
    size: int,
    state: str,
    now: float,
    detail: dict[str, Any] | None = None,
    interchange: str | None = None,
    group_control: str | None = None,
    file_id: str | None = None,
) -> tuple[EdiFile, bool]:
    """Keep the file at ``spool`` (or those bytes); answers the record and whether it is new
    (the same bytes from the same partner, same direction, are the file already stored)."""
    existing = find_by_content(conn, partner, direction, sha256)
    if existing is not None:
        return existing, False
    file_id = file_id or new_event_id()
    try:
        # A savepoint: another node storing the same bytes at the same moment wins, and this
        # one answers its row.
        with conn.begin_nested():
            _insert(
                conn,
                file_id,
                partner,
                direction,
                name,
                spool,
                sha256,
                size,
                state,
                now,
                detail,
                interchange,
                group_control,
            )
    except IntegrityError:
        existing = find_by_content(conn, partner, direction, sha256)
        if existing is None:
            raise
        return existing, False
    found = get_file(conn, file_id)
    assert found is not None
    return found, True


def _insert(
    conn: Connection,
    file_id: str,
    partner: str,
    direction: str,
    name: str,
    spool: Path | bytes,
    sha256: str,
    size: int,
    state: str,
    now: float,
    detail: dict[str, Any] | None,
    interchange: str | None,
    group_control: str | None,
) -> None:
    conn.execute(
        insert(edi_files).values(
            id=file_id,
            partner=partner,
            direction=direction,
            name=name[:255],
            state=state,
            size=size,
            sha256=sha256,
            interchange=interchange,
            group_control=group_control,
            attempts=0,
            next_attempt_at=now,
            received_at=now,
            updated_at=now,
            detail=json.dumps(detail or {}),
        )
    )
    if isinstance(spool, bytes):
        for seq, start in enumerate(range(0, len(spool), CHUNK)):
            data = spool[start : start + CHUNK]
            conn.execute(insert(edi_file_chunks).values(file_id=file_id, seq=seq, data=data))
        return
    with spool.open("rb") as f:
        seq = 0
        while chunk := f.read(CHUNK):
            conn.execute(insert(edi_file_chunks).values(file_id=file_id, seq=seq, data=chunk))
            seq += 1


def chunks(conn: Connection, file_id: str) -> Iterator[bytes]:
    """The bytes of a stored file, chunk by chunk (one row fetched at a time)."""
    seq = 0
    while True:
        data = conn.execute(
            select(edi_file_chunks.c.data).where(
                edi_file_chunks.c.file_id == file_id, edi_file_chunks.c.seq == seq
            )
        ).scalar()
        if data is None:
            return
        yield bytes(data)
        seq += 1


def read_bytes(conn: Connection, file_id: str) -> bytes:
    """The whole content of a stored file (for files the caller knows to be small)."""
    return b"".join(chunks(conn, file_id))


def copy_to(conn: Connection, file_id: str, path: Path) -> None:
    """Write a stored file's bytes to ``path``, streamed."""
    with path.open("wb") as f:
        for chunk in chunks(conn, file_id):
            f.write(chunk)


def get_file(conn: Connection, file_id: str) -> EdiFile | None:
    row = conn.execute(select(edi_files).where(edi_files.c.id == file_id)).first()
    return _record(row) if row is not None else None


def due(
    conn: Connection, direction: Direction, states: tuple[str, ...], now: float, limit: int = 50
) -> list[EdiFile]:
    """Files in ``states`` whose next attempt is due, oldest first."""
    rows = conn.execute(
        select(edi_files)
        .where(
            edi_files.c.direction == direction,
            edi_files.c.next_attempt_at <= now,
            edi_files.c.state.in_(states),
        )
        .order_by(edi_files.c.next_attempt_at, edi_files.c.id)
        .limit(limit)
    ).all()
    return [_record(r) for r in rows]


def claim(conn: Connection, file: EdiFile, *, now: float) -> bool:
    """Count an attempt on ``file`` if nobody changed it since it was read (first writer wins)."""
    changed = conn.execute(
        update(edi_files)
        .where(
            edi_files.c.id == file.id,
            edi_files.c.state == file.state,
            edi_files.c.attempts == file.attempts,
        )
        .values(attempts=file.attempts + 1, updated_at=now)
    ).rowcount
    return bool(changed)


def set_state(
    conn: Connection,
    file_id: str,
    state: str,
    *,
    now: float,
    reason: str | None = None,
    next_attempt_at: float | None = None,
    detail: dict[str, Any] | None = None,
    interchange: str | None = None,
    attempts: int | None = None,
) -> None:
    """Move a file to ``state`` with its reason; ``next_attempt_at`` null means nothing is due."""
    values: dict[str, Any] = {
        "state": state,
        "reason": reason,
        "next_attempt_at": next_attempt_at,
        "updated_at": now,
    }
    if detail is not None:
        values["detail"] = json.dumps(detail)
    if interchange is not None:
        values["interchange"] = interchange
    if attempts is not None:
        values["attempts"] = attempts
    conn.execute(update(edi_files).where(edi_files.c.id == file_id).values(**values))


def list_files(
    conn: Connection,
    *,
    partner: str | None = None,
    state: str | None = None,
    direction: str | None = None,
    limit: int = 100,
    after: tuple[float, str] | None = None,
) -> list[EdiFile]:
    """Files newest first, filtered; ``after`` is the (received_at, id) of the last one seen."""
    query = select(edi_files)
    if partner is not None:
        query = query.where(edi_files.c.partner == partner)
    if state is not None:
        query = query.where(edi_files.c.state == state)
    if direction is not None:
        query = query.where(edi_files.c.direction == direction)
    if after is not None:
        at, last_id = after
        query = query.where(
            or_(
                edi_files.c.received_at < at,
                and_(edi_files.c.received_at == at, edi_files.c.id < last_id),
            )
        )
    rows = conn.execute(
        query.order_by(edi_files.c.received_at.desc(), edi_files.c.id.desc()).limit(limit)
    ).all()
    return [_record(r) for r in rows]


def counts(conn: Connection) -> dict[tuple[str, str], int]:
    """Files per (partner, state)."""
    rows = conn.execute(
        select(edi_files.c.partner, edi_files.c.state, func.count()).group_by(
            edi_files.c.partner, edi_files.c.state
        )
    ).all()
    return {(r[0], r[1]): int(r[2]) for r in rows}


def count_files(
    conn: Connection,
    *,
    partner: str | None = None,
    state: str | None = None,
    direction: str | None = None,
) -> int:
    """How many files match the filters of :func:`list_files`."""
    query = select(func.count()).select_from(edi_files)
    if partner is not None:
        query = query.where(edi_files.c.partner == partner)
    if state is not None:
        query = query.where(edi_files.c.state == state)
    if direction is not None:
        query = query.where(edi_files.c.direction == direction)
    return int(conn.execute(query).scalar_one())


def page_of_files(
    conn: Connection,
    *,
    partner: str | None,
    state: str | None,
    direction: str | None,
    limit: int,
    offset: int,
) -> list[EdiFile]:
    """One page of files, newest first, by position (the dashboard's numbered pages)."""
    query = select(edi_files)
    if partner is not None:
        query = query.where(edi_files.c.partner == partner)
    if state is not None:
        query = query.where(edi_files.c.state == state)
    if direction is not None:
        query = query.where(edi_files.c.direction == direction)
    rows = conn.execute(
        query.order_by(edi_files.c.received_at.desc(), edi_files.c.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [_record(r) for r in rows]


class RetryRefused(CrossdockError):
    """The file is not in a state a retry applies to."""


def retry(conn: Connection, file_id: str, *, now: float) -> EdiFile | None:
    """Put a ``rejected`` inbound file back in the phase it stopped in (``parsed`` when its
    interchange was read and answered, else ``received``), or a ``failed`` outbound file back in
    the queue, due now with fresh attempts. None when there is no such file; raises
    :class:`RetryRefused` for a file in another state."""
    found = get_file(conn, file_id)
    if found is None:
        return None
    if found.direction == "in" and found.state == "rejected":
        state = "parsed" if "sets" in found.detail else "received"
    elif found.direction == "out" and found.state == "failed":
        state = "queued"
    else:
        raise RetryRefused(
            f"file {file_id} is {found.state}: only a rejected inbound file or a failed outbound "
            "file is retried"
        )
    conn.execute(
        update(edi_files)
        .where(edi_files.c.id == file_id, edi_files.c.state == found.state)
        .values(
            state=state,
            attempts=0,
            next_attempt_at=now,
            updated_at=now,
            reason=f"retried after: {found.reason}",
        )
    )
    return get_file(conn, file_id)
