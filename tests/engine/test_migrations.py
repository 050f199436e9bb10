"""Migrations create exactly the tables the code declares, and are safe to run again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from crossdock.engine.database import normalize_url
from crossdock.engine.tables import partition_heads
from crossdock.migrations import current, heads, upgrade
from crossdock.migrations.metadata import target_metadata


def test_schema_matches_the_declared_tables(db_url: str) -> None:
    upgrade(db_url)  # a second run changes nothing
    assert current(db_url) == heads()
    engine = create_engine(normalize_url(db_url), poolclass=NullPool)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), target_metadata)
    engine.dispose()
    assert diff == []


def test_the_partition_indexes_are_gone_and_heads_are_backfilled(
    empty_db_url: str,
) -> None:
    upgrade(empty_db_url, "0001_engine")
    engine = create_engine(normalize_url(empty_db_url), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            for i, partition in enumerate([3, 5, 3, 0, 5, 5]):
                conn.execute(
                    text(
                        "INSERT INTO events (id, type, source, subject, partition, time, data,"
                        " recorded_at) VALUES (:id, 'a.b', 's', :subject, :p, 't', '{}', 0)"
                    ),
                    {"id": f"id-{i}", "subject": f"s{i}", "p": partition},
                )
        upgrade(empty_db_url)
        with engine.connect() as conn:
            heads = {p: h for p, h in conn.execute(select(partition_heads))}
            indexes = (
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'"
                if conn.dialect.name == "sqlite"
                else "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events'"
            )
            definitions = {name: sql for name, sql in conn.execute(text(indexes))}
    finally:
        engine.dispose()
    assert heads == {3: 3, 5: 6, 0: 4}
    # 0007 replaced `(partition, seq)` with a block index, 0008 dropped that too.
    assert "ix_events_partition_seq" not in definitions
    assert "ix_events_block_partition" not in definitions
    assert not any("partition" in sql for sql in definitions.values() if sql)
