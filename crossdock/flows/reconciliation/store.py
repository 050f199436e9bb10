"""Runs and drift items in the hub's database: what a run found, matched with what earlier runs
found, and the reads the CLI, the API and the dashboard show.

A finding whose key (drift type and business key) matches an open item *is* that item: it is
seen again, its value and details are refreshed, its age keeps counting from ``since``. Open
items a run of their kind no longer finds are closed (``corrected`` when the owner's value had
been applied, else ``gone``) and their open exception is withdrawn.

States of an item: ``open`` (present), ``correcting`` (the owner's value was handed to the flow;
the next run checks it took), ``closed``.

For the dashboard: :func:`open_drift` (open and correcting items, oldest first) and
:func:`drift_totals` (counts and values per kind and type).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from crossdock.flows.reconciliation.tables import drift_items, reconciliation_runs
from crossdock.flows.tables import exceptions

__all__ = [
    "ACTIVE",
    "DriftItem",
    "DriftTotal",
    "ItemWrite",
    "Run",
    "StoredItem",
    "close_exception",
    "drift_totals",
    "get_item",
    "get_run",
    "list_runs",
    "open_drift",
    "open_items",
    "write_items",
    "write_run",
]

ACTIVE = ("open", "correcting")
"""States of an item that is still a difference between systems."""


@dataclass(frozen=True, slots=True)
class DriftItem:
    """A drift item as stored (the dashboard's and the API's view)."""

    id: str
    kind: str
    type: str
    subject: str
    state: str
    resolution: str | None
    owner: str
    value: Decimal
    currency: str | None
    since: float
    first_seen: float
    last_seen: float
    closed_at: float | None
    first_run_id: str
    last_run_id: str
    seen: int
    summary: str
    details: dict[str, Any]
    exception_id: str | None
    correction: dict[str, Any] | None

    def age_s(self, now: float) -> float:
        end = self.closed_at if self.closed_at is not None else now
        return max(0.0, end - self.since)


@dataclass(frozen=True, slots=True)
class Run:
    id: str
    kind: str
    trigger: str
    fix: bool
    status: str
    started_at: float
    finished_at: float
    checked: int
    found: int
    new: int
    closed: int
    corrected: int
    exceptions: int
    value: Decimal
    summary: dict[str, Any]


@dataclass
class Report:
    """A finished run and the drift items of its kind as the run left them."""

    run: Run
    items: list[DriftItem]
    closed: list[DriftItem]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class StoredItem:
    """An open item with the state of its exception, as a run needs it to decide."""

    item: DriftItem
    exception_state: str | None
    exception_resolution: str | None


@dataclass(frozen=True, slots=True)
class DriftTotal:
    kind: str
    type: str
    count: int
    value: Decimal
    """Summed over currencies (see ``by_currency`` for money)."""
    oldest_since: float
    by_currency: dict[str, Decimal] = field(default_factory=dict)
    """The value per currency of the items (``""``: items without one)."""


def _item(row: Any) -> DriftItem:
    return DriftItem(
        id=row.id,
        kind=row.kind,
        type=row.type,
        subject=row.subject,
        state=row.state,
        resolution=row.resolution,
        owner=row.owner,
        value=Decimal(row.value),
        currency=row.currency,
        since=row.since,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        closed_at=row.closed_at,
        first_run_id=row.first_run_id,
        last_run_id=row.last_run_id,
        seen=row.seen,
        summary=row.summary,
        details=json.loads(row.details),
        exception_id=row.exception_id,
        correction=json.loads(row.correction) if row.correction else None,
    )


def _run(row: Any) -> Run:
    return Run(
        id=row.id,
        kind=row.kind,
        trigger=row.trigger,
        fix=bool(row.fix),
        status=row.status,
        started_at=row.started_at,
        finished_at=row.finished_at,
        checked=row.checked,
        found=row.found,
        new=row.new,
        closed=row.closed,
        corrected=row.corrected,
        exceptions=row.exceptions,
        value=Decimal(row.value),
        summary=json.loads(row.summary),
    )


# -- reads ---------------------------------------------------------------------------------------


def open_drift(
    conn: Connection,
    kind: str | None = None,
    *,
    type: str | None = None,
    subject: str | None = None,
    limit: int = 100,
    include_closed: bool = False,
) -> list[DriftItem]:
    """Drift items still present (open or being corrected), oldest first."""
    query = select(drift_items).order_by(drift_items.c.since, drift_items.c.id).limit(limit)
    if not include_closed:
        query = query.where(drift_items.c.state.in_(ACTIVE))
    if kind is not None:
        query = query.where(drift_items.c.kind == kind)
    if type is not None:
        query = query.where(drift_items.c.type == type)
    if subject is not None:
        query = query.where(drift_items.c.subject == subject)
    return [_item(row) for row in conn.execute(query)]


def get_item(conn: Connection, item_id: str) -> DriftItem | None:
    row = conn.execute(select(drift_items).where(drift_items.c.id == item_id)).first()
    return _item(row) if row else None


def item_of_exception(conn: Connection, exception_id: str) -> DriftItem | None:
    row = conn.execute(
        select(drift_items).where(drift_items.c.exception_id == exception_id)
    ).first()
    return _item(row) if row else None


def drift_totals(conn: Connection) -> list[DriftTotal]:
    """Open and correcting items per kind and type: count, value, oldest ``since``."""
    rows = conn.execute(
        select(
            drift_items.c.kind,
            drift_items.c.type,
            func.count(),
            func.min(drift_items.c.since),
        )
        .where(drift_items.c.state.in_(ACTIVE))
        .group_by(drift_items.c.kind, drift_items.c.type)
    ).all()
    values: dict[tuple[str, str], dict[str, Decimal]] = {}
    # values are decimal text: summed here, exactly (a few thousand rows at most), per currency
    for kind, type_, value, currency in conn.execute(
        select(
            drift_items.c.kind, drift_items.c.type, drift_items.c.value, drift_items.c.currency
        ).where(drift_items.c.state.in_(ACTIVE))
    ):
        sums = values.setdefault((kind, type_), {})
        sums[currency or ""] = sums.get(currency or "", Decimal(0)) + Decimal(value)
    return [
        DriftTotal(
            kind,
            type_,
            int(count),
            sum(values.get((kind, type_), {}).values(), Decimal(0)),
            float(oldest),
            values.get((kind, type_), {}),
        )
        for kind, type_, count, oldest in rows
    ]


def list_runs(conn: Connection, kind: str | None = None, limit: int = 20) -> list[Run]:
    """Newest first."""
    query = (
        select(reconciliation_runs)
        .order_by(reconciliation_runs.c.started_at.desc(), reconciliation_runs.c.id)
        .limit(limit)
    )
    if kind is not None:
        query = query.where(reconciliation_runs.c.kind == kind)
    return [_run(row) for row in conn.execute(query)]


def get_run(conn: Connection, run_id: str) -> Run | None:
    row = conn.execute(
        select(reconciliation_runs).where(reconciliation_runs.c.id == run_id)
    ).first()
    return _run(row) if row else None


def last_runs(conn: Connection) -> dict[str, float]:
    """When the last successful run of each kind finished."""
    rows = conn.execute(
        select(reconciliation_runs.c.kind, func.max(reconciliation_runs.c.finished_at))
        .where(reconciliation_runs.c.status == "ok")
        .group_by(reconciliation_runs.c.kind)
    )
    return {str(kind): float(at) for kind, at in rows}


def open_items(conn: Connection, kind: str) -> dict[str, StoredItem]:
    """The open and correcting items of a kind by key, with their exception's state."""
    rows = conn.execute(
        select(
            drift_items, exceptions.c.state.label("x_state"), exceptions.c.resolution.label("x_res")
        )
        .select_from(
            drift_items.outerjoin(exceptions, exceptions.c.id == drift_items.c.exception_id)
        )
        .where(drift_items.c.kind == kind, drift_items.c.state.in_(ACTIVE))
    )
    return {row.key: StoredItem(_item(row), row.x_state, row.x_res) for row in rows}


# -- writes --------------------------------------------------------------------------------------


@dataclass
class ItemWrite:
    """What a run decided about one finding (``existing`` is the matched open item, if any)."""

    id: str
    kind: str
    type: str
    key: str
    subject: str
    owner: str
    value: Decimal
    currency: str | None
    since: float
    summary: str
    details: dict[str, Any]
    existing: DriftItem | None
    state: str = "open"
    resolution: str | None = None
    exception_id: str | None = None
    correction: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def write_items(
    conn: Connection,
    kind: str,
    run_id: str,
    now: float,
    items: Sequence[ItemWrite],
    *,
    close_missing: bool = True,
) -> list[DriftItem]:
    """Insert new items, refresh found ones and (``close_missing``) close the kind's other open
    items; returns the closed ones."""
    for item in items:
        closing = item.state == "closed"
        values: dict[str, Any] = {
            "state": item.state,
            "resolution": item.resolution,
            "open_key": None if closing else item.key,
            "value": str(item.value),
            "currency": item.currency,
            "summary": item.summary,
            "details": json.dumps(item.details, default=str),
            "last_seen": now,
            "last_run_id": run_id,
            "closed_at": now if closing else None,
            "exception_id": item.exception_id,
            "correction": json.dumps(item.correction, default=str) if item.correction else None,
        }
        if item.existing is None:
            conn.execute(
                insert(drift_items).values(
                    id=item.id,
                    kind=item.kind,
                    type=item.type,
                    key=item.key,
                    subject=item.subject,
                    owner=item.owner,
                    since=item.since,
                    first_seen=now,
                    first_run_id=run_id,
                    seen=1,
                    **values,
                )
            )
        else:
            conn.execute(
                update(drift_items)
                .where(drift_items.c.id == item.existing.id)
                .values(
                    since=min(item.existing.since, item.since),
                    seen=drift_items.c.seen + 1,
                    owner=item.owner,
                    **values,
                )
            )
    if not close_missing:
        return []
    found = {item.existing.id for item in items if item.existing is not None}
    gone = [
        _item(row)
        for row in conn.execute(
            select(drift_items).where(drift_items.c.kind == kind, drift_items.c.state.in_(ACTIVE))
        )
        if row.id not in found and row.last_run_id != run_id
    ]
    for old in gone:
        conn.execute(
            update(drift_items)
            .where(drift_items.c.id == old.id)
            .values(
                state="closed",
                open_key=None,
                resolution="corrected" if old.correction else "gone",
                closed_at=now,
            )
        )
        if old.exception_id:
            close_exception(
                conn, old.exception_id, now=now, note=f"no longer found by run {run_id}"
            )
    return [
        replace(
            old,
            state="closed",
            resolution="corrected" if old.correction else "gone",
            closed_at=now,
            last_run_id=old.last_run_id,
        )
        for old in gone
    ]


def close_exception(conn: Connection, exception_id: str, *, now: float, note: str) -> bool:
    """Withdraw a drift item's exception if it is still open (nobody needs to decide anymore)."""
    done = conn.execute(
        update(exceptions)
        .where(exceptions.c.id == exception_id, exceptions.c.state == "open")
        .values(
            state="resolved",
            resolved_at=now,
            resolved_by="crossdock.reconciliation",
            resolution="withdrawn",
            note=note,
        )
    )
    return bool(done.rowcount)


def write_run(conn: Connection, run: Run) -> None:
    conn.execute(
        insert(reconciliation_runs).values(
            id=run.id,
            kind=run.kind,
            trigger=run.trigger,
            fix=run.fix,
            status=run.status,
            started_at=run.started_at,
            finished_at=run.finished_at,
            checked=run.checked,
            found=run.found,
            new=run.new,
            closed=run.closed,
            corrected=run.corrected,
            exceptions=run.exceptions,
            value=str(run.value),
            summary=json.dumps(run.summary, default=str),
        )
    )
