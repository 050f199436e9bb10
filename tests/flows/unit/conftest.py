"""Fixtures of the fast flow tests: the order-to-cash flow on an in-memory ERP
(:class:`~crossdock.connectors.memory.MemoryErp`) and an engine on a SQLite file copied from one
migrated per session, without workers: each test delivers the events to the handler itself
(``Flow.deliver``), so nothing waits and no server runs."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from crossdock.connectors.memory import MemoryErp
from crossdock.engine import Engine, EngineSettings, Lane
from crossdock.flows.order_to_cash import register
from crossdock.migrations import upgrade
from tests.flows.harness import Flow, flow_config


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at the newest schema (migrating takes longer than a fast test may)."""
    path = tmp_path_factory.mktemp("unit-flows") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def erp() -> MemoryErp:
    return MemoryErp()


@pytest.fixture
async def flow(erp: MemoryErp, migrated: Path, tmp_path: Path) -> AsyncIterator[Flow]:
    database = tmp_path / "hub.db"
    shutil.copyfile(migrated, database)
    engine = Engine(
        f"sqlite:///{database}",
        settings=EngineSettings(partitions=8),
        lanes=[Lane("orders", 10, 2), Lane("default", 0, 1)],
    )
    [subscription] = register(engine, erp, flow_config())
    await engine.start(workers=False)
    try:
        yield Flow(engine, erp, subscription, "memory")  # type: ignore[arg-type]
    finally:
        await engine.stop()
