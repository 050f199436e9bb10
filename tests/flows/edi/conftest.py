"""Fixtures of the EDI flow tests: a migrated SQLite file copied per test, and its Database."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from crossdock.engine import Database
from crossdock.migrations import upgrade


@pytest.fixture(scope="session")
def edi_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("edi") / "template.db"
    upgrade(f"sqlite:///{path}", "heads")
    return path


@pytest.fixture
def db_file(edi_template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "hub.db"
    shutil.copyfile(edi_template, target)
    return target


@pytest.fixture
def db(db_file: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{db_file}")
    try:
        yield database
    finally:
        database.close()
