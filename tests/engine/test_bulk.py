"""Many rows in few statements (`crossdock.engine.bulk`), and writers of several processes
queueing on one SQLite file."""

from __future__ import annotations

import fcntl
import os

import pytest
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, select, update

from crossdock.engine.bulk import (
    CHUNK_ROWS,
    chunk_sizes,
    fetch_rows,
    insert_values,
    update_values,
)
from crossdock.engine.database import Database, sqlite_path

metadata = MetaData()
items = Table(
    "bulk_items",
    metadata,
    Column("k", String(20), primary_key=True),
    Column("n", Integer, nullable=False),
    Column("doc", Text),
    Column("at", Float),
)
HEAD = "INSERT INTO bulk_items (k, n, doc)"


@pytest.mark.parametrize("count", [0, 1, 7, CHUNK_ROWS, CHUNK_ROWS * 2 + 77])
def test_chunks_cover_the_rows_with_few_statement_shapes(count: int) -> None:
    sizes = chunk_sizes(count)
    assert sum(sizes) == count
    assert all(s == CHUNK_ROWS or (s & (s - 1)) == 0 for s in sizes)
    assert len(sizes) == len(set(sizes)) + max(0, count // CHUNK_ROWS - 1)


def test_insert_values_writes_every_row_and_skips_conflicts(db_url: str) -> None:
    db = Database(db_url)
    try:
        db.write_sync(lambda c: metadata.create_all(c))
        rows = [(f"k{i}", i, None) for i in range(CHUNK_ROWS + 45)]
        assert db.write_sync(lambda c: insert_values(c, HEAD, rows)) == len(rows)
        # Taken keys and a key repeated inside the statement are skipped, the rest written.
        again = [("k1", -1, None), ("new-a", 1, None), ("new-a", 2, None), ("new-b", 3, None)]
        written = db.write_sync(
            lambda c: insert_values(c, HEAD, again, "ON CONFLICT (k) DO NOTHING")
        )
        assert written == 2
        stored = db.read_sync(lambda c: dict(c.execute(select(items.c.k, items.c.n)).all()))
        assert len(stored) == len(rows) + 2
        assert (stored["k1"], stored["new-a"], stored["new-b"]) == (1, 1, 3)
    finally:
        db.close()


def test_fetch_rows_returns_every_row_with_json_columns_decoded(db_url: str) -> None:
    db = Database(db_url)
    try:
        db.write_sync(lambda c: metadata.create_all(c))
        doc = '{"lines": [{"sku": "A", "qty": "1.50"}], "i": %d}'
        rows: list[tuple[str, int, str | None]] = [(f"k{i:04}", i, doc % i) for i in range(600)]
        rows.append(("none", 0, None))
        db.write_sync(lambda c: insert_values(c, HEAD, rows))
        query = select(items.c.k, items.c.n, items.c.doc).where(items.c.n < 500)
        found = db.read_sync(lambda c: fetch_rows(c, query, json_columns=("doc",)))
        by_key = {r[0]: r for r in found}
        assert len(by_key) == 501
        assert by_key["k0042"] == ["k0042", 42, {"lines": [{"sku": "A", "qty": "1.50"}], "i": 42}]
        assert by_key["none"] == ["none", 0, None]
        # Floats come back bit for bit (JSON would print REAL with 15 digits only).
        stamp = 1763900000.1234567
        db.write_sync(
            lambda c: c.execute(update(items).where(items.c.k == "k0007").values(at=stamp))
        )
        timed = select(items.c.k, items.c.at).where(items.c.k.in_(["k0007", "k0008"]))
        assert dict(db.read_sync(lambda c: fetch_rows(c, timed))) == {"k0007": stamp, "k0008": None}
        nothing = select(items.c.k).where(items.c.n < 0)
        assert db.read_sync(lambda c: fetch_rows(c, nothing)) == []
    finally:
        db.close()


def test_a_sqlite_write_holds_the_writers_lock_of_the_file(tmp_path: os.PathLike[str]) -> None:
    url = f"sqlite:///{tmp_path}/queue.db"
    db = Database(url)
    other = os.open(f"{sqlite_path(url)}.writers", os.O_RDWR)
    try:

        def lock_is_taken(_conn: object) -> bool:
            try:
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(other, fcntl.LOCK_UN)
            return False

        assert db.write_sync(lock_is_taken)
        assert not lock_is_taken(None)  # released with the commit
    finally:
        os.close(other)
        db.close()


def test_update_values_updates_matching_rows_and_the_last_of_equal_keys_wins(db_url: str) -> None:
    db = Database(db_url)
    try:
        db.write_sync(lambda c: metadata.create_all(c))
        db.write_sync(lambda c: insert_values(c, HEAD, [(f"k{i}", i, "old") for i in range(300)]))
        changes = [(-i, "new", f"k{i}") for i in range(0, 300, 2)]
        changes += [(7, "first", "k5"), (8, "second", "k5"), (0, "nobody", "missing")]
        updated = db.write_sync(
            lambda c: update_values(c, "bulk_items", ["n", "doc"], ["k"], changes)
        )
        assert updated == 151
        stored = db.read_sync(
            lambda c: {
                k: (n, doc) for k, n, doc in c.execute(select(items.c.k, items.c.n, items.c.doc))
            }
        )
        assert stored["k4"] == (-4, "new")
        assert stored["k3"] == (3, "old")
        assert stored["k5"] == (8, "second")
        assert "missing" not in stored
    finally:
        db.close()
