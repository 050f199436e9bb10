"""A scheduled reconciliation that meets an unavailable ERP pauses: no run is recorded as failed,
no attempt is counted, nothing is dead-lettered; it runs once when the ERP is back."""

from __future__ import annotations

from pathlib import Path

from crossdock.config.schema import Config
from crossdock.connectors.memory import MemoryErp
from crossdock.engine import Engine, EngineSettings, NewEvent, Stats
from crossdock.flows.reconciliation.service import GROUP, REQUESTED, register
from crossdock.flows.reconciliation.store import list_runs
from crossdock.migrations import upgrade
from tests.support.waiting import until


class DownErp(MemoryErp):
    """The memory ERP behind a circuit the test opens and closes."""

    down_for: float | None = None
    refused = 0  # questions answered "down"

    def unavailable_for(self) -> float | None:
        if self.down_for is not None:
            self.refused += 1
        return self.down_for


async def test_an_unavailable_erp_pauses_the_run_until_it_returns(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    upgrade(url)
    erp = DownErp()
    erp.down_for = 0.2  # the circuit's answer: try again in this many seconds
    engine = Engine(url, settings=EngineSettings(poll_interval_s=0.02))
    register(engine, erp, Config())
    stats: Stats = engine.stats
    await engine.start(scheduler=False)
    try:
        await engine.append(
            [NewEvent(REQUESTED, "schedule", "reconciliation:orders", {"kind": "orders"})]
        )
        # refused, paused, asked again after the pause: the event was kept, not consumed
        await until(lambda: _refused(erp, 3), what="the group paused by the outage")
        assert await engine.db.read(lambda c: list_runs(c, None, 10)) == []
        erp.down_for = None
        await until(lambda: _ran(engine), timeout=30, what="the run once the ERP is back")
        runs = await engine.db.read(lambda c: list_runs(c, None, 10))
        assert [(r.kind, r.status) for r in runs] == [("orders", "ok")]
        assert await engine.dead_letters() == []
        assert (stats.failed, stats.retried, stats.dead_lettered) == (0, 0, 0)
        assert not await engine.db.read(
            lambda c: c.exec_driver_sql(
                "SELECT count(*) FROM parked_events WHERE group_name = ?", (GROUP,)
            ).scalar()
        )
    finally:
        await engine.stop()


async def _refused(erp: DownErp, times: int) -> bool:
    return erp.refused >= times


async def _ran(engine: Engine) -> bool:
    return bool(await engine.db.read(lambda c: list_runs(c, None, 10)))
