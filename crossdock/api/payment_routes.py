"""Routes for payments: gateways' signed webhooks ``POST /v1/payments/gateways/{gateway}``
(authenticated by signature), bank statements ``POST /v1/payments/statements`` (streamed to a
temporary file, then read entry by entry) and the payments recorded (``GET /v1/payments``)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import Connection, select

from crossdock.api.auth import Principal, require
from crossdock.api.problems import Problem
from crossdock.api.query import StrictQueryRoute
from crossdock.connectors.bank.statements import HEAD_BYTES, sniff
from crossdock.connectors.gateway.report import GatewayError, Unverified
from crossdock.engine import Engine, insert_events
from crossdock.flows.payments.statements import import_statement
from crossdock.flows.payments.tables import payments
from crossdock.ops.audit import append_audit
from crossdock.webhooks import gateways, stripe_catchup

router = APIRouter(prefix="/v1/payments", route_class=StrictQueryRoute, tags=["payments"])

State = Literal[
    "received", "registering", "registered", "partial", "overpaid", "unmatched", "ambiguous",
    "not_registered", "failed", "chargeback",
]  # fmt: skip


class GatewayAccepted(BaseModel):
    event_id: str | None
    """The stored event (None when the event type is one the gateway's mapping ignores)."""
    duplicate: bool
    ignored: bool


class StatementImported(BaseModel):
    statement_id: str
    format: str
    account: str | None
    entries: int
    credits: int
    debits: int
    skipped: int
    new: int
    duplicates: int


class PaymentView(BaseModel):
    payment_id: str
    source: str
    kind: str
    state: str
    amount: str
    currency: str
    reference: str | None
    customer: str | None
    invoice: str | None
    applied: str | None
    difference: str | None
    detail: str | None


class PaymentList(BaseModel):
    items: list[PaymentView]


def _invalid(exc: GatewayError) -> Problem:
    return Problem(
        422,
        "Invalid request",
        str(exc),
        kind="validation",
        errors=[{"pointer": exc.pointer, "rule": exc.rule, "detail": exc.detail}],
    )


@router.post(
    "/gateways/{gateway}",
    response_model=GatewayAccepted,
    responses={401: {"description": "Signature or timestamp does not verify; nothing stored"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The gateway's event, signed (Stripe-Signature, or the configured "
            "header of a generic gateway).",
            "content": {
                "application/json": {
                    "schema": {},
                    "example": {
                        "id": "evt_1Pgc76B7WZ01zgkWwyRHS12y",
                        "object": "event",
                        "type": "payment_intent.succeeded",
                        "data": {
                            "object": {
                                "id": "pi_1",
                                "amount_received": 1099,
                                "currency": "usd",
                                "metadata": {"invoice": "INV/1"},
                            }
                        },
                    },
                }
            },
        }
    },
)
async def receive_gateway(gateway: str, request: Request) -> GatewayAccepted:
    """A payment gateway's webhook: verified, deduplicated by the gateway's event id, kept raw
    for audit and reported to the payments flow. Authenticated by its signature, not a token."""
    hub = request.app.state.hub
    config = hub.config.payments.gateways.get(gateway)
    if config is None:
        raise Problem(404, "Not found", f"no payment gateway {gateway!r}", kind="not-found")
    body = await request.body()
    try:
        message = gateways.receive(gateway, config, request.headers, body, time.time())
    except Unverified as exc:
        raise Problem(
            401, "Unauthorized", f"webhook not verified: {exc}", kind="signature"
        ) from None
    except GatewayError as exc:
        raise _invalid(exc) from None
    if message.report is None:
        return GatewayAccepted(event_id=None, duplicate=False, ignored=True)
    engine: Engine = hub.engine
    stored = await engine.writer.submit(
        lambda c: gateways.store(c, gateway, message, body, engine.partitions), appends=True
    )
    return GatewayAccepted(event_id=stored.event_id, duplicate=stored.duplicate, ignored=False)


class CatchUpRequested(BaseModel):
    event_id: str
    """The request's event: a node running workers lists Stripe's events and stores the missed."""


@router.post(
    "/gateways/{gateway}/catch-up",
    response_model=CatchUpRequested,
    status_code=202,
    responses={409: {"description": "The gateway's catch-up is not enabled"}},
)
async def request_catch_up(
    gateway: str,
    request: Request,
    principal: Annotated[Principal, Depends(require("payments:write"))],
) -> CatchUpRequested:
    """List the gateway's missed Stripe events now (``GET /v1/events``), queued behind its
    scheduled runs; each event not received by webhook is processed once."""
    hub = request.app.state.hub
    if gateway not in hub.config.payments.gateways:
        raise Problem(404, "Not found", f"no payment gateway {gateway!r}", kind="not-found")
    if gateway not in stripe_catchup.enabled(hub.config.payments):
        raise Problem(
            409,
            "Conflict",
            f"payments.gateways.{gateway}.catch_up is not enabled (a stripe gateway with an "
            "api_key)",
            kind="conflict",
        )
    engine: Engine = hub.engine
    event = stripe_catchup.request_event(gateway, f"token:{principal.name}")

    def write(conn: Connection) -> None:
        insert_events(conn, [event], engine.partitions)
        append_audit(
            conn,
            actor=f"token:{principal.name}",
            action="payments.catch_up_requested",
            subject=f"gateway:{gateway}",
            details={"event_id": event.id},
        )

    await engine.writer.submit(write, appends=True)
    return CatchUpRequested(event_id=str(event.id))


@router.post(
    "/statements",
    response_model=StatementImported,
    status_code=202,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "A bank statement: CAMT.053 XML or CSV (date, amount, currency, …).",
            "content": {
                "application/xml": {
                    "schema": {"type": "string"},
                    "example": (
                        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
                        '<BkToCstmrStmt><Stmt><Id>S1</Id><Ntry><Amt Ccy="EUR">100.00</Amt>'
                        "<CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts></Ntry></Stmt>"
                        "</BkToCstmrStmt></Document>"
                    ),
                },
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "date,amount,currency,reference\n2026-12-04,100.00,EUR,INV/1\n",
                },
            },
        }
    },
)
async def post_statement(
    request: Request, _: Annotated[Principal, Depends(require("payments:write"))]
) -> StatementImported:
    """Import a bank statement, streamed: each booked entry becomes a payment the flow matches
    to an invoice. A bad entry refuses the whole file (422 naming it); a statement sent again
    reports nothing twice."""
    engine: Engine = request.app.state.hub.engine
    with tempfile.TemporaryDirectory(prefix="crossdock-statement-") as folder:
        path = Path(folder) / "statement"
        head = b""
        with path.open("wb") as out:
            async for chunk in request.stream():
                if len(head) < HEAD_BYTES:
                    head += chunk[: HEAD_BYTES - len(head)]
                out.write(chunk)
        fmt = sniff(head)
        if fmt is None:
            raise _invalid(
                GatewayError(
                    "/",
                    "statement",
                    "not a CAMT.053 statement nor a CSV with date, amount and currency columns",
                )
            )
        try:
            imported = await import_statement(engine, path, fmt)
        except GatewayError as exc:
            raise _invalid(exc) from None
    return StatementImported(**{name: getattr(imported, name) for name in imported.__slots__})


@router.get("", response_model=PaymentList)
async def list_payments(
    request: Request,
    _: Annotated[Principal, Depends(require("payments:read"))],
    state: Annotated[State | None, Query(description="Only payments in this state.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> PaymentList:
    """Payments recorded, most recently changed first, optionally in one state."""
    query = select(payments).order_by(payments.c.updated_at.desc()).limit(limit)
    if state is not None:
        query = query.where(payments.c.state == state)
    engine: Engine = request.app.state.hub.engine
    rows = await engine.db.read(lambda c: list(c.execute(query)))
    return PaymentList(
        items=[
            PaymentView(
                payment_id=r.payment_id,
                source=r.source,
                kind=r.kind,
                state=r.state,
                amount=r.amount,
                currency=r.currency,
                reference=r.reference,
                customer=r.customer,
                invoice=r.invoice_name,
                applied=r.applied,
                difference=r.difference,
                detail=r.detail,
            )
            for r in rows
        ]
    )
