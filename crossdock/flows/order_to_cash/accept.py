"""Accepting an order, the order-to-cash flow's first unit of work: idempotency record, order
projection and `order.accepted` event, together (the API only parses, authenticates and answers).

The request's idempotency key (header, or `<channel>:<external_ref>`) is looked up first: the same
key with the same body returns the first answer; with a different body it is a conflict. An order
already accepted under another key is a conflict too. Concurrent requests are merged into one
set-based run of the engine's group commit (`Batched`), so a 202 means the order is durable, and
nothing half-written remains if anything fails.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, select

from crossdock.engine import (
    Batched,
    NewEvent,
    Prepared,
    insert_prepared,
    insert_values,
    new_event_id,
    prepare,
)
from crossdock.flows.orders import (
    accepted_row,
    find_orders,
    insert_accepted_rows,
    order_subject,
)
from crossdock.flows.tables import idempotency_keys
from crossdock.model import Order
from crossdock.ops.audit import AuditRecord, append_audit_many


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: dict[str, Any]
    replayed: bool = False
    conflict: str | None = None  # why the request conflicts with an earlier one


@dataclass(frozen=True, slots=True)
class Fresh:
    """What the order writes if it is new, made ready on the request's side: the writer holds
    the database's write lock while it runs the batch, so the encoding is done before."""

    order_id: str
    event: Prepared
    order_row: tuple[Any, ...]  # see `accepted_row`
    answer: Answer
    response: str  # the answer's body as JSON


@dataclass(frozen=True, slots=True)
class Intake:
    order: Order
    key: str  # scoped: "orders:<Idempotency-Key>"
    digest: str
    traceparent: str | None
    actor: str  # who sent it, for the audit trail
    fresh: Fresh


def request_hash(payload: str) -> str:
    return hashlib.sha256(payload.encode()).hexdigest()


def intake(order: Order, key: str, traceparent: str | None, actor: str, partitions: int) -> Intake:
    """An order to accept under `key`, prepared for an engine of `partitions`."""
    body = order.model_dump_json()
    order_id = new_event_id()
    [event] = prepare(
        [
            NewEvent(
                "order.accepted",
                order.channel,
                order_subject(order_id),
                {
                    "order_id": order_id,
                    "channel": order.channel,
                    "external_ref": order.external_ref,
                    "order": order.model_dump(mode="json"),
                },
                idempotency_key=f"order:{order.channel}:{order.external_ref}",
                traceparent=traceparent,
            )
        ],
        partitions,
    )
    row = accepted_row(order_id, order, body, event.event.recorded_at)
    answer = Answer(
        202, {"id": order_id, "status": "accepted", "links": {"self": f"/v1/orders/{order_id}"}}
    )
    fresh = Fresh(order_id, event, row, answer, json.dumps(answer.body))
    return Intake(order, f"orders:{key}", request_hash(body), traceparent, actor, fresh)


def _replay(status: int, response: str, stored_digest: str, digest: str) -> Answer:
    if stored_digest != digest:
        return Answer(409, {}, conflict="the Idempotency-Key was used with a different body")
    return Answer(status, json.loads(response), replayed=True)


def stored_answer(conn: Connection, key: str, digest: str) -> Answer | None:
    row = conn.execute(select(idempotency_keys).where(idempotency_keys.c.key == key)).first()
    return None if row is None else _replay(row.status, row.response, row.request_hash, digest)


_REMEMBER_HEAD = "INSERT INTO idempotency_keys (key, request_hash, status, response, created_at)"


def remember(conn: Connection, key: str, digest: str, answer: Answer) -> None:
    insert_values(
        conn, _REMEMBER_HEAD, [(key, digest, answer.status, json.dumps(answer.body), time.time())]
    )


_STORED = select(
    idempotency_keys.c.key,
    idempotency_keys.c.status,
    idempotency_keys.c.response,
    idempotency_keys.c.request_hash,
).where(idempotency_keys.c.key.in_(bindparam("keys", expanding=True)))


def _accepted_audit(item: Intake) -> AuditRecord:
    order = item.order
    details = {"channel": order.channel, "external_ref": order.external_ref, "key": item.key}
    return AuditRecord(item.actor, "order.accepted", order_subject(item.fresh.order_id), details)


def accept(conn: Connection, items: list[Intake]) -> list[Answer]:
    """The batched write behind `POST /v1/orders`: replays, conflicts, and the new orders."""
    keys = sorted({i.key for i in items})
    stored = {
        row.key: row
        for start in range(0, len(keys), 400)
        for row in conn.execute(_STORED, {"keys": keys[start : start + 400]})
    }
    existing = find_orders(conn, [(i.order.channel, i.order.external_ref) for i in items])
    answers: list[Answer] = []
    fresh: dict[str, Intake] = {}  # by key: first of the batch wins
    for item in items:
        row = stored.get(item.key)
        if row is not None:
            answers.append(_replay(row.status, row.response, row.request_hash, item.digest))
            continue
        first = fresh.get(item.key)
        if first is not None:
            answer = first.fresh.answer
            answers.append(_replay(answer.status, first.fresh.response, first.digest, item.digest))
            continue
        ref = (item.order.channel, item.order.external_ref)
        if ref in existing:
            answers.append(
                Answer(
                    409,
                    {"id": existing[ref]},
                    conflict=f"order {ref[1]} of {ref[0]} was already accepted as "
                    f"{existing[ref]} under another Idempotency-Key",
                )
            )
            continue
        existing[ref] = item.fresh.order_id
        fresh[item.key] = item
        answers.append(item.fresh.answer)
    created = list(fresh.values())
    appended = insert_prepared(conn, [i.fresh.event for i in created])
    insert_accepted_rows(conn, [i.fresh.order_row for i in created], [a.event.id for a in appended])
    now = time.time()
    rows = [(i.key, i.digest, i.fresh.answer.status, i.fresh.response, now) for i in created]
    insert_values(conn, _REMEMBER_HEAD, rows)
    append_audit_many(conn, [_accepted_audit(i) for i in created])
    return answers


ACCEPT: Batched[Intake, Answer] = Batched("orders.accept", accept, appends=True)
