"""The dashboard's own database reads on both backends: orders per state and throughput, lookup by
id or external reference, webhook deliveries of one subject over every endpoint, endpoint backlog,
drift read through the reconciliation flow when it is installed, and the token look-ups behind
sessions (a revoked token ends them)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, insert, update

from crossdock.api.auth import create_token, revoke_token
from crossdock.engine.database import normalize_url
from crossdock.engine.tables import dead_letters
from crossdock.flows.exceptions import open_exception
from crossdock.flows.orders import insert_accepted
from crossdock.flows.tables import orders
from crossdock.ui import reads
from crossdock.ui.sessions import Tokens
from crossdock.webhooks.store import create_endpoint
from crossdock.webhooks.tables import webhook_messages
from tests.ui.conftest import order_body

NOW = time.time()


@pytest.fixture
def db(db_url: str) -> Iterator[Engine]:
    engine = create_engine(normalize_url(db_url))
    yield engine
    engine.dispose()


def _order(
    conn: Connection, order_id: str, ref: str, *, channel: str = "webshop", at: float = NOW
) -> None:
    from crossdock.model import Order

    body = order_body(ref)
    body["channel"] = channel
    insert_accepted(
        conn, order_id=order_id, order=Order.model_validate(body), now=at, event_id=None
    )


def _message(conn: Connection, endpoint_id: str, subject: str, state: str, n: int) -> None:
    conn.execute(
        insert(webhook_messages).values(
            endpoint_id=endpoint_id,
            event_seq=n,
            event_id=f"event-{n}",
            event_type="order.released",
            subject=subject,
            state=state,
            attempts=1,
            next_at=NOW,
            created_at=NOW + n,
            event_recorded_at=NOW,
        )
    )


def test_order_counts_and_lookups(db: Engine) -> None:
    with db.begin() as conn:
        _order(conn, "o-1", "R-1")
        _order(conn, "o-2", "R-2")
        _order(conn, "o-3", "R-1", channel="edi")  # the same reference in another channel
        _order(conn, "o-old", "R-OLD", at=NOW - 2 * 86400)
        for order_id, at in (("o-2", NOW), ("o-old", NOW - 86400)):
            conn.execute(
                update(orders)
                .where(orders.c.id == order_id)
                .values(state="invoiced", updated_at=at)
            )

    with db.connect() as conn:
        counts = reads.order_counts(conn, NOW + 1)
        assert counts.per_state == {"accepted": 2, "invoiced": 1}
        assert counts.accepted_recent == 3 and counts.invoiced_recent == 1

        assert [r.id for r in reads.find_order(conn, "o-2")] == ["o-2"]
        assert sorted(r.id for r in reads.find_order(conn, "R-1")) == ["o-1", "o-3"]
        assert [r.id for r in reads.find_order(conn, "R-1", "edi")] == ["o-3"]
        assert reads.find_order(conn, "o-2", "edi") == []
        assert reads.find_order(conn, "nothing") == []


def test_deliveries_of_a_subject_over_every_endpoint_and_their_backlog(db: Engine) -> None:
    with db.begin() as conn:
        first = create_endpoint(conn, url="https://a.example/hook", event_types=["order.*"])
        second = create_endpoint(conn, url="https://b.example/hook", event_types=["order.*"])
        _message(conn, first.id, "order:o-1", "delivered", 1)
        _message(conn, second.id, "order:o-1", "dead", 2)
        _message(conn, second.id, "order:o-2", "pending", 3)
        _message(conn, first.id, "order:o-2", "pending", 4)

    with db.connect() as conn:
        found = reads.messages_of_subject(conn, "order:o-1")
        assert [(d.url, d.message.state) for d in found] == [
            ("https://a.example/hook", "delivered"),
            ("https://b.example/hook", "dead"),
        ]
        assert reads.messages_of_subject(conn, "order:o-9") == []
        assert reads.endpoint_backlog(conn) == {
            first.id: {"pending": 1},
            second.id: {"dead": 1, "pending": 1},
        }


def test_exceptions_and_dead_letters_come_a_page_at_a_time_with_their_count(db: Engine) -> None:
    with db.begin() as conn:
        for n in range(120):
            kind = "credit_hold" if n % 2 else "unknown_product"
            open_exception(
                conn,
                type=kind,
                owner="sales",
                subject=f"order:{n}",
                reason="r",
                actions=["retry"],
                now=NOW + n,
            )
        for n in range(70):
            conn.execute(
                insert(dead_letters).values(
                    group_name="g" if n < 60 else "h",
                    seq=n,
                    event_id=f"e-{n}",
                    event_type="order.accepted",
                    subject=f"order:{n}",
                    attempts=3,
                    errors="[]",
                    dead_at=NOW,
                )
            )
    with db.connect() as conn:
        first = reads.exception_page(conn, type=None, state="open", number=1)
        assert (len(first.items), first.total, first.pages) == (reads.PAGE, 120, 3)
        assert (first.first, first.last, first.prev, first.next) == (1, 50, None, 2)
        assert [e.subject for e in first.items[:2]] == ["order:0", "order:1"]
        last = reads.exception_page(conn, type=None, state="open", number=3)
        assert (len(last.items), last.first, last.last, last.prev, last.next) == (
            20,
            101,
            120,
            2,
            None,
        )
        assert last.items[-1].subject == "order:119"
        held = reads.exception_page(conn, type="credit_hold", state=None, number=2)
        assert (held.total, len(held.items), held.next) == (60, 10, None)
        beyond = reads.exception_page(conn, type=None, state="open", number=10**30)
        assert beyond.items == [] and beyond.total == 120
        dead = reads.dead_letter_page(conn, group="g", include_replayed=False, number=2)
        assert (dead.total, len(dead.items), dead.prev) == (60, 10, 1)
        assert dead.items[0].event_id == "e-9"  # newest first


def test_drift_reads_through_the_reconciliation_flow_when_it_is_installed(db: Engine) -> None:
    with db.connect() as conn:
        drift = reads.open_drift(conn)
    assert drift.available == (reads.drift_reader() is not None)
    assert drift.rows == [] and drift.error is None


async def test_a_revoked_token_ends_its_dashboard_sessions(db: Engine) -> None:
    with db.begin() as conn:
        token = create_token(conn, "alice", ["ops:read"])

    async def read(fn: Callable[[Connection], Any]) -> Any:
        with db.connect() as conn:
            return fn(conn)

    clock = [0.0]
    tokens = Tokens(read, clock=lambda: clock[0])
    principal = await tokens.verify(token)
    assert principal is not None and principal.name == "alice"
    assert await tokens.verify(token + "x") is None
    assert await tokens.principal(principal.token_id) == principal

    with db.begin() as conn:
        revoke_token(conn, "alice")
    assert await tokens.principal(principal.token_id) == principal  # cached a few seconds
    clock[0] += 6
    assert await tokens.principal(principal.token_id) is None
    assert await tokens.verify(token) is None
