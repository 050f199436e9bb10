"""Metrics read from the database when `/metrics` is scraped, never on the event path.

- Backlog per consumer group and lane: `Engine.backlog()` (unread, parked, oldest unread age).
- Dead letters not replayed, per group; open exceptions by type and age band.
- Flow steps: the order projection's `order_steps` rows added since the last scrape (read by
  primary key, at most `STEP_ROWS_PER_SCRAPE` per scrape), counted by step and status, with the
  time since the order's previous step. The first scrape starts from the steps of the last
  `STEP_LOOKBACK_S` seconds. These are database-wide figures: with several nodes, aggregate them
  with `max`, not `sum`. The processes of one multi-process server share where counting stands
  (`StepCursor`, a file beside their metric files, locked while a scrape advances it), so a
  step is counted by one of them only and their counters add up.
- Circuit state per connected system, read from the breakers of this process; in a
  multi-process server, the workers process publishes its own every few seconds instead.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, func, select

from crossdock.engine import Engine
from crossdock.engine import dead_letters_table as dead_letters
from crossdock.ops import metrics as m

__all__ = ["AGE_BANDS", "Collector", "FlowReads", "StepTiming"]

FLOW = "order_to_cash"
STEP_ROWS_PER_SCRAPE = 20_000
STEP_LOOKBACK_S = 900.0
STEP_LOOKBACK_ROWS = 50_000
AGE_BANDS = (("lt_1h", 0.0, 3600.0), ("1h_24h", 3600.0, 86400.0), ("gt_24h", 86400.0, None))


@dataclass(frozen=True, slots=True)
class StepTiming:
    """A step an order took, with the time since its previous one (for the step metrics)."""

    id: int
    step: str
    status: str
    at: float
    prev_at: float | None
    detail: str


class FlowReads(Protocol):
    """What the flows let the collector read of their state (`crossdock.flows.observed`): ops
    observes through this interface and never reads the flows' tables itself."""

    def open_exceptions(
        self, conn: Connection, now: float, bands: Sequence[tuple[str, float, float | None]]
    ) -> list[tuple[str, list[int], float]]:
        """Open exceptions per type: counts per age band, age of the oldest."""
        ...

    def step_baseline(self, conn: Connection, lookback_rows: int, lookback_s: float) -> int:
        """The step id after which the first scrape starts (recent steps only, bounded)."""
        ...

    def steps_after(self, conn: Connection, after: int, limit: int) -> list[StepTiming]: ...

    def drift(self, conn: Connection) -> Any:
        """What the drift gauges show, read on a database thread."""
        ...

    def show_drift(self, drift: Any, now: float) -> None:
        """Set the drift gauges from what `drift` read."""
        ...


class StepCursor:
    """The last flow step counted: in memory, or in `path` shared by the processes of a
    multi-process server (read, advanced and written under an exclusive lock of the file)."""

    def __init__(self, reads: FlowReads, path: str | None = None) -> None:
        self._reads = reads
        self._path = path
        self._last: int | None = None

    def advance(self, conn: Connection) -> list[StepTiming]:
        """The steps after the last counted one (moved past them); runs on a database thread."""
        if self._path is None:
            return self._advance(conn)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            text = os.read(fd, 32).decode().strip()
            self._last = int(text) if text else None
            steps = self._advance(conn)
            os.lseek(fd, 0, os.SEEK_SET)
            os.truncate(fd, 0)
            os.write(fd, str(self._last).encode())
            return steps
        finally:
            os.close(fd)  # releases the lock

    def _advance(self, conn: Connection) -> list[StepTiming]:
        if self._last is None:
            self._last = self._reads.step_baseline(conn, STEP_LOOKBACK_ROWS, STEP_LOOKBACK_S)
        steps = self._reads.steps_after(conn, self._last, STEP_ROWS_PER_SCRAPE)
        if steps:
            self._last = steps[-1].id
        return steps


def step_cursor(reads: FlowReads) -> StepCursor:
    """The cursor of this process: shared with the others of a multi-process server."""
    if m.MULTIPROCESS_DIR is None:
        return StepCursor(reads)
    return StepCursor(reads, os.path.join(m.MULTIPROCESS_DIR, "flow_steps.cursor"))


class Collector:
    """Refreshes the scraped metric families of one hub."""

    def __init__(
        self, engine: Engine, publish_circuits: Callable[[], None], flows: FlowReads
    ) -> None:
        self._engine = engine
        self._publish_circuits = publish_circuits
        self._flows = flows
        self._steps = step_cursor(flows)
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        async with self._lock:
            db = self._engine.db
            backlog = await self._engine.backlog()
            dead = await db.read(_dead_letters)
            flows = self._flows
            open_exceptions = await db.read(
                lambda c: flows.open_exceptions(c, time.time(), AGE_BANDS)
            )
            steps = await db.read(self._steps.advance)
            drift = await db.read(flows.drift)
            # From here on nothing awaits: a scrape never sees half-refreshed families.
            lanes = {g: s.lane for g, s in self._engine.subscriptions.items()}
            self._set_backlog(backlog, lanes)
            m.DEAD_LETTERS.clear()
            for group, count in dead:
                m.DEAD_LETTERS.labels(group).set(count)
            self._set_exceptions(open_exceptions)
            self._count_steps(steps)
            if m.MULTIPROCESS_DIR is None:  # else the workers process publishes its own
                self._publish_circuits()
            flows.show_drift(drift, time.time())

    def _set_backlog(self, backlog: list[Any], lanes: dict[str, str]) -> None:
        for family in (
            m.CONSUMER_DEPTH,
            m.CONSUMER_PARKED,
            m.CONSUMER_LAG,
            m.LANE_DEPTH,
            m.LANE_LAG,
        ):
            family.clear()
        per_lane: dict[str, tuple[int, float]] = {}
        for item in backlog:
            lane = lanes.get(item.group, "default")
            m.CONSUMER_DEPTH.labels(item.group, lane).set(item.unread)
            m.CONSUMER_PARKED.labels(item.group, lane).set(item.parked)
            m.CONSUMER_LAG.labels(item.group, lane).set(item.oldest_unread_age_s)
            depth, lag = per_lane.get(lane, (0, 0.0))
            per_lane[lane] = (depth + item.unread, max(lag, item.oldest_unread_age_s))
        for lane, (depth, lag) in per_lane.items():
            m.LANE_DEPTH.labels(lane).set(depth)
            m.LANE_LAG.labels(lane).set(lag)

    def _set_exceptions(self, rows: list[tuple[str, list[int], float]]) -> None:
        m.EXCEPTIONS_OPEN.clear()
        m.EXCEPTIONS_OLDEST.clear()
        for type_, bands, oldest_age in rows:
            for (band, _, _), count in zip(AGE_BANDS, bands, strict=True):
                m.EXCEPTIONS_OPEN.labels(type_, band).set(count)
            m.EXCEPTIONS_OLDEST.labels(type_).set(oldest_age)

    def _count_steps(self, steps: list[StepTiming]) -> None:
        for step in steps:
            m.FLOW_STEPS.labels(FLOW, step.step, step.status).inc()
            if step.prev_at is not None:
                m.FLOW_STEP_SECONDS.labels(FLOW, step.step).observe(
                    max(0.0, step.at - step.prev_at)
                )
            if step.status == "failed":
                m.FLOW_ERRORS.labels(FLOW, step.step, _error_type(step.detail)).inc()


def _error_type(detail: str) -> str:
    """A failed step's `detail.error_type` (or `type`, `reason`), else `unknown`."""
    try:
        data = json.loads(detail)
    except ValueError:
        return "unknown"
    if isinstance(data, dict):
        for key in ("error_type", "type", "reason"):
            if isinstance(data.get(key), str):
                return str(data[key])[:60]
    return "unknown"


def _dead_letters(conn: Connection) -> list[tuple[str, int]]:
    rows = conn.execute(
        select(dead_letters.c.group_name, func.count())
        .where(dead_letters.c.replayed_at.is_(None))
        .group_by(dead_letters.c.group_name)
    )
    return [(str(group), int(count)) for group, count in rows]
