"""What the flows let operations read of their state when `/metrics` is scraped: open exceptions,
the order projection's steps and the reconciliation drift. The collector (`crossdock.ops.collect`)
reads through this module's `FLOW_READS` (its `FlowReads` interface), never the tables themselves.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, case, func, select
from sqlalchemy.orm import aliased

from crossdock.flows.reconciliation.metrics import drift_totals_and_runs, set_totals
from crossdock.flows.tables import exceptions, order_steps
from crossdock.ops.collect import FlowReads, StepTiming

__all__ = ["FLOW_READS", "open_exceptions", "step_baseline", "steps_after"]


def open_exceptions(
    conn: Connection, now: float, age_bands: Sequence[tuple[str, float, float | None]]
) -> list[tuple[str, list[int], float]]:
    """Open exceptions per type: counts per age band (`(name, low_s, high_s)`), oldest age."""
    created = exceptions.c.created_at
    bands = [
        func.sum(
            case(
                (
                    and_(created <= now - low, created > now - high)
                    if high is not None
                    else created <= now - low,
                    1,
                ),
                else_=0,
            )
        )
        for _, low, high in age_bands
    ]
    rows = conn.execute(
        select(exceptions.c.type, func.min(created), *bands)
        .where(exceptions.c.state == "open")
        .group_by(exceptions.c.type)
    )
    return [
        (str(row[0]), [int(v or 0) for v in row[2:]], max(0.0, now - float(row[1]))) for row in rows
    ]


def step_baseline(conn: Connection, lookback_rows: int, lookback_s: float) -> int:
    """The step id after which the first scrape starts (recent steps only, bounded)."""
    top = conn.execute(select(func.max(order_steps.c.id))).scalar()
    if top is None:
        return 0
    first_recent = conn.execute(
        select(func.min(order_steps.c.id)).where(
            order_steps.c.id > top - lookback_rows,
            order_steps.c.at >= time.time() - lookback_s,
        )
    ).scalar()
    return int(first_recent) - 1 if first_recent is not None else int(top)


def steps_after(conn: Connection, after: int, limit: int) -> list[StepTiming]:
    earlier = aliased(order_steps)
    prev_at = (
        select(func.max(earlier.c.at))
        .where(earlier.c.order_id == order_steps.c.order_id, earlier.c.id < order_steps.c.id)
        .scalar_subquery()
    )
    rows = conn.execute(
        select(
            order_steps.c.id,
            order_steps.c.step,
            order_steps.c.status,
            order_steps.c.at,
            prev_at,
            order_steps.c.detail,
        )
        .where(order_steps.c.id > after)
        .order_by(order_steps.c.id)
        .limit(limit)
    )
    return [StepTiming(int(r[0]), r[1], r[2], float(r[3]), r[4], r[5]) for r in rows]


class _FlowReads:
    def open_exceptions(
        self, conn: Connection, now: float, bands: Sequence[tuple[str, float, float | None]]
    ) -> list[tuple[str, list[int], float]]:
        return open_exceptions(conn, now, bands)

    def step_baseline(self, conn: Connection, lookback_rows: int, lookback_s: float) -> int:
        return step_baseline(conn, lookback_rows, lookback_s)

    def steps_after(self, conn: Connection, after: int, limit: int) -> list[StepTiming]:
        return steps_after(conn, after, limit)

    def drift(self, conn: Connection) -> Any:
        return drift_totals_and_runs(conn)

    def show_drift(self, drift: Any, now: float) -> None:
        totals, last_runs = drift
        set_totals(totals, last_runs, now)


FLOW_READS: FlowReads = _FlowReads()
