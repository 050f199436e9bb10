"""Database reads of the dashboard that the JSON API has no function for (every one indexed):
orders per state and throughput, an order by external reference, webhook deliveries of a subject,
endpoint backlog, and the reconciliation drift when that flow is installed.

Everything else comes from the functions the API and the CLI use (`crossdock.flows.orders`,
`crossdock.flows.exceptions`, the engine, `crossdock.webhooks.store`, `crossdock.ops.audit`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, func, select

from crossdock.engine import DeadLetter, list_dead
from crossdock.engine import dead_letters_table as dead_letters
from crossdock.flows import exceptions as exq
from crossdock.flows.orders import OrderRecord, get_order, list_orders
from crossdock.flows.reconciliation.store import open_drift as open_drift_items
from crossdock.flows.tables import orders
from crossdock.webhooks.store import Message, message_of
from crossdock.webhooks.tables import webhook_endpoints, webhook_messages

__all__ = [
    "Drift",
    "OrderCounts",
    "Page",
    "dead_letter_page",
    "endpoint_backlog",
    "exception_page",
    "find_order",
    "messages_of_subject",
    "open_drift",
    "order_counts",
]

T = TypeVar("T")

DAY_S = 86400.0
THROUGHPUT_WINDOW_S = 300.0
PAGE = 50
"""Rows of one page of a dashboard list; the page says how many there are in all."""


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list that can grow without bound: its rows, its number (from 1), the count
    of all rows, and the links' page numbers."""

    items: list[T]
    number: int
    total: int
    size: int = PAGE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        """The position of the page's first row (from 1; 0 when empty)."""
        return (self.number - 1) * self.size + 1 if self.items else 0

    @property
    def last(self) -> int:
        return (self.number - 1) * self.size + len(self.items)

    @property
    def prev(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None


MAX_PAGE = 1_000_000


def page_number(value: int | None) -> int:
    """A page asked for in a query string, as a page number from 1 to ``MAX_PAGE``."""
    return min(max(1, value or 1), MAX_PAGE)


def exception_page(
    conn: Connection, *, type: str | None, state: str | None, number: int, size: int = PAGE
) -> Page[exq.ExceptionRecord]:
    """Exceptions, oldest first, one page of them with the count of all."""
    total = exq.count_exceptions(conn, type=type, state=state)
    offset = (page_number(number) - 1) * size
    items = exq.list_exceptions(conn, type=type, state=state, limit=size, offset=offset)
    return Page(items, page_number(number), total, size)


def dead_letter_page(
    conn: Connection, *, group: str | None, include_replayed: bool, number: int, size: int = PAGE
) -> Page[DeadLetter]:
    """Dead letters, newest first, one page of them with the count of all."""
    query = select(func.count()).select_from(dead_letters)
    if group is not None:
        query = query.where(dead_letters.c.group_name == group)
    if not include_replayed:
        query = query.where(dead_letters.c.replayed_at.is_(None))
    total = int(conn.execute(query).scalar_one())
    offset = (page_number(number) - 1) * size
    items = list_dead(
        conn, group=group, include_replayed=include_replayed, limit=size, offset=offset
    )
    return Page(items, page_number(number), total, size)


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
    """`open_drift(conn)` of the reconciliation flow (imported, so the dependency is visible)."""
    return open_drift_items


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
