"""Database reads of the dashboard that the JSON API has no function for (every one indexed):
orders per state and throughput, an order by external reference, webhook deliveries of a subject,
endpoint backlog, and the reconciliation drift when that flow is installed.

Everything else comes from the functions the API and the CLI use (`crossdock.flows.orders`,
`crossdock.flows.exceptions`, the engine, `crossdock.webhooks.store`, `crossdock.ops.audit`).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from crossdock.flows.orders import OrderRecord, get_order, list_orders
from crossdock.flows.tables import orders
from crossdock.webhooks.store import Message, message_of
from crossdock.webhooks.tables import webhook_endpoints, webhook_messages

__all__ = [
    "Drift",
    "OrderCounts",
    "endpoint_backlog",
    "find_order",
    "messages_of_subject",
    "open_drift",
    "order_counts",
]

DAY_S = 86400.0
THROUGHPUT_WINDOW_S = 300.0


@dataclass(frozen=True, slots=True)
class OrderCounts:
    per_state: dict[str, int]
    """Orders accepted in the last 24 hours, by their current state."""
    accepted_recent: int
    """Accepted in the last `THROUGHPUT_WINDOW_S` seconds."""
    invoiced_recent: int
    """Reached `invoiced` in the last `THROUGHPUT_WINDOW_S` seconds."""
    window_s: float = THROUGHPUT_WINDOW_S


def order_counts(conn: Connection, now: float) -> OrderCounts:
    rows = conn.execute(
        select(orders.c.state, func.count())
        .where(orders.c.accepted_at >= now - DAY_S)
        .group_by(orders.c.state)
    )
    per_state = {str(state): int(count) for state, count in rows}
    since = now - THROUGHPUT_WINDOW_S
    accepted = conn.execute(
        select(func.count()).select_from(orders).where(orders.c.accepted_at >= since)
    ).scalar_one()
    invoiced = conn.execute(
        select(func.count())
        .select_from(orders)
        .where(orders.c.state == "invoiced", orders.c.updated_at >= since)
    ).scalar_one()
    return OrderCounts(per_state, int(accepted), int(invoiced))


def find_order(conn: Connection, query: str, channel: str | None = None) -> list[OrderRecord]:
    """Orders whose id or external reference is `query` (in `channel`, or in any channel)."""
    by_id = get_order(conn, query)
    if by_id is not None and (channel is None or by_id.channel == channel):
        return [by_id]
    return list_orders(conn, channel=channel, external_ref=query, limit=100)


@dataclass(frozen=True, slots=True)
class Delivery:
    message: Message
    url: str


def messages_of_subject(conn: Connection, subject: str, limit: int = 200) -> list[Delivery]:
    """Webhook messages about one subject, over every endpoint (their `(endpoint, subject)`
    index), oldest first."""
    endpoints = {
        str(row.id): str(row.url)
        for row in conn.execute(select(webhook_endpoints.c.id, webhook_endpoints.c.url))
    }
    if not endpoints:
        return []
    rows = conn.execute(
        select(webhook_messages)
        .where(
            webhook_messages.c.endpoint_id.in_(list(endpoints)),
            webhook_messages.c.subject == subject,
        )
        .order_by(webhook_messages.c.id)
        .limit(limit)
    )
    return [Delivery(message_of(row), endpoints.get(row.endpoint_id, "")) for row in rows]


def endpoint_backlog(conn: Connection) -> dict[str, dict[str, int]]:
    """Messages waiting (`pending`) and given up (`dead`), per endpoint id."""
    rows = conn.execute(
        select(webhook_messages.c.endpoint_id, webhook_messages.c.state, func.count())
        .where(webhook_messages.c.state.in_(("pending", "dead")))
        .group_by(webhook_messages.c.endpoint_id, webhook_messages.c.state)
    )
    out: dict[str, dict[str, int]] = {}
    for endpoint_id, state, count in rows:
        out.setdefault(str(endpoint_id), {})[str(state)] = int(count)
    return out


# -- reconciliation drift (optional flow) ---------------------------------------------------------

DRIFT_MODULE = "crossdock.flows.reconciliation.store"
DRIFT_COLUMNS = (
    "since",
    "kind",
    "type",
    "subject",
    "state",
    "owner",
    "value",
    "currency",
    "summary",
    "seen",
    "last_seen",
)
"""Shown first when the drift items have them (the rest is in `crossdock` commands/API)."""
TIME_COLUMNS = frozenset({"since", "first_seen", "last_seen", "closed_at", "at"})


@dataclass(frozen=True, slots=True)
class Drift:
    available: bool
    columns: list[str]
    rows: list[dict[str, Any]]
    error: str | None = None


def _as_dict(item: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(item) and not isinstance(item, type):
        return dataclasses.asdict(item)
    if isinstance(item, Mapping):
        return dict(item)
    as_dict = getattr(item, "_asdict", None) or getattr(item, "model_dump", None)
    if callable(as_dict):
        return dict(as_dict())
    return {"value": item}


def drift_reader() -> Callable[[Connection], Any] | None:
    """`open_drift(conn)` of the reconciliation flow, or None when this build has none."""
    try:
        module = importlib.import_module(DRIFT_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name and DRIFT_MODULE.startswith(exc.name):
            return None
        raise
    reader = getattr(module, "open_drift", None)
    return reader if callable(reader) else None


def open_drift(conn: Connection) -> Drift:
    """Open drift items as rows of plain values, whatever record type the flow returns."""
    reader = drift_reader()
    if reader is None:
        return Drift(False, [], [])
    rows = [_as_dict(item) for item in reader(conn)]
    present: list[str] = []
    for row in rows:
        present.extend(k for k in row if k not in present)
    columns = [c for c in DRIFT_COLUMNS if c in present] or present
    return Drift(True, columns, rows)
