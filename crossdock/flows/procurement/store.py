"""Recommendations in the database: a run's results saved, decisions applied, reads for the API.

Every function runs inside the caller's transaction; a decision writes its state change, its
timeline step, its audit entry and (once approved) the ``procurement.approved`` event together.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from crossdock.engine import NewEvent, new_event_id
from crossdock.errors import CrossdockError
from crossdock.flows.procurement.events import approved_event
from crossdock.flows.procurement.recommend import Recommendation
from crossdock.flows.procurement.tables import recommendation_lines, recommendations, timeline
from crossdock.ops.audit import append_audit

__all__ = [
    "OPEN_STATES",
    "DecisionError",
    "LineEdit",
    "LineRow",
    "RecommendationRow",
    "add_step",
    "approve",
    "get_recommendation",
    "list_recommendations",
    "reject",
    "save_run",
    "steps_of",
]

OPEN_STATES = ("pending", "awaiting_second")
STATES = ("pending", "awaiting_second", "approved", "ordered", "rejected", "superseded")


@dataclass(frozen=True, slots=True)
class LineRow:
    line_no: int
    sku: str
    recommended: Decimal
    quantity: Decimal
    unit_price: Decimal
    reason: str


@dataclass(frozen=True, slots=True)
class RecommendationRow:
    id: str
    ref: str
    supplier_ref: str
    warehouse: str
    currency: str
    state: str
    amount: Decimal
    lead_days: int
    run_id: str
    created_at: float
    updated_at: float
    approvals: list[dict[str, Any]]
    decided_by: str | None
    note: str | None
    po_name: str | None
    po_id: int | None
    error: str | None
    lines: list[LineRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LineEdit:
    sku: str
    quantity: Decimal


class DecisionError(CrossdockError):
    """A decision refused: ``status`` 404, 409 or 422, ``pointer`` names the field at fault."""

    def __init__(self, status: int, detail: str, pointer: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.pointer = pointer


def _dec(value: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:  # pragma: no cover - written by this module only
        return Decimal(0)


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value != 0 else "0"


def _row(row: Any, lines: Sequence[Any]) -> RecommendationRow:
    return RecommendationRow(
        id=row.id,
        ref=row.ref,
        supplier_ref=row.supplier_ref,
        warehouse=row.warehouse,
        currency=row.currency,
        state=row.state,
        amount=_dec(row.amount),
        lead_days=row.lead_days,
        run_id=row.run_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        approvals=json.loads(row.approvals),
        decided_by=row.decided_by,
        note=row.note,
        po_name=row.po_name,
        po_id=row.po_id,
        error=row.error,
        lines=[
            LineRow(
                ln.line_no,
                ln.sku,
                _dec(ln.recommended),
                _dec(ln.quantity),
                _dec(ln.unit_price),
                ln.reason,
            )
            for ln in sorted(lines, key=lambda x: x.line_no)
        ],
    )


def get_recommendation(
    conn: Connection, key: str, *, lock: bool = False
) -> RecommendationRow | None:
    """A recommendation by id or ref."""
    query = select(recommendations).where(
        (recommendations.c.id == key) | (recommendations.c.ref == key)
    )
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        return None
    lines = conn.execute(
        select(recommendation_lines).where(recommendation_lines.c.recommendation_id == row.id)
    ).all()
    return _row(row, lines)


def list_recommendations(
    conn: Connection, state: str | None = None, limit: int = 100
) -> list[RecommendationRow]:
    query = select(recommendations).order_by(recommendations.c.created_at.desc()).limit(limit)
    if state is not None:
        query = query.where(recommendations.c.state == state)
    rows = conn.execute(query).all()
    if not rows:
        return []
    lines = conn.execute(
        select(recommendation_lines).where(
            recommendation_lines.c.recommendation_id.in_([r.id for r in rows])
        )
    ).all()
    by_rec: dict[str, list[Any]] = {}
    for ln in lines:
        by_rec.setdefault(ln.recommendation_id, []).append(ln)
    return [_row(r, by_rec.get(r.id, [])) for r in rows]


def add_step(
    conn: Connection,
    recommendation_id: str,
    step: str,
    *,
    actor: str,
    now: float,
    details: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        insert(timeline).values(
            recommendation_id=recommendation_id,
            step=step,
            at=now,
            actor=actor,
            details=json.dumps(details or {}, sort_keys=True, default=str),
        )
    )


def steps_of(conn: Connection, recommendation_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(timeline)
        .where(timeline.c.recommendation_id == recommendation_id)
        .order_by(timeline.c.id)
    ).all()
    return [
        {"step": r.step, "at": r.at, "actor": r.actor, "details": json.loads(r.details)}
        for r in rows
    ]


def _write_lines(conn: Connection, rec_id: str, rec: Recommendation) -> None:
    conn.execute(
        delete(recommendation_lines).where(recommendation_lines.c.recommendation_id == rec_id)
    )
    conn.execute(
        insert(recommendation_lines),
        [
            {
                "recommendation_id": rec_id,
                "sku": ln.sku,
                "line_no": n,
                "recommended": _text(ln.quantity),
                "quantity": _text(ln.quantity),
                "unit_price": _text(ln.unit_price),
                "reason": ln.reason,
            }
            for n, ln in enumerate(rec.lines, start=1)
        ],
    )


def save_run(
    conn: Connection,
    recs: Sequence[Recommendation],
    *,
    run_id: str,
    now: float,
    auto_approve_below: Decimal | None,
    second_approver_above: Decimal | None,
) -> tuple[dict[str, int], list[NewEvent]]:
    """Save a run: open recommendations of the same supplier and warehouse are updated in place
    (unless a first approver has signed: then the run leaves them), open ones no longer needed are
    superseded, the rest are new. Returns counts and the events of automatic approvals."""
    counts = {"new": 0, "updated": 0, "superseded": 0, "kept": 0, "auto_approved": 0}
    events: list[NewEvent] = []
    open_rows = {
        r.open_key: r
        for r in conn.execute(
            select(recommendations).where(recommendations.c.state.in_(OPEN_STATES))
        ).all()
    }
    seen: set[str] = set()
    for rec in recs:
        seen.add(rec.key)
        existing = open_rows.get(rec.key)
        amount = _text(rec.amount)
        if existing is not None and existing.state == "awaiting_second":
            counts["kept"] += 1
            continue
        if existing is not None:
            rec_id = existing.id
            conn.execute(
                update(recommendations)
                .where(recommendations.c.id == rec_id)
                .values(amount=amount, lead_days=rec.lead_days, run_id=run_id, updated_at=now)
            )
            counts["updated"] += 1
            step = "re-recommended"
        else:
            rec_id = new_event_id()
            conn.execute(
                insert(recommendations).values(
                    id=rec_id,
                    ref=f"REC-{rec_id.replace('-', '')[-12:].upper()}",
                    supplier_ref=rec.supplier_ref,
                    warehouse=rec.warehouse,
                    currency=rec.currency,
                    state="pending",
                    open_key=rec.key,
                    amount=amount,
                    lead_days=rec.lead_days,
                    run_id=run_id,
                    created_at=now,
                    updated_at=now,
                    approvals="[]",
                )
            )
            counts["new"] += 1
            step = "recommended"
        _write_lines(conn, rec_id, rec)
        add_step(
            conn, rec_id, step, actor="hub", now=now, details={"run": run_id, "amount": amount}
        )
        if (
            auto_approve_below is not None
            and rec.amount < auto_approve_below
            and (second_approver_above is None or rec.amount <= second_approver_above)
        ):
            found = get_recommendation(conn, rec_id)
            assert found is not None
            events += approve(conn, found, by="hub:auto-approval", now=now, second_above=None)
            counts["auto_approved"] += 1
    for key, row in open_rows.items():
        if key not in seen and row.state == "pending":
            conn.execute(
                update(recommendations)
                .where(recommendations.c.id == row.id)
                .values(state="superseded", open_key=None, updated_at=now)
            )
            add_step(conn, row.id, "superseded", actor="hub", now=now, details={"run": run_id})
            counts["superseded"] += 1
    return counts, events


def _check_open(rec: RecommendationRow) -> None:
    if rec.state not in OPEN_STATES:
        raise DecisionError(
            409, f"recommendation {rec.ref} is {rec.state}: only an open one can be decided"
        )


def approve(
    conn: Connection,
    rec: RecommendationRow,
    *,
    by: str,
    now: float,
    second_above: Decimal | None,
    lines: Sequence[LineEdit] | None = None,
    note: str | None = None,
) -> list[NewEvent]:
    """Approve all lines as recommended, or the ``lines`` given with their quantities (the
    others are dropped). Above ``second_above`` a second, different approver completes it."""
    _check_open(rec)
    quantities = {ln.sku: ln.quantity for ln in rec.lines}
    if lines is not None:
        if rec.state == "awaiting_second":
            raise DecisionError(
                422,
                "lines: the second approver confirms the first approver's quantities "
                "(reject to change them)",
                "/lines",
            )
        known = set(quantities)
        edited: dict[str, Decimal] = {}
        for index, edit in enumerate(lines):
            if edit.sku not in known:
                raise DecisionError(
                    422, f"lines/{index}/sku: {edit.sku} is not in {rec.ref}", f"/lines/{index}/sku"
                )
            if edit.sku in edited:
                raise DecisionError(
                    422, f"lines/{index}/sku: {edit.sku} given twice", f"/lines/{index}/sku"
                )
            edited[edit.sku] = edit.quantity
        quantities = {sku: edited.get(sku, Decimal(0)) for sku in quantities}
    if not any(q > 0 for q in quantities.values()):
        raise DecisionError(
            422, "lines: approve at least one line with a positive quantity, or reject", "/lines"
        )
    prices = {ln.sku: ln.unit_price for ln in rec.lines}
    amount = sum((q * prices[s] for s, q in quantities.items()), Decimal(0))
    approvals = list(rec.approvals)
    if any(a.get("by") == by for a in approvals):
        raise DecisionError(409, f"{rec.ref} needs a second approver other than {by}", None)
    approvals.append({"by": by, "at": now})
    needs_second = second_above is not None and amount > second_above
    done = not needs_second or len(approvals) >= 2
    state = "approved" if done else "awaiting_second"
    for sku, quantity in quantities.items():
        conn.execute(
            update(recommendation_lines)
            .where(
                recommendation_lines.c.recommendation_id == rec.id,
                recommendation_lines.c.sku == sku,
            )
            .values(quantity=_text(quantity))
        )
    conn.execute(
        update(recommendations)
        .where(recommendations.c.id == rec.id)
        .values(
            state=state,
            open_key=rec.supplier_ref + "|" + rec.warehouse + "|" + rec.currency
            if not done
            else None,
            amount=_text(amount),
            approvals=json.dumps(approvals),
            decided_by=by if done else None,
            note=note if note is not None else rec.note,
            updated_at=now,
        )
    )
    edits = {
        s: _text(q)
        for s, q in quantities.items()
        if q != next(ln.recommended for ln in rec.lines if ln.sku == s)
    }
    details = {"ref": rec.ref, "amount": _text(amount), "state": state, "edited": edits}
    if note:
        details["note"] = note
    step = "approved" if done else "first-approval"
    add_step(conn, rec.id, step, actor=by, now=now, details=details)
    append_audit(
        conn,
        actor=by,
        action=f"procurement.recommendation.{step}",
        subject=f"recommendation:{rec.ref}",
        details=details,
    )
    return [approved_event(rec.id, rec.ref, by)] if done else []


def reject(
    conn: Connection, rec: RecommendationRow, *, by: str, now: float, note: str | None
) -> None:
    _check_open(rec)
    conn.execute(
        update(recommendations)
        .where(recommendations.c.id == rec.id)
        .values(state="rejected", open_key=None, decided_by=by, note=note, updated_at=now)
    )
    details: dict[str, Any] = {"ref": rec.ref, "amount": _text(rec.amount)}
    if note:
        details["note"] = note
    add_step(conn, rec.id, "rejected", actor=by, now=now, details=details)
    append_audit(
        conn,
        actor=by,
        action="procurement.recommendation.rejected",
        subject=f"recommendation:{rec.ref}",
        details=details,
    )
