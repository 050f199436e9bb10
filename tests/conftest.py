"""Shared fixtures: a real PostgreSQL server for the session, and `db_url` parametrised over both
backends (a fresh SQLite file or a fresh PostgreSQL database per test, schema migrated)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from crossdock import sandbox
from crossdock.migrations import upgrade
from tests.support.postgres import PostgresServer, find_bindir

# The tests compose hubs themselves, so they register the simulators the way the CLI does.
sandbox.register()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer | None]:
    bindir = find_bindir()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries missing: `make test` installs them")
        yield None
        return
    server = PostgresServer.start(bindir)
    try:
        yield server
    finally:
        server.stop()


def _fresh_url(kind: str, tmp_path: Path, postgres: PostgresServer | None) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'crossdock.db'}"
        return
    if postgres is None:
        pytest.skip("PostgreSQL is not installed here")
    url = postgres.create_database()
    try:
        yield url
    finally:
        postgres.drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def empty_db_url(backend: str, tmp_path: Path, postgres: PostgresServer | None) -> Iterator[str]:
    """A database of the backend under test, without the schema."""
    yield from _fresh_url(backend, tmp_path, postgres)


@pytest.fixture
def db_url(empty_db_url: str) -> str:
    """A database of the backend under test, migrated to the newest schema."""
    upgrade(empty_db_url)
    return empty_db_url


@pytest.fixture
def pg_url(tmp_path: Path, postgres: PostgresServer | None) -> Iterator[str]:
    """A migrated PostgreSQL database (for tests that only make sense there)."""
    for url in _fresh_url("postgresql", tmp_path, postgres):
        upgrade(url)
        yield url
