"""A hub in a test: a real SQLite engine running the order-to-cash flow against an Odoo (the
sandbox on a real HTTP server, or a real Odoo), with helpers that append events the way the API
does and wait on conditions (never on time)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from crossdock.config.schema import ChannelPolicy, Config, EngineConfig
from crossdock.connectors.odoo import OdooOperations, StockSetting
from crossdock.engine import Batch, Engine, Event, NewEvent, Subscription, new_event_id
from crossdock.engine.log import insert_events
from crossdock.flows.exceptions import ExceptionRecord, list_exceptions, resolve_exception
from crossdock.flows.order_to_cash import SOURCE
from crossdock.flows.orders import OrderRecord, get_order, insert_accepted, order_subject, steps_of
from crossdock.model import Order
from tests.support.waiting import until

SECOND_WAREHOUSE = "W2"

CHANNELS = {
    "web": ChannelPolicy(),
    "priced": ChannelPolicy(pricing="pricelist"),
    "split": ChannelPolicy(
        warehouses=["WH", SECOND_WAREHOUSE], fulfilment=["preferred", "any_warehouse", "split"]
    ),
    "bo": ChannelPolicy(warehouses=["WH"], fulfilment=["preferred", "backorder"]),
    "strict": ChannelPolicy(warehouses=["WH"], fulfilment=["preferred", "reject"]),
    "cut": ChannelPolicy(short_pick="cancel"),
}


def flow_config(**channels: ChannelPolicy) -> Config:
    return Config(
        channels={**CHANNELS, **channels},
        engine=EngineConfig(
            batch_size=100, max_attempts=20, backoff_base_s=0.05, backoff_max_s=1.0
        ),
    )


def make_order(
    ref: str,
    customer: str,
    lines: Sequence[tuple[str, str]],
    *,
    channel: str = "web",
    price: str = "10",
) -> Order:
    return Order(
        external_ref=ref,
        source=channel,
        channel=channel,
        currency="USD",
        customer={
            "external_ref": customer,
            "name": f"Customer {customer}",
            "email": f"{customer}@example.com",
            "address": {
                "street": "1 Main St",
                "city": "Springfield",
                "postal_code": "12345",
                "country": "US",
            },
        },
        lines=[{"sku": sku, "quantity": qty, "unit_price": price} for sku, qty in lines],
    )


def new_order_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Flow:
    engine: Engine
    ops: OdooOperations
    subscription: Subscription
    odoo: str = "sandbox"
    """``sandbox`` or ``real``."""

    # ------------------------------------------------------------------ appending, like the API

    def _accepted(self, order_id: str, order: Order, event_id: str) -> NewEvent:
        return NewEvent(
            "order.accepted",
            order.channel,
            order_subject(order_id),
            {"order_id": order_id, "order": order.model_dump(mode="json")},
            idempotency_key=f"{order.channel}:{order.external_ref}:{event_id}",
            id=event_id,
        )

    async def accept(
        self, *orders: Order, ids: Sequence[str] = (), then: Sequence[NewEvent] = ()
    ) -> list[str]:
        """Accept orders as the intake does: projection row and event in one transaction
        (``ids``: the order ids, new ones by default; ``then``: more events appended in the same
        transaction)."""
        ids = list(ids) or [new_order_id() for _ in orders]

        def write(conn: Any) -> None:
            news = []
            for order_id, order in zip(ids, orders, strict=True):
                event_id = new_event_id()
                insert_accepted(
                    conn, order_id=order_id, order=order, now=time.time(), event_id=event_id
                )
                news.append(self._accepted(order_id, order, event_id))
            insert_events(conn, [*news, *then], self.engine.partitions)

        await self.engine.writer.submit(write, appends=True)
        return ids

    async def accept_again(self, order_id: str) -> None:
        """A second `order.accepted` for an order (a replay, a buggy producer)."""
        record = await self.order(order_id)
        await self.engine.append([self._accepted(order_id, record.order(), new_event_id())])

    async def cancel(self, order_id: str, reason: str = "customer changed their mind") -> None:
        await self.engine.append([cancel_requested(order_id, reason)])

    async def ship(
        self, order_id: str, lines: Sequence[tuple[str, str]], *, warehouse: str = "WH"
    ) -> str:
        event = shipment_confirmed(order_id, lines, warehouse=warehouse)
        await self.engine.append([event])
        return str(event.id)

    async def resolve(self, exception_id: str, action: str, note: str | None = None) -> None:
        def write(conn: Any) -> None:
            _, event = resolve_exception(
                conn, exception_id, action=action, by="tester", note=note, now=time.time()
            )
            insert_events(conn, [event], self.engine.partitions)

        await self.engine.writer.submit(write, appends=True)

    # ------------------------------------------------------------------ reading

    async def order(self, order_id: str) -> OrderRecord:
        record = await self.engine.db.read(lambda c: get_order(c, order_id))
        assert record is not None
        return record

    async def steps(self, order_id: str) -> list[str]:
        return [s.step for s in await self.engine.db.read(lambda c: steps_of(c, order_id))]

    async def exceptions(self, order_id: str, state: str | None = "open") -> list[ExceptionRecord]:
        subject = order_subject(order_id)
        return await self.engine.db.read(lambda c: list_exceptions(c, subject=subject, state=state))

    async def events(self, order_id: str, *types: str) -> list[Event]:
        found = await self.engine.events_after(0, 10_000, subject=order_subject(order_id))
        return [e for e in found if not types or e.type in types]

    async def emitted(self, order_id: str) -> list[str]:
        return [e.type for e in await self.events(order_id) if e.source == SOURCE]

    # ------------------------------------------------------------------ waiting

    async def wait_state(self, order_id: str, *states: str, timeout: float = 30) -> OrderRecord:
        async def reached() -> bool:
            return (await self.order(order_id)).state in states

        await until(reached, timeout, f"order {order_id} in {states}")
        return await self.order(order_id)

    async def wait_exception(
        self, order_id: str, type: str, timeout: float = 30
    ) -> ExceptionRecord:
        async def opened() -> bool:
            return any(e.type == type for e in await self.exceptions(order_id))

        await until(opened, timeout, f"exception {type} on {order_id}")
        return next(e for e in await self.exceptions(order_id) if e.type == type)

    async def wait_idle(self, timeout: float = 30) -> None:
        await until(self.engine.idle, timeout, "the engine to be idle")

    async def wait_step(self, order_id: str, step: str, timeout: float = 30) -> None:
        async def recorded() -> bool:
            return step in await self.steps(order_id)

        await until(recorded, timeout, f"step {step} of {order_id}")

    # ------------------------------------------------------------------ Odoo

    async def sale_orders(self, order: Order) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await self.ops.client.search_read(
            "sale.order",
            [["client_order_ref", "=like", f"{order.channel}:{order.external_ref}%"]],
            ["client_order_ref", "state", "warehouse_id", "order_line", "partner_id"],
            order="id",
            context=await self.ops.all_companies_context(),
        )
        return rows

    async def stock(self, sku: str, quantity: int, warehouse: str | None = None) -> None:
        await self.ops.set_stock(
            [StockSetting(sku=sku, quantity=Decimal(quantity), warehouse=warehouse)]
        )

    # ------------------------------------------------------------------ the handler, by hand

    async def deliver(self, events: Sequence[Event], *, commit: bool) -> Batch:
        """Call the flow's handler on ``events``; ``commit`` applies its writes and events the
        way the engine's acknowledgement does (else: the process "crashed" before it)."""
        batch = Batch(self.subscription.group, list(events))
        await self.subscription.handler(batch)
        if commit:

            def apply(conn: Any) -> None:
                for fn in batch.writes:
                    fn(conn)
                if batch.emitted:
                    insert_events(conn, batch.emitted, self.engine.partitions)

            await self.engine.writer.submit(apply, appends=True)
        return batch


def cancel_requested(order_id: str, reason: str = "customer changed their mind") -> NewEvent:
    return NewEvent(
        "order.cancel_requested",
        "api",
        order_subject(order_id),
        {"order_id": order_id, "reason": reason, "by": "tester"},
    )


def shipment_confirmed(
    order_id: str, lines: Sequence[tuple[str, str]], *, warehouse: str = "WH"
) -> NewEvent:
    return NewEvent(
        "shipment.confirmed",
        "wms",
        order_subject(order_id),
        {
            "order_id": order_id,
            "shipment": {
                "external_ref": f"SHP-{uuid.uuid4().hex[:8]}",
                "source": "wms",
                "warehouse": warehouse,
                "status": "shipped",
                "carrier": "ups",
                "tracking_number": "1Z999",
                "ship_date": "2026-11-30",
                "lines": [{"sku": sku, "quantity": qty} for sku, qty in lines],
            },
        },
        id=new_event_id(),
    )
