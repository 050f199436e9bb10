"""Control numbers issued to a partner: ISA13, GS06 and ST02, one counter each, persisted.

A number is allocated inside the transaction that records the outbound file that carries it, so a
rolled-back file gives its numbers back (gap-free) and a committed one never sees them again
(never reused). Concurrent allocators serialise on the counter's row: the increment is a single
``UPDATE … SET last = last + n`` (PostgreSQL row lock; SQLite's single writer), read back in the
same transaction.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from crossdock.errors import CrossdockError
from crossdock.flows.edi.tables import edi_control_numbers

Kind = Literal["isa", "gs", "st"]

LIMITS: dict[str, int] = {"isa": 999_999_999, "gs": 999_999_999, "st": 999_999_999}
"""The largest number each element holds (ISA13 is 9 digits; GS06 and ST02 up to 9)."""


class ControlNumbersExhausted(CrossdockError):
    """A partner's counter reached the largest number its element holds."""


def allocate(conn: Connection, partner: str, kind: Kind, count: int = 1, *, now: float) -> int:
    """Reserve ``count`` consecutive numbers of ``kind`` for ``partner``; answers the first."""
    if count < 1:
        raise ValueError("count must be >= 1")
    table = edi_control_numbers
    where = (table.c.partner == partner) & (table.c.kind == kind)
    bumped = conn.execute(
        update(table).where(where).values(last=table.c.last + count, updated_at=now)
    ).rowcount
    if not bumped:
        # The first number for this partner: a nested transaction, so losing the race to a
        # concurrent first allocation only retries the update.
        try:
            with conn.begin_nested():
                conn.execute(
                    table.insert().values(partner=partner, kind=kind, last=count, updated_at=now)
                )
        except IntegrityError:
            conn.execute(
                update(table).where(where).values(last=table.c.last + count, updated_at=now)
            )
    last = int(conn.execute(select(table.c.last).where(where)).scalar_one())
    if last > LIMITS[kind]:
        raise ControlNumbersExhausted(
            f"{kind} control numbers of partner {partner} are exhausted ({LIMITS[kind]:,})"
        )
    return last - count + 1


def peek(conn: Connection, partner: str, kind: Kind) -> int:
    """The last number of ``kind`` issued to ``partner`` (0: none yet)."""
    table = edi_control_numbers
    found = conn.execute(
        select(table.c.last).where(table.c.partner == partner, table.c.kind == kind)
    ).scalar()
    return int(found or 0)
