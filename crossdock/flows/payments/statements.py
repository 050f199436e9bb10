"""Importing a bank statement file: read twice, streamed, never whole.

The first pass checks every entry (a bad one refuses the file, naming the entry, and nothing is
stored); the second appends one ``payment.reported`` per entry in transactions of
:data:`CHUNK` entries, each idempotent by the entry's key (source ``bank``), and records the
statement. A file imported again, or an import cut off by a crash and sent again, reports each
entry once: the duplicates are counted, not appended.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from sqlalchemy import Connection, select

from crossdock.connectors.bank.statements import SOURCE, StatementInfo, read_camt053, read_csv
from crossdock.connectors.gateway.report import PaymentReport
from crossdock.engine import Engine, NewEvent, insert_events
from crossdock.flows.payments.events import REPORTED, STREAM
from crossdock.flows.payments.tables import statements

__all__ = ["CHUNK", "Imported", "import_statement"]

CHUNK = 1000


@dataclass(frozen=True, slots=True)
class Imported:
    statement_id: str
    format: str
    account: str | None
    entries: int
    credits: int
    debits: int
    skipped: int
    new: int
    duplicates: int


def _reader(path: Path, fmt: str, info: StatementInfo) -> Iterator[PaymentReport]:
    return read_camt053(path, info) if fmt == "camt053" else read_csv(path, info)


def _check(path: Path, fmt: str) -> StatementInfo:
    info = StatementInfo(fmt)
    for _ in _reader(path, fmt, info):
        pass
    return info


def _append(
    conn: Connection, reports: list[PaymentReport], statement_id: str, partitions: int
) -> int:
    events = [
        NewEvent(
            REPORTED,
            SOURCE,
            STREAM,
            {"payment": r.data(), "statement_id": statement_id},
            idempotency_key=r.payment_id,
        )
        for r in reports
    ]
    return sum(1 for appended in insert_events(conn, events, partitions) if appended.new)


def _record(conn: Connection, info: StatementInfo, statement_id: str) -> None:
    known = conn.execute(
        select(statements.c.statement_id).where(statements.c.statement_id == statement_id)
    ).first()
    if known is None:
        conn.execute(
            statements.insert().values(
                statement_id=statement_id,
                format=info.format,
                account=info.account,
                entries=info.entries,
                credits=info.credits,
                debits=info.debits,
                imported_at=time.time(),
            )
        )


async def import_statement(engine: Engine, path: Path, fmt: str) -> Imported:
    """Import the statement at ``path`` (``camt053`` or ``csv``); ``GatewayError`` refuses it."""
    checked = await asyncio.to_thread(_check, path, fmt)
    statement_id = f"{fmt}:{checked.account or '-'}:{checked.statement_id or '-'}"[:255]
    info = StatementInfo(fmt)
    reader = _reader(path, fmt, info)
    new = 0
    while True:
        chunk = await asyncio.to_thread(lambda: list(islice(reader, CHUNK)))
        if not chunk:
            break
        new += await engine.writer.submit(
            lambda c, chunk=chunk: _append(c, chunk, statement_id, engine.partitions),  # type: ignore[misc]
            appends=True,
        )
    await engine.writer.submit(lambda c: _record(c, checked, statement_id))
    booked = checked.credits + checked.debits
    return Imported(
        statement_id,
        fmt,
        checked.account,
        checked.entries,
        checked.credits,
        checked.debits,
        checked.skipped,
        new,
        booked - new,
    )
