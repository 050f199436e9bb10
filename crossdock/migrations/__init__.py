"""Schema migrations (alembic) for the hub's database, on SQLite and PostgreSQL.

`upgrade(url)` brings a database to the newest revisions; concurrent callers (several hub processes
starting together) are serialised by an advisory lock on PostgreSQL and a file lock on SQLite.
Independent features may branch from the same revision (alembic branches): every head is applied.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from crossdock.engine import dialect_of, one_shot_engine, sqlite_path

HERE = Path(__file__).resolve().parent
LOCK_KEY = 0x43524F54


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("version_locations", str(HERE / "versions"))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@contextlib.contextmanager
def _file_lock(url: str) -> Iterator[None]:
    path = sqlite_path(url)
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.migrate-lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade(url: str, revision: str = "heads") -> None:
    engine = one_shot_engine(url)
    try:
        with _file_lock(url), engine.connect() as conn:
            if dialect_of(url) == "postgresql":
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": LOCK_KEY})
                conn.commit()
            try:
                command.upgrade(alembic_config(conn), revision)
                conn.commit()
            finally:
                if dialect_of(url) == "postgresql":
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
                    conn.commit()
    finally:
        engine.dispose()


def current(url: str) -> tuple[str, ...]:
    """The revisions the database is at (one per branch), sorted."""
    engine = one_shot_engine(url)
    try:
        with engine.connect() as conn:
            return tuple(sorted(MigrationContext.configure(conn).get_current_heads()))
    finally:
        engine.dispose()


def heads() -> tuple[str, ...]:
    """The newest revisions this version knows, sorted."""
    return tuple(sorted(ScriptDirectory.from_config(alembic_config()).get_heads()))
