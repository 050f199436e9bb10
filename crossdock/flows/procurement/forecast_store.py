"""Forecast versions in the hub's database: recorded, applied or rejected, read back.

An import is recorded with its client-given id in one transaction: its well-formed lines and the
problems found so far. Asked again with the same id and the same content (its digest), the
stored version is answered; with other content, :class:`ImportConflict`. The SKU check needs the
ERP and happens in the forecasting consumer (:func:`settle`): the version becomes ``applied`` (its
valid lines in force) or ``rejected`` (its lines removed), per its policy. The forecast in force is
the latest applied version; :func:`daily_demand` turns it into demand per day for recommendations.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Connection, delete, func, insert, select, update

from crossdock.engine import new_event_id
from crossdock.errors import CrossdockError
from crossdock.flows.procurement.forecast_tables import forecast_lines, forecast_versions
from crossdock.flows.procurement.forecasts import ForecastLine, LineProblem

__all__ = [
    "ImportConflict",
    "Policy",
    "VersionRow",
    "daily_demand",
    "get_version",
    "in_force",
    "list_versions",
    "record_import",
    "settle",
]

Policy = Literal["all_or_nothing", "apply_valid"]
INSERT_ROWS = 500


class ImportConflict(CrossdockError):
    """An import id already used for other content (answered 409)."""


@dataclass(frozen=True, slots=True)
class VersionRow:
    id: str
    version: int
    import_id: str
    source: str
    policy: str
    state: str
    digest: str
    created_at: float
    created_by: str
    lines_total: int
    lines_applied: int
    rejected: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "import_id": self.import_id,
            "source": self.source,
            "policy": self.policy,
            "state": self.state,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "lines_total": self.lines_total,
            "lines_applied": self.lines_applied,
            "lines_rejected": len(self.rejected),
            "rejected": self.rejected,
        }


def _row(row: Any) -> VersionRow:
    return VersionRow(
        row.id,
        row.version,
        row.import_id,
        row.source,
        row.policy,
        row.state,
        row.digest,
        row.created_at,
        row.created_by,
        row.lines_total,
        row.lines_applied,
        json.loads(row.rejected),
    )


def get_version(conn: Connection, key: str | int) -> VersionRow | None:
    """A version by its number, id or import id."""
    c = forecast_versions.c
    where = c.version == key if isinstance(key, int) else (c.id == key) | (c.import_id == key)
    row = conn.execute(select(forecast_versions).where(where)).first()
    return None if row is None else _row(row)


def list_versions(
    conn: Connection, limit: int = 100, before: int | None = None
) -> list[VersionRow]:
    c = forecast_versions.c
    query = select(forecast_versions).order_by(c.version.desc()).limit(limit)
    if before is not None:
        query = query.where(c.version < before)
    return [_row(r) for r in conn.execute(query)]


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value != 0 else "0"


def _insert_lines(conn: Connection, version_id: str, lines: Iterable[ForecastLine]) -> None:
    rows = [
        {
            "version_id": version_id,
            "warehouse": ln.warehouse,
            "sku": ln.sku,
            "period_start": ln.period_start.isoformat(),
            "period_days": ln.period_days,
            "line_no": ln.line,
            "quantity": _text(ln.quantity),
            "confidence": None if ln.confidence is None else _text(ln.confidence),
        }
        for ln in lines
    ]
    for start in range(0, len(rows), INSERT_ROWS):
        conn.execute(insert(forecast_lines), rows[start : start + INSERT_ROWS])


def record_import(
    conn: Connection,
    *,
    import_id: str,
    digest: str,
    source: str,
    policy: Policy,
    by: str,
    now: float,
    total: int,
    lines: list[ForecastLine],
    problems: list[LineProblem],
    settled: bool = False,
) -> tuple[VersionRow, bool]:
    """Record an import (``(version, created)``); the same import again answers the stored one.

    Bad lines under ``all_or_nothing`` reject the version at once (nothing is kept of its
    lines); else it waits for the SKU check (``received``), unless ``settled`` (the baseline,
    whose SKUs come from the ERP's own history) applies it now."""
    found = get_version(conn, import_id)
    if found is not None and found.import_id == import_id:
        if found.digest != digest:
            raise ImportConflict(f"import {import_id} was already given with other content")
        return found, False
    number = (
        int(
            conn.execute(
                select(func.coalesce(func.max(forecast_versions.c.version), 0))
            ).scalar_one()
        )
        + 1
    )
    rejected = [p.as_dict() for p in problems]
    fails = (problems and policy == "all_or_nothing") or not lines
    state = "rejected" if fails else "applied" if settled else "received"
    version_id = new_event_id()
    conn.execute(
        insert(forecast_versions).values(
            id=version_id,
            version=number,
            import_id=import_id,
            source=source,
            policy=policy,
            state=state,
            digest=digest,
            created_at=now,
            created_by=by,
            lines_total=total,
            lines_applied=len(lines) if state == "applied" else 0,
            rejected=json.dumps(rejected),
        )
    )
    if state != "rejected":
        _insert_lines(conn, version_id, lines)
    stored = get_version(conn, version_id)
    assert stored is not None
    return stored, True


def pending_skus(conn: Connection, version_id: str) -> list[str]:
    c = forecast_lines.c
    return list(conn.execute(select(c.sku).where(c.version_id == version_id).distinct()).scalars())


def settle(conn: Connection, version: VersionRow, unknown: set[str]) -> VersionRow:
    """Apply a received version, its lines of ``unknown`` SKUs rejected per its policy."""
    c = forecast_lines.c
    rejected = list(version.rejected)
    if unknown:
        rows = conn.execute(
            select(c.line_no, c.sku, c.warehouse, c.period_start).where(
                c.version_id == version.id, c.sku.in_(sorted(unknown))
            )
        ).all()
        rejected += [
            {
                "line": r.line_no,
                "field": "sku",
                "rule": "unknown_sku",
                "detail": f"the ERP knows no SKU {r.sku} ({r.warehouse}, {r.period_start})",
            }
            for r in rows
        ]
        rejected.sort(key=lambda p: int(p["line"]))
        conn.execute(
            delete(forecast_lines).where(c.version_id == version.id, c.sku.in_(sorted(unknown)))
        )
    left = int(
        conn.execute(
            select(func.count()).select_from(forecast_lines).where(c.version_id == version.id)
        ).scalar_one()
    )
    fails = left == 0 or (bool(unknown) and version.policy == "all_or_nothing")
    if fails:
        conn.execute(delete(forecast_lines).where(c.version_id == version.id))
    conn.execute(
        update(forecast_versions)
        .where(forecast_versions.c.id == version.id)
        .values(
            state="rejected" if fails else "applied",
            lines_applied=0 if fails else left,
            rejected=json.dumps(rejected),
        )
    )
    after = get_version(conn, version.id)
    assert after is not None
    return after


def in_force(conn: Connection) -> VersionRow | None:
    """The latest applied version."""
    c = forecast_versions.c
    row = conn.execute(
        select(forecast_versions).where(c.state == "applied").order_by(c.version.desc()).limit(1)
    ).first()
    return None if row is None else _row(row)


def daily_demand(
    conn: Connection, today: date
) -> tuple[VersionRow | None, dict[tuple[str, str], Decimal]]:
    """Demand per day by (warehouse, SKU) of the forecast in force: its quantities of the periods
    not yet over, divided by their days."""
    version = in_force(conn)
    if version is None:
        return None, {}
    c = forecast_lines.c
    totals: dict[tuple[str, str], tuple[Decimal, int]] = {}
    for row in conn.execute(
        select(c.warehouse, c.sku, c.period_start, c.period_days, c.quantity).where(
            c.version_id == version.id
        )
    ):
        start = date.fromisoformat(row.period_start)
        if start + timedelta(days=row.period_days) <= today:
            continue
        quantity, days = totals.get((row.warehouse, row.sku), (Decimal(0), 0))
        totals[(row.warehouse, row.sku)] = (
            quantity + Decimal(row.quantity),
            days + row.period_days,
        )
    return version, {key: q / days for key, (q, days) in totals.items() if days}
