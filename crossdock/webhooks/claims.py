"""Claiming due messages and recording attempts, as SQL on an open connection.

A claim leases messages to one worker (`lease_token`, `lease_until`): nobody else sends them until
the lease expires, so a message is never sent twice within a lease. Recording an attempt is fenced
by the token: a worker whose lease expired (paused, or presumed dead) changes nothing, and the
message is sent again by whoever claims it next (at-least-once; receivers dedupe by `webhook-id`).

Per-endpoint concurrency: messages leased and unexpired count as in flight (on every node); a claim
takes at most `max_in_flight` minus that per endpoint. Strict ordering per subject: only the
oldest pending message of an (endpoint, subject) can be claimed, so the next one waits until it is
delivered or dead-lettered.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, or_, select, update

from crossdock.engine import Event, NewEvent, insert_events, new_event_id, read_positions
from crossdock.retry import Backoff
from crossdock.webhooks.store import Endpoint, endpoint_of
from crossdock.webhooks.tables import webhook_attempts, webhook_endpoints, webhook_messages

OPERATIONAL_SOURCE = "crossdock.webhooks"
FAILING = "webhook.endpoint.failing"
DISABLED = "webhook.endpoint.disabled"
TEST = "webhook.test"


@dataclass(frozen=True, slots=True)
class Claimed:
    """A message leased for one attempt, with everything needed to send it."""

    message_id: int
    endpoint_id: str
    url: str
    secrets: list[str]
    attempt: int
    msg_id: str
    body: bytes
    traceparent: str | None
    token: str
    event_recorded_at: float


@dataclass(frozen=True, slots=True)
class Result:
    """What one attempt got: an HTTP status, or an error (timeout, refused, bad destination)."""

    status: int | None
    latency_ms: float
    response: str = ""
    error: str | None = None
    retry_after_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _body(event_envelope: dict[str, object]) -> bytes:
    return json.dumps(event_envelope, separators=(",", ":"), ensure_ascii=False).encode()


def message_for_test(endpoint: Endpoint, now: float) -> Claimed:
    """A `webhook.test` event for `endpoint` alone, ready to send as any claimed message (not
    queued: no message row, no lease)."""
    event = Event(
        new_event_id(),
        TEST,
        OPERATIONAL_SOURCE,
        f"webhook_endpoint:{endpoint.id}",
        datetime.fromtimestamp(now, UTC),
        {
            "endpoint_id": endpoint.id,
            "url": endpoint.url,
            "message": "A test event sent on request: no action is needed.",
        },
    )
    return Claimed(
        message_id=0,
        endpoint_id=endpoint.id,
        url=endpoint.url,
        secrets=endpoint.secrets(now),
        attempt=1,
        msg_id=event.id,
        body=_body(event.to_cloudevent()),
        traceparent=None,
        token="",
        event_recorded_at=now,
    )


def claim_due(
    conn: Connection,
    *,
    owner: str,
    now: float,
    limit: int,
    lease_s: float,
    default_cap: int,
) -> list[Claimed]:
    """Lease up to `limit` due messages (oldest due first), within each endpoint's cap."""
    m = webhook_messages.c
    free = or_(m.lease_until.is_(None), m.lease_until < now)
    chosen = [row.id for row in _candidates(conn, now, limit, default_cap, free)]
    if not chosen:
        return []
    token = str(uuid.uuid4())
    conn.execute(
        update(webhook_messages)
        .where(m.id.in_(chosen), m.state == "pending", free)
        .values(lease_owner=owner, lease_token=token, lease_until=now + lease_s)
    )
    return _leased(conn, chosen, token, now)


def _candidates(conn: Connection, now: float, limit: int, default_cap: int, free: Any) -> list[Any]:
    """Due messages each endpoint may take now, oldest due first across endpoints.

    Each endpoint is asked on its own for at most the room its cap leaves (and, with strict
    ordering, only for the head of each subject), so an endpoint whose messages cannot be sent
    now (at its cap, or its subjects waiting behind a head) never hides the others' messages.
    """
    m, e = webhook_messages.c, webhook_endpoints.c
    endpoints = conn.execute(
        select(e.id, e.strict_order, e.max_in_flight).where(e.state == "active")
    ).all()
    if not endpoints:
        return []
    in_flight: dict[str, int] = {
        str(endpoint_id): int(count)
        for endpoint_id, count in conn.execute(
            select(m.endpoint_id, func.count())
            .where(m.state == "pending", m.lease_until >= now)
            .group_by(m.endpoint_id)
        )
    }
    older = webhook_messages.alias("older")
    found: list[Any] = []
    for endpoint in endpoints:
        room = min(limit, (endpoint.max_in_flight or default_cap) - in_flight.get(endpoint.id, 0))
        if room <= 0:
            continue
        query = (
            select(m.id, m.next_at)
            .where(m.endpoint_id == endpoint.id, m.state == "pending", m.next_at <= now, free)
            .order_by(m.next_at, m.id)
            .limit(room)
        )
        if endpoint.strict_order:
            ahead = (
                select(older.c.id)
                .where(
                    older.c.endpoint_id == m.endpoint_id,
                    older.c.subject == m.subject,
                    older.c.id < m.id,
                    older.c.state == "pending",
                )
                .exists()
            )
            query = query.where(~ahead)
        found.extend(conn.execute(query).all())
    found.sort(key=lambda row: (row.next_at, row.id))
    return found[:limit]


def _leased(conn: Connection, chosen: list[int], token: str, now: float) -> list[Claimed]:
    """The messages this claim's token holds, with what sending them needs."""
    m, e = webhook_messages.c, webhook_endpoints.c
    leased = conn.execute(
        select(webhook_messages).where(m.id.in_(chosen), m.lease_token == token).order_by(m.id)
    ).all()
    if not leased:
        return []
    endpoints = {
        row.id: endpoint_of(row)
        for row in conn.execute(
            select(webhook_endpoints).where(e.id.in_(sorted({row.endpoint_id for row in leased})))
        )
    }
    found = read_positions(conn, [row.event_seq for row in leased])
    out: list[Claimed] = []
    for row in leased:
        event = found.get(row.event_seq)
        endpoint = endpoints[row.endpoint_id]
        if event is None:  # cannot happen: the log is append-only
            continue
        out.append(
            Claimed(
                message_id=row.id,
                endpoint_id=row.endpoint_id,
                url=endpoint.url,
                secrets=endpoint.secrets(now),
                attempt=row.attempts + 1,
                msg_id=event.id,
                body=_body(event.to_cloudevent()),
                traceparent=event.traceparent,
                token=token,
                event_recorded_at=row.event_recorded_at,
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class Recorded:
    """What recording an attempt decided."""

    outcome: str  # delivered | retry | dead | gone | lost (the lease was gone)
    next_at: float | None = None
    disabled: bool = False


def record_attempt(
    conn: Connection,
    claimed: Claimed,
    result: Result,
    *,
    schedule: Backoff,
    failing_days: float,
    partitions: int,
    now: float,
) -> Recorded:
    """Record one attempt and decide what follows, fenced by the claim's lease token."""
    m, e = webhook_messages.c, webhook_endpoints.c
    fence = and_(m.id == claimed.message_id, m.lease_token == claimed.token, m.state == "pending")
    release = {"lease_owner": None, "lease_token": None, "lease_until": None}
    common = {
        **release,
        "attempts": claimed.attempt,
        "last_status": result.status,
        "last_error": result.error,
    }
    disabled = False
    emitted: list[NewEvent] = []
    if result.ok:
        outcome, next_at = "delivered", None
        values = {**common, "state": "delivered", "finished_at": now}
    elif result.status == 410:
        outcome, next_at = "gone", now
        values = {**common, "next_at": now}
    elif claimed.attempt >= len(schedule.steps):
        outcome, next_at = "dead", None
        values = {**common, "state": "dead", "finished_at": now}
    else:
        outcome = "retry"
        delay = schedule.delay(claimed.attempt)
        if result.status in (429, 503) and result.retry_after_s is not None:
            delay = max(delay, result.retry_after_s)
        next_at = now + delay
        values = {**common, "next_at": next_at}
    done = conn.execute(update(webhook_messages).where(fence).values(**values))
    if done.rowcount != 1:
        return Recorded("lost")
    conn.execute(
        webhook_attempts.insert().values(
            message_id=claimed.message_id,
            endpoint_id=claimed.endpoint_id,
            event_id=claimed.msg_id,
            attempt=claimed.attempt,
            at=now,
            status=result.status,
            outcome=outcome,
            latency_ms=round(result.latency_ms, 3),
            response=result.response,
            error=result.error,
        )
    )
    row = conn.execute(select(webhook_endpoints).where(e.id == claimed.endpoint_id)).first()
    if row is None:
        return Recorded(outcome, next_at)
    endpoint = endpoint_of(row)
    subject = f"webhook_endpoint:{endpoint.id}"
    base = {"endpoint_id": endpoint.id, "url": endpoint.url}
    if result.ok:
        if endpoint.failing_since is not None:
            conn.execute(
                update(webhook_endpoints).where(e.id == endpoint.id).values(failing_since=None)
            )
        return Recorded(outcome, next_at)
    failing_since = endpoint.failing_since if endpoint.failing_since is not None else now
    reason: str | None = None
    if result.status == 410:
        reason = "the endpoint answered 410 Gone"
    elif now - failing_since >= failing_days * 86400:
        reason = f"failing without a success for {failing_days:g} days"
    changes: dict[str, object] = {"failing_since": failing_since}
    if reason is not None and endpoint.state != "disabled":
        changes.update(state="disabled", disabled_reason=reason, updated_at=now)
        disabled = True
        emitted.append(NewEvent(DISABLED, OPERATIONAL_SOURCE, subject, {**base, "reason": reason}))
    conn.execute(update(webhook_endpoints).where(e.id == endpoint.id).values(**changes))
    if outcome == "dead":
        emitted.append(
            NewEvent(
                FAILING,
                OPERATIONAL_SOURCE,
                subject,
                {
                    **base,
                    "message_id": claimed.message_id,
                    "event_id": claimed.msg_id,
                    "attempts": claimed.attempt,
                    "last_status": result.status,
                    "last_error": result.error,
                    "failing_since": failing_since,
                },
            )
        )
    if emitted:
        insert_events(conn, emitted, partitions)
    return Recorded(outcome, next_at, disabled)


def record_delivered(
    conn: Connection, items: Sequence[tuple[Claimed, Result]], now: float
) -> list[bool]:
    """Record many successful attempts at once (the hot path); per item, whether its lease was
    still held (False: another worker owns the message now, nothing was recorded for it)."""
    if not items:
        return []
    m, e = webhook_messages.c, webhook_endpoints.c
    fenced = (
        update(webhook_messages)
        .where(
            m.id == bindparam("b_id"),
            m.lease_token == bindparam("b_token"),
            m.state == "pending",
        )
        .values(
            state="delivered",
            attempts=bindparam("b_attempt"),
            last_status=bindparam("b_status"),
            last_error=None,
            finished_at=now,
            lease_owner=None,
            lease_token=None,
            lease_until=None,
        )
    )
    held = {
        (row.id, row.lease_token)
        for row in conn.execute(
            select(m.id, m.lease_token).where(
                m.id.in_([c.message_id for c, _ in items]), m.state == "pending"
            )
        )
    }
    kept = [(c.message_id, c.token) in held for c, _ in items]
    params = [
        {
            "b_id": c.message_id,
            "b_token": c.token,
            "b_attempt": c.attempt,
            "b_status": r.status,
        }
        for (c, r), ok in zip(items, kept, strict=True)
        if ok
    ]
    if params:
        conn.execute(fenced, params)
    rows = [
        {
            "message_id": c.message_id,
            "endpoint_id": c.endpoint_id,
            "event_id": c.msg_id,
            "attempt": c.attempt,
            "at": now,
            "status": r.status,
            "outcome": "delivered",
            "latency_ms": round(r.latency_ms, 3),
            "response": r.response,
            "error": None,
        }
        for (c, r), ok in zip(items, kept, strict=True)
        if ok
    ]
    if rows:
        conn.execute(webhook_attempts.insert(), rows)
        endpoint_ids = sorted({str(row["endpoint_id"]) for row in rows})
        conn.execute(
            update(webhook_endpoints)
            .where(e.id.in_(endpoint_ids), e.failing_since.is_not(None))
            .values(failing_since=None)
        )
    return kept
