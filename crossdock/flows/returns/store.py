"""The return projection: one row per return with its state, ERP references and steps, read by
the API and written by the intake and the flow's handler inside engine transactions."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, insert, or_, select, update

from crossdock.flows.returns.tables import return_steps, returns
from crossdock.flows.subjects import key_of, subject

STATES = (
    "requested",  # accepted; the return picking is being made in the ERP
    "pending_approval",  # worth more than the channel allows without customer service
    "authorized",  # the return picking exists: the RMA number is the customer's
    "received",  # the warehouse received and inspected it; stock moved in the ERP
    "mismatch",  # short or unexpected goods: customer service decides (an exception)
    "refunded",  # credit note made; the shop refunds the customer (final)
    "credited",  # credit note made and kept as the customer's credit (final)
    "exchanged",  # replacement order accepted through order to cash (final)
    "rejected",  # customer service refused it (final)
    "closed",  # ended without a financial outcome (final)
)
FINAL_STATES = frozenset({"refunded", "credited", "exchanged", "rejected", "closed"})
ACTIVE_STATES = tuple(s for s in STATES if s not in ("rejected",))
"""States whose lines count as returned already (a rejected return gives its quantities back)."""


def return_subject(rma: str) -> str:
    """The event subject of a return: its events are delivered in order under this key."""
    return subject("return", rma)


def rma_of(subject: str) -> str | None:
    return key_of("return", subject)


@dataclass(frozen=True, slots=True)
class ReturnRecord:
    rma: str
    channel: str
    return_ref: str
    order_id: str
    state: str
    outcome: str
    currency: str
    amount: str
    body: dict[str, Any]
    erp: dict[str, Any]
    created_at: float
    updated_at: float

    @property
    def lines(self) -> list[dict[str, Any]]:
        return list(self.body.get("lines") or [])


@dataclass(frozen=True, slots=True)
class ReturnStep:
    step: str
    status: str
    at: float
    detail: dict[str, Any]
    event_id: str | None


def _record(row: Any) -> ReturnRecord:
    return ReturnRecord(
        rma=row.rma,
        channel=row.channel,
        return_ref=row.return_ref,
        order_id=row.order_id,
        state=row.state,
        outcome=row.outcome,
        currency=row.currency,
        amount=row.amount,
        body=json.loads(row.body),
        erp=json.loads(row.erp),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def get_return(conn: Connection, rma: str) -> ReturnRecord | None:
    row = conn.execute(select(returns).where(returns.c.rma == rma)).first()
    return _record(row) if row else None


def get_returns(conn: Connection, rmas: Sequence[str]) -> dict[str, ReturnRecord]:
    if not rmas:
        return {}
    rows = conn.execute(select(returns).where(returns.c.rma.in_(list(rmas))))
    return {row.rma: _record(row) for row in rows}


def get_return_by_ref(conn: Connection, channel: str, return_ref: str) -> ReturnRecord | None:
    row = conn.execute(
        select(returns).where(returns.c.channel == channel, returns.c.return_ref == return_ref)
    ).first()
    return _record(row) if row else None


def returned_quantities(conn: Connection, order_id: str) -> dict[str, Decimal]:
    """What the order's returns (but rejected ones) ask back, by SKU."""
    rows = conn.execute(
        select(returns.c.body).where(
            returns.c.order_id == order_id, returns.c.state.in_(ACTIVE_STATES)
        )
    )
    out: dict[str, Decimal] = {}
    for (body,) in rows:
        for line in json.loads(body).get("lines") or []:
            out[line["sku"]] = out.get(line["sku"], Decimal(0)) + Decimal(line["quantity"])
    return out


def list_returns(
    conn: Connection,
    *,
    state: str | None = None,
    channel: str | None = None,
    order_id: str | None = None,
    before: tuple[float, str] | None = None,
    limit: int = 50,
) -> list[ReturnRecord]:
    """Newest first; a page starts ``before`` the ``(created_at, rma)`` of the previous page's
    last row."""
    c = returns.c
    query = select(returns).order_by(c.created_at.desc(), c.rma.desc()).limit(limit)
    if state is not None:
        query = query.where(c.state == state)
    if channel is not None:
        query = query.where(c.channel == channel)
    if order_id is not None:
        query = query.where(c.order_id == order_id)
    if before is not None:
        at, last = before
        query = query.where(or_(c.created_at < at, and_(c.created_at == at, c.rma < last)))
    return [_record(row) for row in conn.execute(query)]


def steps_of_return(conn: Connection, rma: str) -> list[ReturnStep]:
    rows = conn.execute(
        select(return_steps).where(return_steps.c.rma == rma).order_by(return_steps.c.id)
    )
    return [
        ReturnStep(row.step, row.status, row.at, json.loads(row.detail), row.event_id)
        for row in rows
    ]


def insert_return(conn: Connection, record: ReturnRecord, event_id: str | None) -> None:
    conn.execute(
        insert(returns).values(
            rma=record.rma,
            channel=record.channel,
            return_ref=record.return_ref,
            order_id=record.order_id,
            state=record.state,
            outcome=record.outcome,
            currency=record.currency,
            amount=record.amount,
            body=json.dumps(record.body),
            erp=json.dumps(record.erp),
            created_at=record.created_at,
            updated_at=record.updated_at,
        )
    )
    add_steps(conn, [step_row(record.rma, "requested", "done", record.created_at, {}, event_id)])


def step_row(
    rma: str,
    step: str,
    status: str,
    at: float,
    detail: dict[str, Any] | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    return {
        "rma": rma,
        "step": step,
        "status": status,
        "at": at,
        "detail": json.dumps(detail or {}, default=str),
        "event_id": event_id,
    }


def add_steps(conn: Connection, rows: Iterable[dict[str, Any]]) -> None:
    rows = list(rows)
    if rows:
        conn.execute(insert(return_steps), rows)


def write_state(conn: Connection, rma: str, state: str, erp: dict[str, Any], at: float) -> None:
    conn.execute(
        update(returns)
        .where(returns.c.rma == rma)
        .values(state=state, erp=json.dumps(erp, default=str), updated_at=at)
    )


def received_by_order(conn: Connection, order_ids: Sequence[str]) -> dict[str, dict[str, Decimal]]:
    """What returns of the orders took back into the ERP (return pickings validated), by order
    and SKU: the ERP's delivered quantities are lower by as much."""
    out: dict[str, dict[str, Decimal]] = {}
    ids = list(order_ids)
    for start in range(0, len(ids), 500):
        rows = conn.execute(
            select(returns.c.order_id, returns.c.erp).where(
                returns.c.order_id.in_(ids[start : start + 500])
            )
        )
        for order_id, erp in rows:
            for picking in json.loads(erp).get("pickings") or []:
                for sku, q in (picking.get("received") or {}).items():
                    per = out.setdefault(order_id, {})
                    per[sku] = per.get(sku, Decimal(0)) + Decimal(q)
    return out
