"""Drift metrics: counters at the end of each run, and the gauges of what is still present, read
from the database (``refresh``) so that they are database-wide whichever node ran the
reconciliation. The families are declared in :mod:`crossdock.ops.metrics`.

``refresh(db)`` is cheap (two grouped reads): the scrape-time collector may call it as well.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from crossdock.engine import Database
from crossdock.flows.reconciliation.store import DriftTotal, drift_totals, last_runs
from crossdock.ops import metrics as m

if TYPE_CHECKING:
    from crossdock.flows.reconciliation.store import Report

__all__ = [
    "drift_totals_and_runs",
    "observe_failure",
    "observe_run",
    "refresh",
    "set_totals",
]


def observe_run(report: Report, corrections: Sequence[tuple[str, bool]]) -> None:
    """Count a finished run and the corrections it applied, as (drift type, succeeded)."""
    run = report.run
    m.RECONCILIATION_RUNS.labels(run.kind, run.status).inc()
    m.RECONCILIATION_RUN_SECONDS.labels(run.kind).observe(
        max(0.0, run.finished_at - run.started_at)
    )
    for type_, ok in corrections:
        m.RECONCILIATION_CORRECTIONS.labels(run.kind, type_, "applied" if ok else "failed").inc()


def observe_failure(kind: str) -> None:
    m.RECONCILIATION_RUNS.labels(kind, "failed").inc()


def drift_totals_and_runs(conn: Connection) -> tuple[list[DriftTotal], dict[str, float]]:
    """What the drift gauges show: totals of the items still present, last run per kind."""
    return drift_totals(conn), last_runs(conn)


async def refresh(db: Database) -> None:
    """Set the drift gauges from the database (open and correcting items, last runs)."""
    totals, last = await db.read(drift_totals_and_runs)
    set_totals(totals, last, time.time())


def set_totals(totals: Sequence[DriftTotal], last: dict[str, float], now: float) -> None:
    m.RECONCILIATION_DRIFT_ITEMS.clear()
    m.RECONCILIATION_DRIFT_VALUE.clear()
    m.RECONCILIATION_DRIFT_OLDEST.clear()
    oldest: dict[str, float] = {}
    for t in totals:
        m.RECONCILIATION_DRIFT_ITEMS.labels(t.kind, t.type).set(t.count)
        for currency, value in (t.by_currency or {"": t.value}).items():
            m.RECONCILIATION_DRIFT_VALUE.labels(t.kind, t.type, currency).set(float(value))
        oldest[t.kind] = min(oldest.get(t.kind, t.oldest_since), t.oldest_since)
    for kind, since in oldest.items():
        m.RECONCILIATION_DRIFT_OLDEST.labels(kind).set(max(0.0, now - since))
    for kind, at in last.items():
        m.RECONCILIATION_LAST_RUN.labels(kind).set(at)
