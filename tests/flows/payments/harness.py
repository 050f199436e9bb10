"""The payments flow in a test: an engine on a real SQLite file, its handler called by hand on
the events appended (as the fast order-to-cash tests do), and reads of what it recorded."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from crossdock.connectors.gateway.report import PaymentReport
from crossdock.engine import (
    Batch,
    Engine,
    Event,
    NewEvent,
    Subscription,
    events_table,
    insert_events,
    row_to_event,
)
from crossdock.flows.exceptions import ExceptionRecord, list_exceptions
from crossdock.flows.payments.events import CONSUMED, REPORTED, STREAM
from crossdock.flows.payments.store import PaymentRow, load


def report(
    pid: str,
    amount: str,
    *,
    kind: str = "captured",
    currency: str = "EUR",
    reference: str | None = None,
    customer: str | None = None,
    original: str | None = None,
) -> PaymentReport:
    return PaymentReport(
        payment_id=f"test:{pid}",
        source="test",
        kind=kind,
        amount=Decimal(amount),
        currency=currency,
        reference=reference,
        customer=customer,
        occurred_at=datetime(2026, 12, 5, tzinfo=UTC),
        original=f"test:{original}" if original else None,
        detail="card_declined" if kind == "failed" else None,
    )


@dataclass
class PaymentsFlow:
    engine: Engine
    subscription: Subscription
    seen: set[str] = field(default_factory=set)

    async def report(self, *reports: PaymentReport, key_prefix: str = "") -> None:
        """Append reports as the API does (idempotency key: the gateway's event id)."""
        news = [
            NewEvent(
                REPORTED,
                "gateway:test",
                STREAM,
                {"payment": r.data()},
                idempotency_key=f"{key_prefix}{r.payment_id}",
            )
            for r in reports
        ]
        await self.engine.writer.submit(
            lambda c: insert_events(c, news, self.engine.partitions), appends=True
        )

    async def events(self, *types: str) -> list[Event]:
        query = select(events_table).order_by(events_table.c.seq)
        if types:
            query = query.where(events_table.c.type.in_(types))
        rows = await self.engine.db.read(lambda c: list(c.execute(query)))
        return [row_to_event(r) for r in rows]

    async def deliver(self, *, commit: bool = True) -> Batch:
        """Hand the events of the flow not yet delivered to the handler; ``commit`` applies what it
        wrote and emitted as the acknowledgement does (else: the process died before it)."""
        pending = [e for e in await self.events(*CONSUMED) if e.id not in self.seen]
        batch = Batch(self.subscription.group, pending)
        await self.subscription.handler(batch)
        if commit:

            def apply(conn: Any) -> None:
                for fn in batch.writes:
                    fn(conn)
                if batch.emitted:
                    insert_events(conn, batch.emitted, self.engine.partitions)

            await self.engine.writer.submit(apply, appends=True)
            self.seen.update(e.id for e in pending)
        return batch

    async def payment(self, pid: str) -> PaymentRow:
        key = pid if ":" in pid else f"test:{pid}"
        rows = await self.engine.db.read(lambda c: load(c, [key]))
        return rows[key]

    async def exceptions(self) -> list[ExceptionRecord]:
        return await self.engine.db.read(lambda c: list_exceptions(c, state="open"))


def data_of(events: Sequence[Event]) -> list[dict[str, Any]]:
    return [json.loads(json.dumps(dict(e.data))) for e in events]
