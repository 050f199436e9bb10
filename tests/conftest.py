"""Shared fixtures: a real PostgreSQL server for the session, and `db_url` parametrised over both
backends (a fresh SQLite file or a fresh PostgreSQL database per test, schema migrated).

Every test that starts a server is marked ``integration`` here, at collection, by this rule: it
is under one of :data:`SERVER_DIRS` (the benches run their own servers), or the source of its own
module, or of a module defining a fixture it uses (directly or through other fixtures), names one
of :data:`SERVER_WORDS` (a sandbox, PostgreSQL, uvicorn, a subprocess, Chromium), or a fixture
it uses says it starts one (a ``starts_servers`` attribute: the contract suites' ``target``).
``pytest -m "not integration"`` (``make check``) runs the rest: in-memory and SQLite tests, no
server. A false positive only moves a fast test to the integration run.
"""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from crossdock.migrations import upgrade
from tests.support.postgres import PostgresServer, find_bindir

SERVER_WORDS = re.compile(
    r"\b(SandboxServer|PostgresServer|uvicorn|subprocess|Popen|socket|chromium|playwright"
    r"|free_port|crossdock\.bench)\b"
)
"""What a test module or fixture module names when it starts a server or a process."""

SERVER_DIRS = (Path(__file__).parent / "bench", Path(__file__).parent / "cli")
"""Folders whose tests start servers through the code they test (benches; commands that start
hubs, sandboxes and worker processes)."""


TESTS = Path(__file__).parent


@cache
def _starts_servers(path: str | None) -> bool:
    """Whether a module of the suite names a server (plugins' own fixtures are not looked at)."""
    if not path or not path.endswith(".py") or not Path(path).is_relative_to(TESTS):
        return False
    return bool(SERVER_WORDS.search(Path(path).read_text(encoding="utf-8")))


def _is_integration(item: pytest.Item) -> bool:
    if any(item.path.is_relative_to(folder) for folder in SERVER_DIRS):
        return True
    if _starts_servers(str(item.path)):
        return True
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    for name in info.names_closure:
        definitions = info.name2fixturedefs.get(name)
        if not definitions:
            continue
        function = definitions[-1].func
        if getattr(function, "starts_servers", False):  # tests/contract/base.py's `target`
            return True
        if _starts_servers(inspect.getsourcefile(function)):
            return True
    return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark `integration` every test that starts a server (the rule: this module's docstring)."""
    for item in items:
        if _is_integration(item):
            item.add_marker(pytest.mark.integration)


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
