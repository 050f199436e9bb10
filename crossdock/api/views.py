"""Response bodies of the API (pydantic models, so `/openapi.json` documents them)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, PlainSerializer, WithJsonSchema

from crossdock.engine import format_time
from crossdock.flows.exceptions import ExceptionRecord
from crossdock.flows.orders import OrderRecord, Step


def iso_time(moment: float) -> str:
    """Epoch seconds as the API and the events write a moment: ISO 8601 in UTC (`…Z`)."""
    return format_time(datetime.fromtimestamp(moment, UTC))


# A moment stored as epoch seconds and answered as ISO 8601 UTC (JSON only: a model dumped to
# Python keeps the number, so views built from other views stay valid).
Instant = Annotated[
    float,
    PlainSerializer(iso_time, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class Accepted(BaseModel):
    id: str
    status: str
    links: dict[str, str]


class StepView(BaseModel):
    step: str
    status: str
    at: Instant
    detail: dict[str, Any]
    event_id: str | None


class EventRef(BaseModel):
    id: str
    type: str
    time: str


class ExceptionView(BaseModel):
    id: str
    type: str
    owner: str
    subject: str
    reason: str
    actions: list[str]
    state: str
    created_at: Instant
    age_s: float
    resolved_at: Instant | None
    resolved_by: str | None
    resolution: str | None
    note: str | None
    channel: str | None = Field(
        default=None, description="For an exception about an order: the order's channel."
    )
    external_ref: str | None = Field(
        default=None, description="For an exception about an order: the channel's order number."
    )

    @classmethod
    def of(
        cls, record: ExceptionRecord, now: float, refs: tuple[str, str] | None = None
    ) -> ExceptionView:
        """`refs`: the (channel, external_ref) of the order the exception is about, if any."""
        end = record.resolved_at or now
        channel, external_ref = refs or (None, None)
        return cls(
            **asdict(record),
            age_s=round(end - record.created_at, 3),
            channel=channel,
            external_ref=external_ref,
        )


class OrderSummary(BaseModel):
    id: str
    channel: str
    external_ref: str
    state: str
    customer_ref: str
    currency: str
    total: str
    accepted_at: Instant
    updated_at: Instant

    @classmethod
    def of(cls, record: OrderRecord) -> OrderSummary:
        return cls(**{k: getattr(record, k) for k in cls.model_fields})


class OrderView(OrderSummary):
    erp: dict[str, Any] = Field(
        description="References in the ERP: sale orders, pickings, invoices."
    )
    order: dict[str, Any] = Field(description="The order as accepted (canonical form).")
    steps: list[StepView]
    exceptions: list[ExceptionView]
    events: list[EventRef]

    @classmethod
    def full(
        cls,
        record: OrderRecord,
        steps: list[Step],
        exceptions: list[ExceptionView],
        events: list[EventRef],
    ) -> OrderView:
        return cls(
            **OrderSummary.of(record).model_dump(),
            erp=record.erp,
            order=record.body,
            steps=[StepView(**asdict(s)) for s in steps],
            exceptions=exceptions,
            events=events,
        )


class OrderPage(BaseModel):
    items: list[OrderSummary]
    next: str | None = Field(description="Cursor of the next page, or null on the last page.")


class ExceptionList(BaseModel):
    items: list[ExceptionView]
    next: str | None = None  # the cursor of the next page, when this one is full
