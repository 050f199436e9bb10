"""Routes of returns (RMA): ask for one, confirm what the warehouse received, read a return's
timeline and list them. Thin: validate, authorise, then one engine transaction or one read; the
rules and the ERP work belong to the returns flow.

Scopes are the orders' (a channel asks for returns as it sends orders) and, for the receipt, the
shipments' (the warehouse confirms what it received as it confirms what it shipped)."""

from __future__ import annotations

import math
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Connection

from crossdock.api.auth import Principal, require
from crossdock.api.bodies import json_body, parse_json_body
from crossdock.api.cursors import page_cursor, read_cursor
from crossdock.api.problems import Problem
from crossdock.api.query import StrictQueryRoute
from crossdock.api.views import ExceptionView, Instant, StepView
from crossdock.engine import Engine
from crossdock.errors import Unavailable
from crossdock.flows import exceptions as exq
from crossdock.flows.order_to_cash.accept import Answer
from crossdock.flows.returns.intake import categories_for, confirm_receipt, request_return
from crossdock.flows.returns.request import ReturnReceipt, ReturnRequest
from crossdock.flows.returns.store import (
    STATES,
    ReturnRecord,
    get_return,
    list_returns,
    return_subject,
    steps_of_return,
)
from crossdock.ops.tracing import tag_current_span

router = APIRouter(prefix="/v1", route_class=StrictQueryRoute)


class ReturnAccepted(BaseModel):
    rma: str
    status: str
    links: dict[str, str]
    order_id: str | None = None
    event_id: str | None = None


class ReturnSummary(BaseModel):
    rma: str
    channel: str
    return_ref: str
    order_id: str
    order_external_ref: str | None
    state: str
    outcome: str
    currency: str
    amount: str
    created_at: Instant
    updated_at: Instant

    @classmethod
    def of(cls, r: ReturnRecord) -> ReturnSummary:
        return cls(
            rma=r.rma,
            channel=r.channel,
            return_ref=r.return_ref,
            order_id=r.order_id,
            order_external_ref=r.body.get("order_external_ref"),
            state=r.state,
            outcome=r.outcome,
            currency=r.currency,
            amount=r.amount,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )


class ReturnView(ReturnSummary):
    lines: list[dict[str, Any]]
    note: str | None
    erp: dict[str, Any]
    steps: list[StepView]
    exceptions: list[ExceptionView]


class ReturnPage(BaseModel):
    items: list[ReturnSummary]
    next: str | None


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.hub.engine
    return engine


def _answer(answer: Answer, not_found: str) -> JSONResponse:
    if answer.status == 404:
        raise Problem(404, "Not found", not_found, kind="not-found")
    if answer.status == 422:
        raise Problem(
            422,
            "Invalid request",
            answer.conflict or "the return breaks a rule",
            kind="validation",
            errors=answer.body.get("errors") or [],
        )
    if answer.conflict:
        raise Problem(409, "Conflict", answer.conflict, kind="conflict")
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return JSONResponse(answer.body, status_code=answer.status, headers=headers)


@router.post(
    "/returns",
    status_code=202,
    response_model=ReturnAccepted,
    tags=["returns"],
    responses={
        409: {"description": "The channel's return reference was used with another body"},
        422: {"description": "A rule of the channel refused it (the field and rule named)"},
        503: {"description": "The ERP could not be asked the products' categories: retry"},
    },
    openapi_extra=json_body(
        ReturnRequest,
        {
            "channel": "webshop",
            "return_ref": "WS-RET-77",
            "order_ref": "WS-1001",
            "outcome": "refund",
            "lines": [
                {"sku": "SKU-1", "quantity": "1", "reason": "damaged", "condition": "damaged"}
            ],
        },
    ),
)
async def post_return(
    request: Request,
    principal: Annotated[Principal, Depends(require("orders:write"))],
) -> JSONResponse:
    """Ask for a return: checked against the channel's rules and the order as delivered, then
    stored (202 with the RMA number); the flow authorises it in the ERP. Idempotent by the
    channel's `return_ref`. Above the channel's amount it waits for customer service
    (`status: pending_approval`)."""
    body = parse_json_body(ReturnRequest, await request.body())
    engine = _engine(request)
    hub = request.app.state.hub
    config = hub.config.returns
    try:
        categories = await categories_for(
            hub.erp.operations if hub.erp is not None else None, body, config
        )
    except Unavailable as exc:
        raise Problem(
            503,
            "Service unavailable",
            f"{exc} — retry later",
            kind="erp-unavailable",
            headers={"Retry-After": str(math.ceil(exc.retry_after_s))},
        ) from exc
    answer = await engine.writer.submit(
        lambda conn: request_return(
            conn,
            body,
            config,
            actor=f"token:{principal.name}",
            partitions=engine.partitions,
            now=time.time(),
            traceparent=request.headers.get("traceparent"),
            categories=categories,
        ),
        appends=True,
    )
    tag_current_span(rma=answer.body.get("rma"))
    return _answer(answer, "no such order")


@router.post(
    "/returns/{rma}/receipt",
    status_code=202,
    response_model=ReturnAccepted,
    tags=["returns"],
    responses={
        404: {"description": "No return `rma`"},
        409: {"description": "The return is not authorised, or its receipt was recorded"},
    },
    openapi_extra=json_body(
        ReturnReceipt,
        {
            "lines": [
                {"sku": "SKU-1", "quantity": "1", "condition": "opened", "disposition": "restock"},
                {"sku": "SKU-2", "quantity": "1", "condition": "damaged", "disposition": "scrap"},
            ]
        },
    ),
)
async def post_receipt(
    rma: str,
    request: Request,
    principal: Annotated[Principal, Depends(require("shipments:write"))],
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> JSONResponse:
    """What the warehouse received of a return and what inspection decided per line (restock,
    quarantine, scrap); the flow moves the stock in the ERP and settles the return."""
    receipt = parse_json_body(ReturnReceipt, await request.body())
    engine = _engine(request)
    if request.app.state.hub.config.returns.quarantine_location is None:
        errors = [
            {
                "pointer": f"/lines/{n}/disposition",
                "rule": "quarantine_configured",
                "detail": "no quarantine location is configured (returns.quarantine_location)",
            }
            for n, line in enumerate(receipt.lines)
            if line.disposition == "quarantine"
        ]
        if errors:
            raise Problem(
                422, "Invalid request", errors[0]["detail"], kind="validation", errors=errors
            )
    payload = receipt.model_dump(mode="json")
    key = f"returns-receipt:{idempotency_key or rma}"
    answer = await engine.writer.submit(
        lambda conn: confirm_receipt(
            conn,
            rma,
            payload,
            key=key,
            actor=f"token:{principal.name}",
            partitions=engine.partitions,
        ),
        appends=True,
    )
    return _answer(answer, f"no return {rma}")


def return_view(conn: Connection, rma: str) -> ReturnView | None:
    """A return with its steps and exceptions (the API's view and the dashboard's)."""
    record = get_return(conn, rma)
    if record is None:
        return None
    now = time.time()
    steps = [
        StepView(step=s.step, status=s.status, at=s.at, detail=s.detail, event_id=s.event_id)
        for s in steps_of_return(conn, rma)
    ]
    exceptions = [
        ExceptionView.of(e, now)
        for e in exq.list_exceptions(conn, subject=return_subject(rma), state=None)
    ]
    return ReturnView(
        **ReturnSummary.of(record).model_dump(),
        lines=record.lines,
        note=record.body.get("note"),
        erp=record.erp,
        steps=steps,
        exceptions=exceptions,
    )


@router.get("/returns/{rma}", response_model=ReturnView, tags=["returns"])
async def get_return_view(
    rma: str,
    request: Request,
    _: Annotated[Principal, Depends(require("orders:read"))],
) -> ReturnView:
    """A return's timeline: state, each step with its time, ERP documents, exceptions."""
    view = await _engine(request).db.read(lambda c: return_view(c, rma))
    if view is None:
        raise Problem(404, "Not found", f"no return {rma}", kind="not-found")
    return view


@router.get("/returns", response_model=ReturnPage, tags=["returns"])
async def get_returns(
    request: Request,
    _: Annotated[Principal, Depends(require("orders:read"))],
    state: Annotated[
        str | None,
        Query(description=f"One of: {', '.join(STATES)}", json_schema_extra={"enum": list(STATES)}),
    ] = None,
    channel: str | None = None,
    order_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> ReturnPage:
    """Returns, newest first, page by page."""
    if state is not None and state not in STATES:
        raise Problem(
            400, "Bad request", f"state: must be one of {', '.join(STATES)}", kind="bad-query"
        )
    before = read_cursor(cursor) if cursor else None
    records = await _engine(request).db.read(
        lambda c: list_returns(
            c, state=state, channel=channel, order_id=order_id, before=before, limit=limit
        )
    )
    items = [ReturnSummary.of(r) for r in records]
    return ReturnPage(
        items=items,
        next=page_cursor(items[-1].created_at, items[-1].rma) if len(items) == limit else None,
    )
