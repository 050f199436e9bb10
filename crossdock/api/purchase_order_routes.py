"""The supplier's side of a purchase order over HTTP (the API/webhook transport; EDI is another).

- ``GET /v1/purchase-orders/{ref}`` (``purchasing:read``) — the order's timeline (recommended →
  approved → ordered → sent → acknowledged → shipped …), lines and the supplier's messages.
- ``POST /v1/purchase-orders/{ref}/acknowledgement`` (``purchasing:write``) — a
  :class:`~crossdock.model.SupplierAcknowledgement`: lines accepted, changed (quantity, price,
  date) or rejected. ``202``: stored; the consumer applies the changes to the ERP's order per
  ``procurement.acknowledgement_changes`` or opens an exception for buying.
- ``POST /v1/purchase-orders/{ref}/shipments`` (``purchasing:write``) — an
  :class:`~crossdock.model.AdvanceShipNotice`: the expected receipt with lots, serials and dates.

- ``POST /v1/purchase-orders/{ref}/receipts`` (``purchasing:write``) — a
  :class:`~crossdock.model.Receipt` posted by the warehouse: reconciled against the advance ship
  notices and the order (tolerances per supplier or SKU), then validated in the ERP (backorder or
  close) and ``purchase.received`` appended; over tolerance, unexpected items or unannounced lots
  hold it as an exception for buying.

- ``POST /v1/purchase-orders/{ref}/bills`` (``purchasing:write``) — the supplier's
  :class:`~crossdock.model.Invoice` (``direction: supplier``): matched three ways against the
  order's prices and the quantities received; matching, the ERP's vendor bill is made (posted per
  ``procurement.post_bills``); otherwise an exception for accounts payable lists the differences.

- ``POST /v1/purchase-orders/{ref}/landed-costs`` (``purchasing:write``) — a carrier's or
  customs broker's :class:`~crossdock.flows.procurement.landed.CostBill` of charges (freight,
  duty, insurance, handling): landed on the order's validated receipts as the ERP's landed cost
  (``procurement.landed_costs``); a supplier's bill's own ``charges`` land once it matches. Sent
  again after its charges could not land (an exception for accounts payable), it is retried.

The five are one table (:data:`SUPPLIER_ROUTES`): they differ only in the message's model and the
seam's function that receives it (:mod:`crossdock.flows.procurement.supplier`, which EDI's 855,
856 and 810 reach too).

``ref`` is the purchase order's reference (its ``partner_ref`` in the ERP); an unknown one is a
404 problem. A message is identified by its ``external_ref``: sent again with the same content it
is answered as the first time (``duplicate: true``); with other content it is a 409 problem.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Connection

from crossdock.api.auth import Principal, require
from crossdock.api.bodies import json_body, parse_json_body
from crossdock.api.problems import Problem
from crossdock.api.query import StrictQueryRoute
from crossdock.engine import Engine, format_time, insert_events
from crossdock.flows.procurement.landed import CostBill, receive_cost_bill
from crossdock.flows.procurement.store import DecisionError, steps_of
from crossdock.flows.procurement.supplier import (
    Received,
    messages_of,
    ordered_recommendation,
    receive_acknowledgement,
    receive_bill,
    receive_receipt,
    receive_shipment,
)
from crossdock.model import AdvanceShipNotice, Invoice, Receipt, SupplierAcknowledgement

router = APIRouter(
    prefix="/v1/purchase-orders", tags=["purchase orders"], route_class=StrictQueryRoute
)


class MessageAccepted(BaseModel):
    message_id: str
    purchase_order: str
    duplicate: bool
    state: str


class PurchaseOrderView(BaseModel):
    ref: str
    erp_name: str | None
    supplier_ref: str
    warehouse: str
    currency: str
    amount: str
    lines: list[dict[str, str]]
    timeline: list[dict[str, Any]]
    messages: list[dict[str, Any]]


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.hub.engine
    return engine


def _iso(at: float) -> str:
    return format_time(datetime.fromtimestamp(at, UTC))


def _problem(error: DecisionError) -> Problem:
    if error.status == 404:
        return Problem(404, "Not found", error.detail, kind="not-found")
    if error.status == 409:
        return Problem(409, "Conflict", error.detail, kind="conflict")
    errors = [{"pointer": error.pointer or "/", "detail": error.detail}]
    return Problem(422, "Unprocessable content", error.detail, kind="invalid", errors=errors)


async def _receive(request: Request, ref: str, receive: Any) -> JSONResponse:
    engine = _engine(request)

    def write(conn: Connection) -> Received:
        received: Received = receive(conn)
        if received.event is not None:
            insert_events(conn, [received.event], engine.partitions)
        return received

    try:
        got = await engine.writer.submit(write, appends=True)
    except DecisionError as exc:
        raise _problem(exc) from exc
    body = MessageAccepted(
        message_id=got.message_id, purchase_order=ref, duplicate=got.duplicate, state=got.state
    )
    return JSONResponse(body.model_dump(), status_code=200 if got.duplicate else 202)


@router.get("/{ref}", response_model=PurchaseOrderView)
async def purchase_order(
    ref: str, request: Request, _: Annotated[Principal, Depends(require("purchasing:read"))]
) -> PurchaseOrderView:
    """The purchase order's timeline, lines and supplier messages."""

    def read(conn: Connection) -> PurchaseOrderView:
        rec = ordered_recommendation(conn, ref)
        return PurchaseOrderView(
            ref=rec.ref,
            erp_name=rec.po_name,
            supplier_ref=rec.supplier_ref,
            warehouse=rec.warehouse,
            currency=rec.currency,
            amount=format(rec.amount.normalize(), "f"),
            lines=[
                {
                    "sku": ln.sku,
                    "quantity": format(ln.quantity.normalize(), "f"),
                    "unit_price": format(ln.unit_price.normalize(), "f"),
                }
                for ln in rec.lines
                if ln.quantity > 0
            ],
            timeline=[{**s, "at": _iso(s["at"])} for s in steps_of(conn, rec.id)],
            messages=[
                {**m, "received_at": _iso(m["received_at"])} for m in messages_of(conn, rec.id)
            ],
        )

    try:
        return await _engine(request).db.read(read)
    except DecisionError as exc:
        raise _problem(exc) from exc


_ACK_EXAMPLE = {
    "external_ref": "ACK-7001",
    "source": "acme-portal",
    "purchase_order_ref": "REC-0A1B2C3D4E5F",
    "supplier_ref": "ACME",
    "status": "changed",
    "acknowledged_at": "2026-12-05T09:00:00Z",
    "lines": [
        {"sku": "SKU-1", "status": "accepted"},
        {"sku": "SKU-2", "status": "changed", "quantity": "20", "expected_date": "2026-12-20"},
    ],
}

_ASN_EXAMPLE = {
    "external_ref": "ASN-9001",
    "source": "acme-portal",
    "supplier_ref": "ACME",
    "warehouse": "WH",
    "ship_date": "2026-12-15",
    "expected_arrival": "2026-12-18",
    "lines": [{"sku": "SKU-1", "quantity": "40", "lot": "L-2026-12", "expiry_date": "2027-12-01"}],
}

_RECEIPT_EXAMPLE = {
    "external_ref": "GRN-5001",
    "source": "wms",
    "warehouse": "WH",
    "purchase_order_ref": "REC-0A1B2C3D4E5F",
    "received_at": "2026-12-18T14:00:00Z",
    "lines": [{"sku": "SKU-1", "quantity": "38", "lot": "L-2026-12"}],
}

_BILL_EXAMPLE = {
    "external_ref": "INV-88001",
    "source": "acme-portal",
    "direction": "supplier",
    "partner_ref": "ACME",
    "order_refs": ["REC-0A1B2C3D4E5F"],
    "currency": "USD",
    "invoice_date": "2026-12-19",
    "lines": [{"sku": "SKU-1", "description": "Widget", "quantity": "38", "unit_price": "4.00"}],
    "charges": [{"type": "freight", "amount": "25.00"}],
}

_COST_BILL_EXAMPLE = {
    "external_ref": "FRT-4471",
    "source": "carrier-portal",
    "partner_ref": "FASTFREIGHT",
    "currency": "USD",
    "bill_date": "2026-12-20",
    "charges": [
        {"type": "freight", "amount": "285.00", "split_method": "by_weight"},
        {"type": "duty", "amount": "120.00", "description": "Customs duty entry 7781"},
    ],
}


Receive = Callable[..., Received]
"""The seam's function for one kind of message: ``(conn, ref, message, *, now, via)``."""


@dataclass(frozen=True, slots=True)
class SupplierRoute:
    """One ``POST /v1/purchase-orders/{ref}/<path>`` route: the message's model, the seam's
    function that receives it, its OpenAPI example, and its name and description."""

    path: str
    name: str
    model: type[BaseModel]
    receive: Receive
    example: dict[str, Any]
    description: str


SUPPLIER_ROUTES = (
    SupplierRoute(
        "acknowledgement",
        "acknowledge",
        SupplierAcknowledgement,
        receive_acknowledgement,
        _ACK_EXAMPLE,
        "The supplier's acknowledgement: stored, then applied to the ERP's order per policy.",
    ),
    SupplierRoute(
        "shipments",
        "ship_notice",
        AdvanceShipNotice,
        receive_shipment,
        _ASN_EXAMPLE,
        "An advance ship notice: the receipt the warehouse should expect.",
    ),
    SupplierRoute(
        "receipts",
        "post_receipt",
        Receipt,
        receive_receipt,
        _RECEIPT_EXAMPLE,
        "A warehouse receipt: reconciled, then validated in the ERP or held for buying.",
    ),
    SupplierRoute(
        "bills",
        "post_bill",
        Invoice,
        receive_bill,
        _BILL_EXAMPLE,
        "A supplier's invoice: matched, then billed in the ERP or held for accounts payable.",
    ),
    SupplierRoute(
        "landed-costs",
        "post_cost_bill",
        CostBill,
        receive_cost_bill,
        _COST_BILL_EXAMPLE,
        "A carrier's or customs bill of charges: landed on the order's receipts in the ERP.",
    ),
)


def _endpoint(route: SupplierRoute) -> Callable[..., Awaitable[JSONResponse]]:
    async def endpoint(
        ref: str,
        request: Request,
        principal: Annotated[Principal, Depends(require("purchasing:write"))],
    ) -> JSONResponse:
        message = parse_json_body(route.model, await request.body())
        via = f"token:{principal.name}"
        return await _receive(
            request,
            ref,
            lambda conn: route.receive(conn, ref, message, now=time.time(), via=via),
        )

    endpoint.__name__ = route.name
    endpoint.__doc__ = route.description
    return endpoint


for _route in SUPPLIER_ROUTES:
    router.add_api_route(
        f"/{{ref}}/{_route.path}",
        _endpoint(_route),
        methods=["POST"],
        name=_route.name,
        description=_route.description,
        status_code=202,
        response_model=MessageAccepted,
        responses={200: {"description": "A duplicate, answered as the first time"}},
        openapi_extra=json_body(_route.model, _route.example),
    )
