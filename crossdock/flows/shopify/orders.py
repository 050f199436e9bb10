"""Shopify orders into order-to-cash: the worker behind the webhook route and the pull.

Both store a ``shopify.order_received`` event first (subject ``shopify:<system>:order:<id>``, so
one order's versions are worked in order); this consumer works them later, in the transaction
that acknowledges the batch:

* a version not newer (by Shopify's ``updated_at``) than the one already worked is stale and
  changes nothing: re-deliveries, out-of-order deliveries and the pull meeting a webhook are
  recognised here, and the order's natural key (``<system>``, Shopify's id) makes a second
  acceptance impossible anyway;
* a new valid order is accepted as any channel's is (:mod:`crossdock.flows.order_to_cash.accept`);
* a malformed one is kept as received (the event, and the raw body of a webhook) and opens an
  exception naming the field; no sale order is made;
* a test order (``test: true``) is recorded and not accepted unless the shop's option
  ``accept_test_orders`` says so;
* a cancelled order (``orders/cancelled``, ``cancelled_at``) asks order-to-cash to cancel (before
  release it is cancelled in the ERP; after, a person decides);
* a changed order after acceptance (``orders/updated``, ``orders/edited``) with other
  quantities or lines asks order-to-cash to change it (``order.change_requested``: before
  release the sale order changes in the ERP, after release a person decides); other prices,
  customer or addresses open an exception for sales (a person applies them); payment status,
  tags and notes are kept without one;
* a refund made in Shopify (``refunds/create``, stored under its order's subject) becomes a
  return through the returns flow's accept path (:mod:`.refunds_in`).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

import structlog
from sqlalchemy import Connection, insert, select, update

from crossdock.config.schema import Config
from crossdock.connectors.shopify.mapping import Mapped, map_order
from crossdock.connectors.shopify.records import (
    ORDER_RECEIVED,
    REFUND_RECEIVED,
    order_subject_of,
)
from crossdock.engine import Batch, Engine, NewEvent, Subscription, insert_events
from crossdock.flows.exceptions import open_exception, withdraw_exceptions
from crossdock.flows.order_to_cash.accept import accept, intake
from crossdock.flows.order_to_cash.changes import quantities
from crossdock.flows.order_to_cash.events import CHANGE_REQUESTED
from crossdock.flows.orders import get_order, order_refs, order_subject
from crossdock.flows.shopify.refunds_in import work_refund
from crossdock.flows.shopify.tables import shopify_orders
from crossdock.model import Order

__all__ = ["GROUP", "ShopifyOrders", "register_orders", "work_versions"]

GROUP = "shopify_orders"
INVALID = "shopify_order_invalid"
CHANGED = "shopify_order_changed"
log = structlog.get_logger(__name__)


def _digest(mapped: Mapped) -> str | None:
    if mapped.order is None:
        return None
    return hashlib.sha256(mapped.order.model_dump_json().encode()).hexdigest()


def _stamp(mapped: Mapped) -> float:
    return mapped.updated_at.timestamp() if mapped.updated_at is not None else 0.0


def work_versions(
    conn: Connection,
    events: Sequence[tuple[Mapping[str, Any], str | None]],
    *,
    locations: Mapping[str, Mapping[str, str]],
    accept_tests: Mapping[str, bool],
    partitions: int,
) -> list[str]:
    """Work received versions (event data, traceparent) in order; answers what each did."""
    done: list[str] = []
    for data, traceparent in events:
        done.append(_work(conn, data, traceparent, locations, accept_tests, partitions))
    return done


def _work(
    conn: Connection,
    data: Mapping[str, Any],
    traceparent: str | None,
    locations: Mapping[str, Mapping[str, str]],
    accept_tests: Mapping[str, bool],
    partitions: int,
) -> str:
    system = str(data["system"])
    topic = str(data.get("topic") or "")
    payload = data.get("order")
    if not isinstance(payload, dict):
        payload = {}
    mapped = map_order(system, payload, locations=dict(locations.get(system) or {}))
    now = time.time()
    key = (shopify_orders.c.system == system) & (shopify_orders.c.shopify_id == mapped.order_id)
    row = conn.execute(select(shopify_orders).where(key)).first()
    stamp = _stamp(mapped)
    cancelled = mapped.cancelled or topic == "orders/cancelled"
    if row is not None and stamp <= row.updated_at and not (cancelled and row.state != "cancelled"):
        return "stale"
    subject = order_subject_of(system, mapped.order_id or "unknown")
    values: dict[str, Any] = {
        "name": str(mapped.name)[:100] if mapped.name else None,
        "updated_at": max(stamp, row.updated_at if row is not None else 0.0),
        "facts": json.dumps(mapped.facts, default=str),
        "problems": json.dumps([str(p) for p in mapped.problems]),
        "worked_at": now,
    }

    def save(**more: Any) -> None:
        if row is None:
            conn.execute(
                insert(shopify_orders).values(
                    system=system, shopify_id=mapped.order_id, **values, **more
                )
            )
        else:
            conn.execute(update(shopify_orders).where(key).values(**values, **more))

    if row is not None and row.order_id is not None:
        return _accepted_again(conn, row, mapped, cancelled, save, partitions)
    if cancelled:
        save(state="cancelled")
        if row is not None:
            withdraw_exceptions(conn, subject, note="cancelled in Shopify", now=now)
        return "cancelled"
    if mapped.test and not accept_tests.get(system, False):
        save(state="test")
        return "test"
    if mapped.order is None:
        save(state="invalid")
        reasons = "; ".join(str(p) for p in mapped.problems)
        open_exception(
            conn,
            type=INVALID,
            owner="sales",
            subject=subject,
            reason=f"Shopify order {mapped.name or mapped.order_id} of {system}: {reasons}",
            actions=["dismiss"],
            now=now,
        )
        return "invalid"
    item = intake(
        mapped.order, f"{system}:{mapped.order_id}", traceparent, f"shopify:{system}", partitions
    )
    [answer] = accept(conn, [item])
    order_id = str(answer.body.get("id"))
    save(state="accepted", order_id=order_id, digest=_digest(mapped))
    if row is not None:
        withdraw_exceptions(conn, subject, note="a later version of the order is valid", now=now)
    return "accepted" if answer.status == 202 else "existing"


def _accepted_again(
    conn: Connection,
    row: Any,
    mapped: Mapped,
    cancelled: bool,
    save: Any,
    partitions: int,
) -> str:
    record = get_order(conn, row.order_id)
    if cancelled:
        save(state="cancelled")
        if record is None:
            return "cancelled"
        insert_events(
            conn,
            [
                NewEvent(
                    "order.cancel_requested",
                    f"shopify:{row.system}",
                    order_subject(record.id),
                    {**order_refs(record), "reason": "cancelled in Shopify", "by": row.system},
                    idempotency_key=f"cancel:{record.id}",
                )
            ],
            partitions,
        )
        return "cancel_requested"
    digest = _digest(mapped)
    if digest is None or digest == row.digest:
        save(state=row.state)
        return "updated"
    what = "the new version is malformed: " + "; ".join(str(p) for p in mapped.problems)
    outcome = "changed"
    if mapped.order is not None and record is not None:
        save(state=row.state, digest=digest)
        accepted = record.order()
        if quantities(mapped.order) != quantities(accepted):
            insert_events(conn, [_change_requested(row.system, record, mapped, digest)], partitions)
            outcome = "change_requested"
        common = set(quantities(mapped.order)) & set(quantities(accepted))
        if _rest(mapped.order, common) == _rest(accepted, common):
            return outcome
        what = "prices, customer or addresses differ from the accepted order"
    else:
        save(state=row.state)
    open_exception(
        conn,
        type=CHANGED,
        owner="sales",
        subject=order_subject(row.order_id),
        reason=f"Shopify order {mapped.name or mapped.order_id} changed after acceptance: {what}",
        actions=["applied", "ignore"],
        now=time.time(),
    )
    return outcome


def _rest(order: Order, skus: set[str]) -> dict[str, Any]:
    """What a change of an accepted order opens an exception for: everything but its lines'
    quantities and what follows from them (amounts), lines added or removed (order-to-cash
    applies those); ``skus``: the lines both versions have."""
    data = order.model_dump(mode="json", exclude=_FOLLOWING)
    data["lines"] = [
        line.model_dump(mode="json", exclude=_FOLLOWING | {"quantity"})
        for line in order.lines
        if line.sku in skus
    ]
    return data


_FOLLOWING = {"discount_amount", "tax_amount", "total_amount"}


def _change_requested(system: str, record: Any, mapped: Mapped, digest: str) -> NewEvent:
    assert mapped.order is not None
    return NewEvent(
        CHANGE_REQUESTED,
        f"shopify:{system}",
        order_subject(record.id),
        {
            **order_refs(record),
            "order": mapped.order.model_dump(mode="json"),
            "reason": f"edited in Shopify (order {mapped.name or mapped.order_id})",
            "by": system,
        },
        idempotency_key=f"change:{record.id}:{digest}",
    )


class ShopifyOrders:
    """The consumer: works a batch's versions in the acknowledging transaction."""

    def __init__(self, engine: Engine, config: Config) -> None:
        self.engine = engine
        self.returns = config.returns
        self.locations: dict[str, dict[str, str]] = {}
        self.accept_tests: dict[str, bool] = {}
        for name, system in config.systems.items():
            if system.kind != "shopify":
                continue
            raw = system.options.get("locations") or {}
            self.locations[name] = {
                (str(k) if str(k).startswith("gid://") else f"gid://shopify/Location/{k}"): str(v)
                for k, v in raw.items()
            }
            self.accept_tests[name] = bool(system.options.get("accept_test_orders", False))

    async def handle(self, batch: Batch) -> None:
        def write(conn: Connection) -> None:
            for event in batch.events:  # in log order: an order's versions and refunds
                if event.type == REFUND_RECEIVED:
                    outcome = work_refund(
                        conn, event.data, event.traceparent, self.returns, self.engine.partitions
                    )
                    log.info("shopify.refund_worked", subject=event.subject, outcome=outcome)
                    continue
                [outcome] = work_versions(
                    conn,
                    [(event.data, event.traceparent)],
                    locations=self.locations,
                    accept_tests=self.accept_tests,
                    partitions=self.engine.partitions,
                )
                log.info("shopify.order_worked", subject=event.subject, outcome=outcome)

        batch.write(write)


def shopify_systems(config: Config) -> list[str]:
    return sorted(n for n, s in config.systems.items() if s.kind == "shopify")


def register_orders(engine: Engine, config: Config) -> ShopifyOrders | None:
    """Subscribe the consumer when a Shopify shop is configured (before the engine starts)."""
    if not shopify_systems(config):
        return None
    flow = ShopifyOrders(engine, config)
    engine.subscribe(
        Subscription(
            GROUP,
            (ORDER_RECEIVED, REFUND_RECEIVED),
            flow.handle,
            lane="orders" if "orders" in engine.lanes else "default",
            batch_size=config.engine.batch_size,
            max_attempts=config.engine.max_attempts,
            backoff=config.engine.backoff,
        )
    )
    return flow


def received_event(
    system: str, topic: str, payload: Mapping[str, Any], *, via: str, key: str | None = None
) -> NewEvent:
    """The stored form of one received version (webhook or pull)."""
    order_id = str(payload.get("id") or "unknown")
    return NewEvent(
        ORDER_RECEIVED,
        f"shopify:{system}",
        order_subject_of(system, order_id),
        {"system": system, "topic": topic, "via": via, "order": dict(payload)},
        idempotency_key=key,
    )
