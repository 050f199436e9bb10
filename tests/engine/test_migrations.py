"""Migrations create exactly the tables the code declares, and are safe to run again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from crossdock.engine.database import normalize_url
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
