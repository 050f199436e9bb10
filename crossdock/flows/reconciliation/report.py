"""Reports of runs: a JSON document (``--json``, the API) and a readable summary (rich).

The JSON document of a run::

    {"run": {"id", "kind", "trigger", "fix", "status", "started_at", "finished_at", "duration_s",
             "checked", "found", "new", "closed", "corrected", "exceptions", "value",
             "value_by_currency", "by_type", "notes"},
     "items": [drift item, ...],      # present after the run (open or being corrected)
     "closed": [drift item, ...]}     # closed by the run (gone, or corrected in the ERP)

A drift item: ``id, kind, type, subject, state, resolution, owner, summary, value, currency,
age_s, since, first_seen, last_seen, closed_at, seen, exception_id, correction, details``
(times as RFC 3339 UTC, amounts as decimal strings). A run's money is ``value_by_currency``
(``{"EUR": "20.00", "USD": "5.00"}``); ``value`` adds up every currency, a count of size only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from crossdock.engine import format_time
from crossdock.flows.reconciliation.service import Report
from crossdock.flows.reconciliation.store import DriftItem, Run

__all__ = ["age_text", "item_json", "render", "report_json", "run_json"]


def _time(epoch: float | None) -> str | None:
    return format_time(datetime.fromtimestamp(epoch, UTC)) if epoch is not None else None


def run_json(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "kind": run.kind,
        "trigger": run.trigger,
        "fix": run.fix,
        "status": run.status,
        "started_at": _time(run.started_at),
        "finished_at": _time(run.finished_at),
        "duration_s": round(run.finished_at - run.started_at, 3),
        "checked": run.checked,
        "found": run.found,
        "new": run.new,
        "closed": run.closed,
        "corrected": run.corrected,
        "exceptions": run.exceptions,
        "value": str(run.value),
        "value_by_currency": run.summary.get("value_by_currency", {}),
        "by_type": run.summary.get("by_type", {}),
        "notes": run.summary.get("notes", []),
        "error": run.summary.get("error"),
    }


def item_json(item: DriftItem, now: float) -> dict[str, Any]:
    return {
        "id": item.id,
        "kind": item.kind,
        "type": item.type,
        "subject": item.subject,
        "state": item.state,
        "resolution": item.resolution,
        "owner": item.owner,
        "summary": item.summary,
        "value": str(item.value),
        "currency": item.currency,
        "age_s": round(item.age_s(now), 1),
        "since": _time(item.since),
        "first_seen": _time(item.first_seen),
        "last_seen": _time(item.last_seen),
        "closed_at": _time(item.closed_at),
        "seen": item.seen,
        "exception_id": item.exception_id,
        "correction": item.correction,
        "details": item.details,
    }


def report_json(report: Report) -> dict[str, Any]:
    now = report.run.finished_at
    return {
        "run": run_json(report.run),
        "items": [item_json(i, now) for i in report.items],
        "closed": [item_json(i, now) for i in report.closed],
    }


def age_text(seconds: float) -> str:
    """``45s``, ``12m``, ``5h 03m``, ``3d 04h``."""
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600:02d}h"


def _money(run: Run) -> str:
    """The run's value per currency (the plain sum for runs recorded without one)."""
    by_currency: dict[str, str] = run.summary.get("value_by_currency") or {}
    if not by_currency:
        return str(run.value)
    return " + ".join(f"{v} {c}".strip() for c, v in by_currency.items())


def _headline(run: Run) -> Text:
    if run.status != "ok":
        return Text(f"{run.kind}: run failed — {run.summary.get('error')}", style="bold red")
    style = "bold green" if run.found == 0 else "bold yellow"
    return Text.assemble(
        (f"{run.kind}: {run.found} drift item{'s' if run.found != 1 else ''}", style),
        f" (value {_money(run)}) — {run.new} new, {run.closed} closed, {run.corrected} corrected, "
        f"{run.exceptions} exception{'s' if run.exceptions != 1 else ''} opened; "
        f"{run.checked} checked in {run.finished_at - run.started_at:.2f}s"
        f"{'; automatic correction on' if run.fix else ''}",
    )


def items_table(items: Sequence[DriftItem], now: float, *, title: str | None = None) -> Table:
    table = Table("type", "subject", "age", "value", "state", "summary", "exception", title=title)
    for column in table.columns[:5]:
        column.no_wrap = True
    for item in items:
        value = f"{item.value}{' ' + item.currency if item.currency else ''}"
        state = item.state if item.resolution is None else f"{item.state} ({item.resolution})"
        table.add_row(
            item.type,
            item.subject,
            age_text(item.age_s(now)),
            value,
            state,
            item.summary,
            (item.exception_id or "")[:13],
        )
    return table


def render(report: Report) -> RenderableType:
    """The readable summary of one run: a headline, the items present, what the run closed."""
    now = report.run.finished_at
    parts: list[RenderableType] = [_headline(report.run)]
    if report.items:
        parts.append(items_table(report.items, now))
    if report.closed:
        parts.append(items_table(report.closed, now, title="closed by this run"))
    for note in report.notes:
        parts.append(Text(f"note: {note}", style="dim"))
    return Group(*parts)
