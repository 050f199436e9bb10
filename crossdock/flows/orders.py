"""The order projection: one row per accepted order with its state, ERP references and steps.

Written by the intake (accepted) and by the order-to-cash handlers (every later state), always
inside engine transactions, so the projection moves together with the events it reflects.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select

from crossdock.engine import fetch_rows, insert_values, update_values
from crossdock.flows.subjects import key_of, subject
from crossdock.flows.tables import order_steps, orders
from crossdock.model import Order

STATES = (
    "accepted",  # durably received; nothing done in the ERP yet
    "credit_hold",  # waiting for finance (an exception is open)
    "confirmed",  # sale order(s) confirmed in the ERP
    "released",  # delivery pickings exist: the warehouse may pick
    "shipped",  # the warehouse confirmed a shipment; delivery validated
    "invoiced",  # invoice posted (final)
    "cancelled",  # final
    "failed",  # final: a person decided it cannot go through
)
FINAL_STATES = frozenset({"invoiced", "cancelled", "failed"})


def order_subject(order_id: str) -> str:
    """The event subject of an order: all its events are delivered in order under this key."""
    return subject("order", order_id)


def order_id_of(subject: str) -> str | None:
    """The order id of an order subject (``order:<id>``), else ``None``."""
    return key_of("order", subject)


@dataclass(frozen=True, slots=True)
class OrderRecord:
    id: str
    channel: str
    external_ref: str
    state: str
    customer_ref: str
    currency: str
    total: str
    body: dict[str, Any]
    erp: dict[str, Any]
    accepted_at: float
    updated_at: float

    def order(self) -> Order:
        return Order.model_validate(self.body)


@dataclass(frozen=True, slots=True)
class Step:
    step: str
    status: str
    at: float
    detail: dict[str, Any]
    event_id: str | None


def order_refs(order: OrderRecord) -> dict[str, str]:
    """What every event about an order says of it: the hub's id and the channel's own number."""
    return {"order_id": order.id, "channel": order.channel, "external_ref": order.external_ref}


_RECORD_COLUMNS = tuple(f.name for f in dataclasses.fields(OrderRecord))
# Built once: `fetch_rows` wraps each statement it is given once.
_ORDERS_BY_ID = select(*(orders.c[name] for name in _RECORD_COLUMNS)).where(
    orders.c.id.in_(bindparam("ids", expanding=True))
)


def _record(row: Any) -> OrderRecord:
    return OrderRecord(
        id=row.id,
        channel=row.channel,
        external_ref=row.external_ref,
        state=row.state,
        customer_ref=row.customer_ref,
        currency=row.currency,
        total=row.total,
        body=json.loads(row.body),
        erp=json.loads(row.erp),
        accepted_at=row.accepted_at,
        updated_at=row.updated_at,
    )


def order_total(order: Order) -> str:
    return str(sum((line.quantity * line.unit_price for line in order.lines), start=0))


def insert_accepted(
    conn: Connection, *, order_id: str, order: Order, now: float, event_id: str | None
) -> None:
    insert_accepted_rows(
        conn, [accepted_row(order_id, order, order.model_dump_json(), now)], [event_id]
    )


_ACCEPTED_HEAD = (
    "INSERT INTO orders (id, channel, external_ref, customer_ref, currency, total, body, "
    "accepted_at, updated_at, state, erp)"
)
_ACCEPTED_ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?, 'accepted', '{}')"
_STEP_HEAD = "INSERT INTO order_steps (order_id, at, event_id, step, status, detail)"
_ACCEPTED_STEP = "(?, ?, ?, 'accepted', 'done', '{}')"


def accepted_row(order_id: str, order: Order, body: str, now: float) -> tuple[Any, ...]:
    """The projection row of an accepted order (`body`: the order's JSON), for
    :func:`insert_accepted_rows`; made before the transaction by the intake."""
    total = order_total(order)
    return (
        order_id,
        order.channel,
        order.external_ref,
        order.customer.external_ref,
        order.currency,
        total,
        body,
        now,
        now,
    )


def insert_accepted_rows(
    conn: Connection, rows: list[tuple[Any, ...]], event_ids: list[str | None]
) -> None:
    """Projection rows (:func:`accepted_row`) and their `accepted` steps, with the id of each
    order's `order.accepted` event, in bulk."""
    insert_values(conn, _ACCEPTED_HEAD, rows, template=_ACCEPTED_ROW)
    steps = [(row[0], row[7], event_id) for row, event_id in zip(rows, event_ids, strict=True)]
    insert_values(conn, _STEP_HEAD, steps, template=_ACCEPTED_STEP)


def step_row(
    order_id: str,
    step: str,
    status: str,
    now: float,
    detail: dict[str, Any] | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """An `order_steps` row, for :func:`write_changes`."""
    return {
        "order_id": order_id,
        "step": step,
        "status": status,
        "at": now,
        "detail": json.dumps(detail or {}, default=str),
        "event_id": event_id,
    }


@dataclass(frozen=True, slots=True)
class StateChange:
    """An order's new state and its whole set of ERP references."""

    order_id: str
    state: str
    at: float
    erp: dict[str, Any]


def write_changes(
    conn: Connection, changes: list[StateChange], steps: list[dict[str, Any]]
) -> None:
    """Set the orders' states and ERP references, then add the steps, in two statements
    (a handler's batch writes hundreds of orders at once)."""
    for change in changes:
        if change.state not in STATES:
            raise ValueError(f"unknown order state {change.state!r}")
    if changes:
        update_values(
            conn,
            "orders",
            ["state", "updated_at", "erp"],
            ["id"],
            [(c.state, c.at, json.dumps(c.erp, default=str), c.order_id) for c in changes],
        )
    if steps:
        conn.execute(insert(order_steps), steps)


def get_order(conn: Connection, order_id: str) -> OrderRecord | None:
    row = conn.execute(select(orders).where(orders.c.id == order_id)).first()
    return _record(row) if row else None


def get_orders(conn: Connection, order_ids: list[str]) -> dict[str, OrderRecord]:
    """Orders by id, for the ids that exist (read in one step: a flow's batch loads hundreds)."""
    rows = fetch_rows(conn, _ORDERS_BY_ID, {"ids": order_ids}, json_columns=("body", "erp"))
    return {row[0]: OrderRecord(*row) for row in rows}


_REFS_BY_ID = select(orders.c.id, orders.c.channel, orders.c.external_ref).where(
    orders.c.id.in_(bindparam("ids", expanding=True))
)


def refs_of_subjects(conn: Connection, subjects: Iterable[str]) -> dict[str, tuple[str, str]]:
    """The (channel, external_ref) of each order among `subjects`, by subject: what a person
    knows an order by, for lists that hold subjects (exceptions, dead letters)."""
    ids = sorted({i for i in map(order_id_of, subjects) if i})
    found: dict[str, tuple[str, str]] = {}
    for start in range(0, len(ids), 400):
        rows = conn.execute(_REFS_BY_ID, {"ids": ids[start : start + 400]})
        found.update({order_subject(id_): (channel, ref) for id_, channel, ref in rows})
    return found


def with_order_refs(conn: Connection, subject: str, data: Mapping[str, Any]) -> Mapping[str, Any]:
    """`data` of an event on `subject` with the order's channel and external_ref added, when the
    subject is an order's and `data` lacks them (an event sent in from outside the hub)."""
    if order_id_of(subject) is None or ("channel" in data and "external_ref" in data):
        return data
    refs = refs_of_subjects(conn, [subject]).get(subject)
    return data if refs is None else {**data, "channel": refs[0], "external_ref": refs[1]}


_BY_REFS = select(orders.c.id, orders.c.external_ref).where(
    orders.c.channel == bindparam("channel"),
    orders.c.external_ref.in_(bindparam("refs", expanding=True)),
)


def find_orders(conn: Connection, refs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Order ids by (channel, external_ref), for the refs that exist."""
    by_channel: dict[str, list[str]] = {}
    for channel, ref in refs:
        by_channel.setdefault(channel, []).append(ref)
    found: dict[tuple[str, str], str] = {}
    for channel, wanted in by_channel.items():
        for start in range(0, len(wanted), 400):
            params = {"channel": channel, "refs": wanted[start : start + 400]}
            found.update({(channel, ref): id_ for id_, ref in conn.execute(_BY_REFS, params)})
    return found


def get_order_by_ref(conn: Connection, channel: str, external_ref: str) -> OrderRecord | None:
    """The order a channel sent with its own number `external_ref` (one at most per channel)."""
    row = conn.execute(
        select(orders).where(orders.c.channel == channel, orders.c.external_ref == external_ref)
    ).first()
    return _record(row) if row else None


def steps_of(conn: Connection, order_id: str) -> list[Step]:
    rows = conn.execute(
        select(order_steps).where(order_steps.c.order_id == order_id).order_by(order_steps.c.id)
    )
    return [
        Step(row.step, row.status, row.at, json.loads(row.detail), row.event_id) for row in rows
    ]


def channels_of(conn: Connection) -> list[str]:
    """Every channel that sent an order (the distinct leading column of an index)."""
    return [str(c) for c in conn.execute(select(orders.c.channel).distinct()).scalars()]


def list_orders(
    conn: Connection,
    *,
    state: str | None = None,
    channel: str | None = None,
    external_ref: str | None = None,
    since: float | None = None,
    before: tuple[float, str] | None = None,
    limit: int = 50,
) -> list[OrderRecord]:
    """Newest first; `before` is the (accepted_at, id) of the last order of the previous page."""
    query = select(orders).order_by(orders.c.accepted_at.desc(), orders.c.id.desc()).limit(limit)
    if state is not None:
        query = query.where(orders.c.state == state)
    if channel is not None:
        query = query.where(orders.c.channel == channel)
    if external_ref is not None:
        # First through the (channel, external_ref) index, naming the channels (its distinct
        # leading values), then the other filters on those few orders by primary key: given
        # both, SQLite's planner would rather scan every order of the state.
        channels = [channel] if channel is not None else channels_of(conn)
        ids = list(find_orders(conn, [(c, external_ref) for c in channels]).values())
        if not ids:
            return []
        query = query.where(orders.c.id.in_(ids))
    if since is not None:
        query = query.where(orders.c.accepted_at >= since)
    if before is not None:
        at, last_id = before
        query = query.where(
            (orders.c.accepted_at < at) | ((orders.c.accepted_at == at) & (orders.c.id < last_id))
        )
    return [_record(row) for row in conn.execute(query)]
