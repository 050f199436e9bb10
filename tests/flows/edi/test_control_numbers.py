"""Control numbers per partner: consecutive, never reused, gap-free when a transaction rolls back,
and unique under concurrent allocation (threads with their own connections, SQLite and
PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine

from crossdock.engine import Database
from crossdock.flows.edi.control import allocate, peek
from crossdock.migrations import upgrade


class _Rollback(Exception):
    pass


def test_numbers_are_consecutive_per_partner_and_kind(db_url: str) -> None:
    database = Database(db_url)
    try:
        assert database.write_sync(lambda c: allocate(c, "acme", "isa", now=1.0)) == 1
        assert database.write_sync(lambda c: allocate(c, "acme", "isa", now=1.0)) == 2
        assert database.write_sync(lambda c: allocate(c, "acme", "st", 3, now=1.0)) == 1
        assert database.write_sync(lambda c: allocate(c, "acme", "st", now=1.0)) == 4
        assert database.write_sync(lambda c: allocate(c, "globex", "isa", now=1.0)) == 1

        def allocate_then_fail(conn: object) -> None:
            allocate(conn, "acme", "isa", now=1.0)  # type: ignore[arg-type]
            raise _Rollback

        with pytest.raises(_Rollback):
            database.write_sync(allocate_then_fail)
        # The rolled-back file's number is given to the next one: no gap.
        assert database.write_sync(lambda c: allocate(c, "acme", "isa", now=1.0)) == 3
        assert database.read_sync(lambda c: peek(c, "acme", "isa")) == 3
    finally:
        database.close()


def test_concurrent_allocations_never_share_a_number(db_url: str) -> None:
    # Separate engines and connections (not the Database's one writer thread), so that the
    # allocations really race, the first one for a partner included.
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    if engine.dialect.name == "sqlite":
        engine.dispose()
        engine = create_engine(db_url, connect_args={"timeout": 60})
    got: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            for _ in range(20):
                with engine.begin() as conn:
                    number = allocate(conn, "acme", "gs", now=1.0)
                with lock:
                    got.append(number)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    assert errors == []
    assert sorted(got) == list(range(1, 121))


def test_migration_creates_the_table(empty_db_url: str) -> None:
    upgrade(empty_db_url, "0011_edi")
    database = Database(empty_db_url)
    try:
        assert database.write_sync(lambda c: allocate(c, "acme", "isa", now=1.0)) == 1
    finally:
        database.close()
