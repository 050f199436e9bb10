"""One order's working state inside a handler call, and the recorder that turns decisions into
projection writes and events committed with the batch's acknowledgement.

The state is read once per batch (orders, their open exceptions, credit approvals), then kept in
memory while the batch's events are applied in order, so several events of one order in a batch
see each other's effects before anything is committed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from sqlalchemy import Connection, select

from crossdock.engine import Batch, Event, NewEvent, new_event_id
from crossdock.flows.exceptions import bounded, open_exception, withdraw_exceptions
from crossdock.flows.order_to_cash import events as ev
from crossdock.flows.order_to_cash.exception_kinds import ExceptionKind
from crossdock.flows.orders import (
    FINAL_STATES,
    OrderRecord,
    StateChange,
    get_orders,
    order_subject,
    step_row,
    write_changes,
)
from crossdock.flows.tables import exceptions
from crossdock.model import Order


@dataclass
class Work:
    """An order being worked on: its projection row plus what this batch changed so far."""

    record: OrderRecord
    state: str
    erp: dict[str, Any]
    open_types: set[str]
    credit_approved: bool
    event: Event | None = None
    """The event being applied (names the steps and keys the emitted events)."""
    allow_backorder: bool = False
    by: str | None = None
    note: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def order_id(self) -> str:
        return self.record.id

    @property
    def trigger(self) -> str:
        return self.event.id if self.event is not None else "none"

    @cached_property
    def order(self) -> Order:
        return self.record.order()

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def sale_orders(self) -> list[dict[str, Any]]:
        return list(self.erp.get("sale_orders") or [])


@dataclass(frozen=True)
class Snapshot:
    orders: dict[str, OrderRecord]
    open_types: dict[str, set[str]]
    approved: set[str]


def load_snapshot(conn: Connection, order_ids: Sequence[str], subjects: Sequence[str]) -> Snapshot:
    """Orders, their open exception types and their credit approvals, in one read."""
    orders = get_orders(conn, list(order_ids)) if order_ids else {}
    open_types: dict[str, set[str]] = {}
    approved: set[str] = set()
    if subjects:
        rows = conn.execute(
            select(
                exceptions.c.subject, exceptions.c.type, exceptions.c.state, exceptions.c.resolution
            ).where(exceptions.c.subject.in_(list(subjects)))
        )
        for row in rows:
            if row.state == "open":
                open_types.setdefault(row.subject, set()).add(row.type)
            elif row.type == "credit_hold" and row.resolution == "approve":
                approved.add(row.subject)
    return Snapshot(orders, open_types, approved)


def money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


class Recorder:
    """Queues projection writes and events (``batch.emit``) for one batch.

    State changes and steps are collected and written set-based when the batch commits: the
    last state of each order with its whole ERP references (``Work.erp`` started from the stored
    ones, so it holds them all), and every step in the order it was recorded. Each step carries
    the time it was recorded, not the batch's start: a batch's ERP calls can take seconds, and an
    order's timeline must say when it was confirmed."""

    def __init__(self, batch: Batch, clock: Callable[[], float] = time.time) -> None:
        self.batch = batch
        self.clock = clock
        self._moved: dict[str, tuple[Work, float]] = {}
        self._steps: list[dict[str, Any]] = []
        batch.write(self._write)

    def _write(self, conn: Connection) -> None:
        changes = [StateChange(w.order_id, w.state, at, w.erp) for w, at in self._moved.values()]
        write_changes(conn, changes, self._steps)

    def move(
        self,
        work: Work,
        state: str,
        *,
        step: str | None = None,
        erp: dict[str, Any] | None = None,
        detail: dict[str, Any] | None = None,
        events: Iterable[NewEvent] = (),
        status: str = "done",
    ) -> None:
        """Set the order's state (a step is recorded), merge ERP references, emit events."""
        work.state = state
        if erp:
            work.erp.update(erp)
        at = self.clock()
        self._moved[work.order_id] = (work, at)
        self._steps.append(step_row(work.order_id, step or state, status, at, detail, work.trigger))
        self.batch.emit(*events)

    def step(
        self, work: Work, step: str, status: str, detail: dict[str, Any] | None = None
    ) -> None:
        """Record a step without changing the state."""
        self._steps.append(
            step_row(work.order_id, step, status, self.clock(), detail, work.trigger)
        )

    def park(
        self,
        work: Work,
        kind: ExceptionKind,
        reason: str,
        *,
        step: str,
        erp: dict[str, Any] | None = None,
        detail: dict[str, Any] | None = None,
        state: str | None = None,
    ) -> None:
        """Open an exception for a person (unless one of this type is open) and record the step
        as waiting; emits ``order.exception``."""
        reason = bounded(reason)
        self.move(
            work,
            state or work.state,
            step=step,
            erp=erp,
            detail={"exception": kind.type, "reason": reason, **(detail or {})},
            status="waiting",
        )
        if kind.type in work.open_types:
            return
        work.open_types.add(kind.type)
        exception_id = new_event_id()
        subject, now = order_subject(work.order_id), self.clock()

        def write(conn: Connection) -> None:
            open_exception(
                conn,
                type=kind.type,
                owner=kind.owner,
                subject=subject,
                reason=reason,
                actions=list(kind.actions),
                now=now,
                exception_id=exception_id,
            )

        self.batch.write(write)
        self.batch.emit(
            ev.order_event(
                ev.EXCEPTION,
                work.record,
                {
                    "exception_id": exception_id,
                    "type": kind.type,
                    "owner": kind.owner,
                    "reason": reason,
                    "actions": list(kind.actions),
                },
                kind.type,
                work.trigger,
            )
        )

    def withdraw(self, work: Work, note: str) -> None:
        """Close the order's open exceptions (it ended another way)."""
        work.open_types.clear()
        subject, now = order_subject(work.order_id), self.clock()

        def write(conn: Connection) -> None:
            withdraw_exceptions(conn, subject, note=note, now=now)

        self.batch.write(write)
