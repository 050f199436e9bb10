"""Many rows in few driver steps: multi-row `VALUES` instead of `executemany`, and reads that
return their rows as one JSON array on SQLite.

Python's sqlite3 releases the GIL around every step of a statement, and `executemany` steps once
per row. While another thread runs Python (the event loop under load), each of those steps waits
for the GIL to come back, up to the interpreter's switch interval: statements that step once per
row slow to a crawl exactly when the hub is busy. A multi-row `VALUES` statement is one step, and
so is a read that SQLite aggregates into one JSON row (figures: docs/benchmarks.md). The
multi-row statements suit PostgreSQL as well (one round trip per chunk); its driver fetches a
result whole, so reads there stay plain.

Chunks are 256 rows, then powers of two for the remainder, so a table has at most a dozen
statement texts (the drivers' statement caches keep them prepared).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import chain
from typing import Any

from sqlalchemy import CompoundSelect, Connection, Float, Select, case, func, null, select

CHUNK_ROWS = 256


def chunk_sizes(count: int) -> list[int]:
    """`count` rows as full chunks, then the remainder as decreasing powers of two."""
    sizes = [CHUNK_ROWS] * (count // CHUNK_ROWS)
    rest = count % CHUNK_ROWS
    bit = CHUNK_ROWS
    while rest:
        bit >>= 1
        if rest & bit:
            sizes.append(bit)
            rest -= bit
    return sizes


def mark(conn: Connection) -> str:
    """The DB-API parameter marker of the connection's driver (``?`` or ``%s``)."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


@lru_cache(maxsize=256)
def _statement(head: str, template: str, rows: int, tail: str, marker: str) -> str:
    row = template.replace("?", marker)
    return f"{head} VALUES {', '.join([row] * rows)} {tail}".rstrip()


def insert_values(
    conn: Connection,
    head: str,
    rows: Sequence[tuple[Any, ...]],
    tail: str = "",
    template: str | None = None,
) -> int:
    """Run `head VALUES (…), (…) tail` over `rows` (tuples of one width) in chunks; the number
    of rows the database reports as written. `head` is `INSERT INTO t (a, b)` (or the
    `UPDATE … FROM (` of `update_values`); `tail` may be
    `ON CONFLICT … DO NOTHING`, which skips a row that repeats an earlier one of the statement
    as it skips one already stored; `ON CONFLICT … DO UPDATE` needs rows of distinct keys
    (PostgreSQL refuses to update a row twice in one statement). `template` is one row with `?`
    for each value, e.g. `(?, ?, 0)`; by default, one `?` per value."""
    if not rows:
        return 0
    template = template or f"({', '.join('?' * len(rows[0]))})"
    marker = mark(conn)
    written, start = 0, 0
    for size in chunk_sizes(len(rows)):
        params = tuple(chain.from_iterable(rows[start : start + size]))
        sql = _statement(head, template, size, tail, marker)
        written += conn.exec_driver_sql(sql, params).rowcount
        start += size
    return written


def update_values(
    conn: Connection,
    table: str,
    assign: Sequence[str],
    match: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> int:
    """`UPDATE table SET assign… WHERE match…` once per row (each row: the `assign` values, then
    the `match` values), as statements joining the rows as a `VALUES` list (`UPDATE … FROM`);
    the number of rows updated. Of rows with equal `match` values the last wins, as it would
    row by row; `assign` must not name a `match` column."""
    last = {row[len(assign) :]: row for row in rows}
    # A VALUES list names its columns column1, column2… on SQLite and PostgreSQL alike.
    columns = [f"v.column{i + 1}" for i in range(len(assign) + len(match))]
    sets = ", ".join(f"{name} = {c}" for name, c in zip(assign, columns, strict=False))
    where = " AND ".join(
        f"{table}.{name} = {c}" for name, c in zip(match, columns[len(assign) :], strict=True)
    )
    head = f"UPDATE {table} SET {sets} FROM ("
    tail = f") AS v WHERE {where}"
    return insert_values(conn, head, list(last.values()), tail)


def fetch_rows(
    conn: Connection,
    query: Select[Any] | CompoundSelect[Any],
    params: dict[str, Any] | None = None,
    json_columns: Iterable[str] = (),
) -> list[list[Any]]:
    """The rows of `query` as lists (column values in select order), with `json_columns` (columns
    holding JSON text) decoded.

    On SQLite the rows come back as one JSON array built by the database, so the driver steps
    once instead of once per row (see above). Integers, text and NULL keep their values; REAL
    columns (`Float`) travel as 17-digit text and come back as the same floats (SQLite's own
    JSON would print 15 digits; only doubles near the largest finite one may differ). Order
    follows `query` only where the caller sorts: an aggregate does not promise it.
    """
    wanted = frozenset(json_columns)
    if conn.dialect.name != "sqlite":
        names = [c.key for c in query.selected_columns]
        decode = [i for i, name in enumerate(names) if name in wanted]
        rows = [list(row) for row in conn.execute(query, params)]
        for row in rows:
            for i in decode:
                if row[i] is not None:
                    row[i] = json.loads(row[i])
        return rows
    aggregated, reals = _aggregated(query, wanted)
    text = conn.execute(aggregated, params).scalar_one()
    rows = list(json.loads(text)) if text else []
    for row in rows:
        for i in reals:
            if row[i] is not None:
                row[i] = float(row[i])
    return rows


@lru_cache(maxsize=256)  # callers pass statements built once (bound parameters): wrapped once
def _aggregated(
    query: Select[Any] | CompoundSelect[Any], json_columns: frozenset[str]
) -> tuple[Select[Any], list[int]]:
    """The query as one JSON array, and the positions of its REAL columns."""
    rows = query.subquery()
    values = [
        func.json(c)
        if c.key in json_columns
        else case((c.is_(None), null()), else_=func.printf("%!.17g", c))
        if isinstance(c.type, Float)
        else c
        for c in rows.c
    ]
    reals = [i for i, c in enumerate(query.selected_columns) if isinstance(c.type, Float)]
    return select(func.json_group_array(func.json_array(*values))), reals
