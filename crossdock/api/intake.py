"""Order intake in one transaction: idempotency record, order projection, `order.accepted` event.

The request's idempotency key (header, or `<channel>:<external_ref>`) is looked up first: the same
key with the same body returns the first answer; with a different body it is a conflict. An order
already accepted under another key is a conflict too. All of it runs as one operation of the
engine's group commit, so a 202 means the order is durable, and nothing half-written remains if
anything fails.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select

from crossdock.api.tables import idempotency_keys
from crossdock.engine import NewEvent, new_event_id
from crossdock.engine.log import insert_events
from crossdock.flows.orders import find_order, insert_accepted, order_subject
from crossdock.model import Order


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: dict[str, Any]
    replayed: bool = False
    conflict: str | None = None  # why the request conflicts with an earlier one


def request_hash(payload: str) -> str:
    return hashlib.sha256(payload.encode()).hexdigest()


def stored_answer(conn: Connection, key: str, digest: str) -> Answer | None:
    row = conn.execute(select(idempotency_keys).where(idempotency_keys.c.key == key)).first()
    if row is None:
        return None
    if row.request_hash != digest:
        return Answer(409, {}, conflict="the Idempotency-Key was used with a different body")
    return Answer(row.status, json.loads(row.response), replayed=True)


def remember(conn: Connection, key: str, digest: str, answer: Answer) -> None:
    conn.execute(
        insert(idempotency_keys).values(
            key=key,
            request_hash=digest,
            status=answer.status,
            response=json.dumps(answer.body),
            created_at=time.time(),
        )
    )


def accept_order(
    conn: Connection, order: Order, key: str, traceparent: str | None, partitions: int
) -> Answer:
    """Runs inside the writer transaction (which holds the append lock)."""
    scoped = f"orders:{key}"
    digest = request_hash(order.model_dump_json())
    earlier = stored_answer(conn, scoped, digest)
    if earlier is not None:
        return earlier
    existing = find_order(conn, order.channel, order.external_ref)
    if existing is not None:
        return Answer(
            409,
            {"id": existing.id},
            conflict=f"order {order.external_ref} of {order.channel} was already accepted "
            f"as {existing.id} under another Idempotency-Key",
        )
    order_id = new_event_id()
    [appended] = insert_events(
        conn,
        [
            NewEvent(
                "order.accepted",
                order.channel,
                order_subject(order_id),
                {"order_id": order_id, "order": order.model_dump(mode="json")},
                idempotency_key=f"order:{order.channel}:{order.external_ref}",
                traceparent=traceparent,
            )
        ],
        partitions,
    )
    insert_accepted(
        conn, order_id=order_id, order=order, now=time.time(), event_id=appended.event.id
    )
    answer = Answer(
        202, {"id": order_id, "status": "accepted", "links": {"self": f"/v1/orders/{order_id}"}}
    )
    remember(conn, scoped, digest, answer)
    return answer
