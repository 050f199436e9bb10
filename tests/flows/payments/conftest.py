"""Fixtures of the payments tests: the flow on an in-memory ERP over a SQLite file copied from
one migrated per session, its handler called by hand (nothing waits, no server)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from crossdock.config.payments import PaymentsConfig
from crossdock.config.schema import Config, EngineConfig
from crossdock.connectors.memory import MemoryErp
from crossdock.engine import Engine, EngineSettings, Lane
from crossdock.flows.payments import register
from crossdock.migrations import upgrade
from tests.flows.payments.harness import PaymentsFlow

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("payments") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def erp() -> MemoryErp:
    return MemoryErp()


def payments_config(**values: object) -> Config:
    return Config(
        engine=EngineConfig(batch_size=1000, max_attempts=5, backoff_base_s=0.05),
        payments=PaymentsConfig.model_validate(values),
    )


@pytest.fixture
async def flow(erp: MemoryErp, migrated: Path, tmp_path: Path) -> AsyncIterator[PaymentsFlow]:
    database = tmp_path / "hub.db"
    shutil.copyfile(migrated, database)
    engine = Engine(
        f"sqlite:///{database}",
        settings=EngineSettings(partitions=8),
        lanes=[Lane("default", 0, 1)],
    )
    subscription = register(engine, erp, payments_config())
    await engine.start(workers=False)
    try:
        yield PaymentsFlow(engine, subscription)
    finally:
        await engine.stop()
