"""Order intake: idempotency record, order projection and `order.accepted` event, together.

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

from sqlalchemy import Connection, insert, select

from crossdock.api.tables import idempotency_keys
from crossdock.engine import NewEvent, new_event_id
from crossdock.engine.log import insert_events
from crossdock.engine.writer import Batched
from crossdock.flows.orders import find_orders, insert_accepted_many, order_subject
from crossdock.model import Order
from crossdock.ops.audit import AuditRecord, append_audit_many


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: dict[str, Any]
    replayed: bool = False
    conflict: str | None = None  # why the request conflicts with an earlier one


@dataclass(frozen=True, slots=True)
class Intake:
    order: Order
    key: str  # scoped: "orders:<Idempotency-Key>"
    digest: str
    traceparent: str | None
    actor: str = "api"  # who sent it, for the audit trail


def request_hash(payload: str) -> str:
    return hashlib.sha256(payload.encode()).hexdigest()


def intake(order: Order, key: str, traceparent: str | None, actor: str = "api") -> Intake:
    return Intake(
        order, f"orders:{key}", request_hash(order.model_dump_json()), traceparent, actor
    )


def _replay(status: int, response: str, stored_digest: str, digest: str) -> Answer:
    if stored_digest != digest:
        return Answer(409, {}, conflict="the Idempotency-Key was used with a different body")
    return Answer(status, json.loads(response), replayed=True)


def stored_answer(conn: Connection, key: str, digest: str) -> Answer | None:
    row = conn.execute(select(idempotency_keys).where(idempotency_keys.c.key == key)).first()
    return None if row is None else _replay(row.status, row.response, row.request_hash, digest)


def remember(conn: Connection, key: str, digest: str, answer: Answer) -> None:
    remember_many(conn, [(key, digest, answer)])


def remember_many(conn: Connection, answers: list[tuple[str, str, Answer]]) -> None:
    if answers:
        now = time.time()
        conn.execute(
            insert(idempotency_keys),
            [
                {
                    "key": key,
                    "request_hash": digest,
                    "status": a.status,
                    "response": json.dumps(a.body),
                    "created_at": now,
                }
                for key, digest, a in answers
            ],
        )


def _accepted_audit(item: Intake, order_id: str) -> AuditRecord:
    order = item.order
    details = {"channel": order.channel, "external_ref": order.external_ref, "key": item.key}
    return AuditRecord(item.actor, "order.accepted", order_subject(order_id), details)


def accept_kind(partitions: int) -> Batched[Intake, Answer]:
    """The batched write behind `POST /v1/orders` for an engine with `partitions`."""

    def accept(conn: Connection, items: list[Intake]) -> list[Answer]:
        keys = sorted({i.key for i in items})
        stored = {
            row.key: row
            for start in range(0, len(keys), 400)
            for row in conn.execute(
                select(idempotency_keys).where(
                    idempotency_keys.c.key.in_(keys[start : start + 400])
                )
            )
        }
        existing = find_orders(conn, [(i.order.channel, i.order.external_ref) for i in items])
        answers: list[Answer | None] = []
        fresh: dict[str, tuple[Intake, str, Answer]] = {}  # by key: first of the batch wins
        for item in items:
            row = stored.get(item.key)
            if row is not None:
                answers.append(_replay(row.status, row.response, row.request_hash, item.digest))
                continue
            if item.key in fresh:
                first = fresh[item.key]
                answers.append(
                    _replay(
                        first[2].status, json.dumps(first[2].body), first[0].digest, item.digest
                    )
                )
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
            order_id = new_event_id()
            existing[ref] = order_id
            answer = Answer(
                202,
                {"id": order_id, "status": "accepted", "links": {"self": f"/v1/orders/{order_id}"}},
            )
            fresh[item.key] = (item, order_id, answer)
            answers.append(answer)
        created = list(fresh.values())
        appended = insert_events(
            conn,
            [
                NewEvent(
                    "order.accepted",
                    item.order.channel,
                    order_subject(order_id),
                    {"order_id": order_id, "order": item.order.model_dump(mode="json")},
                    idempotency_key=f"order:{item.order.channel}:{item.order.external_ref}",
                    traceparent=item.traceparent,
                )
                for item, order_id, _ in created
            ],
            partitions,
        )
        insert_accepted_many(
            conn,
            [
                (order_id, item.order, a.event.id)
                for (item, order_id, _), a in zip(created, appended, strict=True)
            ],
            time.time(),
        )
        remember_many(conn, [(item.key, item.digest, answer) for item, _, answer in created])
        append_audit_many(conn, [_accepted_audit(item, order_id) for item, order_id, _ in created])
        return [a for a in answers if a is not None]

    return Batched("orders.accept", accept, appends=True)
