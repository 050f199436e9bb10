"""Subscriptions (endpoints) and their messages as SQL on an open connection: create, read,
update, pause, resume, rotate, delete; list messages and attempts; replay."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from crossdock.engine import new_event_id
from crossdock.webhooks.signing import new_secret
from crossdock.webhooks.tables import webhook_attempts, webhook_endpoints, webhook_messages

STATES = ("active", "paused", "disabled")


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: str
    url: str
    description: str
    event_types: list[str]
    state: str
    disabled_reason: str | None
    secret: str
    previous_secret: str | None
    previous_until: float | None
    strict_order: bool
    max_in_flight: int | None
    failing_since: float | None
    created_at: float
    updated_at: float

    def secrets(self, now: float) -> list[str]:
        """Secrets to sign with now: the current one, and the previous during the overlap."""
        if self.previous_secret and self.previous_until is not None and now < self.previous_until:
            return [self.secret, self.previous_secret]
        return [self.secret]


def endpoint_of(row: Any) -> Endpoint:
    return Endpoint(
        id=row.id,
        url=row.url,
        description=row.description,
        event_types=json.loads(row.event_types),
        state=row.state,
        disabled_reason=row.disabled_reason,
        secret=row.secret,
        previous_secret=row.previous_secret,
        previous_until=row.previous_until,
        strict_order=bool(row.strict_order),
        max_in_flight=row.max_in_flight,
        failing_since=row.failing_since,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def create_endpoint(
    conn: Connection,
    *,
    url: str,
    event_types: Sequence[str],
    description: str = "",
    strict_order: bool = False,
    max_in_flight: int | None = None,
    secret: str | None = None,
    now: float | None = None,
) -> Endpoint:
    moment = time.time() if now is None else now
    endpoint_id = new_event_id()
    conn.execute(
        insert(webhook_endpoints).values(
            id=endpoint_id,
            url=url,
            description=description,
            event_types=json.dumps(list(event_types)),
            state="active",
            secret=secret or new_secret(),
            strict_order=strict_order,
            max_in_flight=max_in_flight,
            created_at=moment,
            updated_at=moment,
        )
    )
    found = get_endpoint(conn, endpoint_id)
    assert found is not None
    return found


def get_endpoint(conn: Connection, endpoint_id: str) -> Endpoint | None:
    row = conn.execute(
        select(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)
    ).first()
    return endpoint_of(row) if row else None


def list_endpoints(conn: Connection, state: str | None = None) -> list[Endpoint]:
    query = select(webhook_endpoints).order_by(webhook_endpoints.c.created_at)
    if state is not None:
        query = query.where(webhook_endpoints.c.state == state)
    return [endpoint_of(row) for row in conn.execute(query)]


def update_endpoint(conn: Connection, endpoint_id: str, **values: Any) -> Endpoint | None:
    """Change fields (`url`, `event_types`, `description`, `strict_order`, `max_in_flight`,
    `state`); resuming clears the failure record."""
    if "event_types" in values:
        values["event_types"] = json.dumps(list(values["event_types"]))
    if values.get("state") == "active":
        values.update(disabled_reason=None, failing_since=None)
    values["updated_at"] = time.time()
    done = conn.execute(
        update(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id).values(**values)
    )
    return get_endpoint(conn, endpoint_id) if done.rowcount == 1 else None


def rotate_secret(
    conn: Connection, endpoint_id: str, overlap_s: float, now: float | None = None
) -> Endpoint | None:
    """A new secret; the old one still signs (alongside) for `overlap_s` seconds."""
    current = get_endpoint(conn, endpoint_id)
    if current is None:
        return None
    moment = time.time() if now is None else now
    conn.execute(
        update(webhook_endpoints)
        .where(webhook_endpoints.c.id == endpoint_id)
        .values(
            secret=new_secret(),
            previous_secret=current.secret,
            previous_until=moment + overlap_s,
            updated_at=moment,
        )
    )
    return get_endpoint(conn, endpoint_id)


def delete_endpoint(conn: Connection, endpoint_id: str) -> bool:
    done = conn.execute(delete(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id))
    if done.rowcount != 1:
        return False
    conn.execute(delete(webhook_messages).where(webhook_messages.c.endpoint_id == endpoint_id))
    conn.execute(delete(webhook_attempts).where(webhook_attempts.c.endpoint_id == endpoint_id))
    return True


# -- messages and attempts -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    endpoint_id: str
    event_id: str
    event_type: str
    subject: str
    state: str
    attempts: int
    next_at: float
    last_status: int | None
    last_error: str | None
    created_at: float
    finished_at: float | None


def message_of(row: Any) -> Message:
    return Message(
        id=row.id,
        endpoint_id=row.endpoint_id,
        event_id=row.event_id,
        event_type=row.event_type,
        subject=row.subject,
        state=row.state,
        attempts=row.attempts,
        next_at=row.next_at,
        last_status=row.last_status,
        last_error=row.last_error,
        created_at=row.created_at,
        finished_at=row.finished_at,
    )


def list_messages(
    conn: Connection,
    endpoint_id: str,
    *,
    state: str | None = None,
    limit: int = 100,
    event_id: str | None = None,
) -> list[Message]:
    query = (
        select(webhook_messages)
        .where(webhook_messages.c.endpoint_id == endpoint_id)
        .order_by(webhook_messages.c.id.desc())
        .limit(limit)
    )
    if state is not None:
        query = query.where(webhook_messages.c.state == state)
    if event_id is not None:
        query = query.where(webhook_messages.c.event_id == event_id)
    return [message_of(row) for row in conn.execute(query)]


@dataclass(frozen=True, slots=True)
class Attempt:
    id: int
    message_id: int
    event_id: str
    attempt: int
    at: float
    status: int | None
    outcome: str
    latency_ms: float
    response: str
    error: str | None


def list_attempts(
    conn: Connection, endpoint_id: str, *, limit: int = 100, message_id: int | None = None
) -> list[Attempt]:
    query = (
        select(webhook_attempts)
        .where(webhook_attempts.c.endpoint_id == endpoint_id)
        .order_by(webhook_attempts.c.id.desc())
        .limit(limit)
    )
    if message_id is not None:
        query = query.where(webhook_attempts.c.message_id == message_id)
    return [
        Attempt(
            id=r.id,
            message_id=r.message_id,
            event_id=r.event_id,
            attempt=r.attempt,
            at=r.at,
            status=r.status,
            outcome=r.outcome,
            latency_ms=r.latency_ms,
            response=r.response,
            error=r.error,
        )
        for r in conn.execute(query)
    ]


def replay_message(conn: Connection, endpoint_id: str, message_id: int, now: float) -> bool:
    """Send one message again at once with a fresh schedule (delivered or dead; not while one
    of its attempts is in flight)."""
    done = conn.execute(
        update(webhook_messages)
        .where(
            webhook_messages.c.id == message_id,
            webhook_messages.c.endpoint_id == endpoint_id,
            webhook_messages.c.state != "pending",
        )
        .values(state="pending", attempts=0, next_at=now, finished_at=None, lease_until=None)
    )
    return done.rowcount == 1


def replay_failed(conn: Connection, endpoint_id: str, since: float, now: float) -> int:
    """Send again every dead message of an endpoint created since `since`."""
    done = conn.execute(
        update(webhook_messages)
        .where(
            webhook_messages.c.endpoint_id == endpoint_id,
            webhook_messages.c.state == "dead",
            webhook_messages.c.created_at >= since,
        )
        .values(state="pending", attempts=0, next_at=now, finished_at=None, lease_until=None)
    )
    return int(done.rowcount)
