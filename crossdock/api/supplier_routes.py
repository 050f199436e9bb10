"""Suppliers' figures and late purchase orders over HTTP (``purchasing:read``).

- ``GET /v1/replenishment/suppliers?since_days=&supplier=`` — per supplier, over the orders
  placed in the period: orders, on-time rate against the promised date, fill rate, late open
  orders (see :mod:`crossdock.flows.procurement.figures` for the definitions).
- ``GET /v1/replenishment/late-orders?limit=`` — purchase orders past their promised date with
  something still to come, the most overdue first, with the days late.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from crossdock.api.auth import Principal, require
from crossdock.api.query import StrictQueryRoute
from crossdock.engine import Engine
from crossdock.flows.procurement.figures import late_orders, order_statuses, supplier_figures

router = APIRouter(prefix="/v1/replenishment", tags=["replenishment"], route_class=StrictQueryRoute)


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.hub.engine
    return engine


def _num(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return format(value.normalize(), "f") if value != 0 else "0"


@router.get("/suppliers")
async def suppliers(
    request: Request,
    _: Annotated[Principal, Depends(require("purchasing:read"))],
    since_days: Annotated[int, Query(ge=1, le=3650)] = 90,
    supplier: Annotated[str | None, Query(min_length=1, max_length=120)] = None,
) -> dict[str, Any]:
    """On-time and fill rates per supplier over the orders of the last ``since_days`` days."""
    since = time.time() - since_days * 86400
    statuses = await _engine(request).db.read(
        lambda c: order_statuses(c, since=since, supplier=supplier)
    )
    today = datetime.now(UTC).date()
    return {
        "since_days": since_days,
        "items": [
            {
                "supplier_ref": f.supplier_ref,
                "orders": f.orders,
                "received_orders": f.received_orders,
                "on_time_orders": f.on_time_orders,
                "on_time_rate": _num(f.on_time_rate),
                "ordered": _num(f.ordered),
                "received": _num(f.received),
                "fill_rate": _num(f.fill_rate),
                "late_open_orders": f.late_open_orders,
            }
            for f in supplier_figures(statuses, today)
        ],
    }


@router.get("/late-orders")
async def late_purchase_orders(
    request: Request,
    _: Annotated[Principal, Depends(require("purchasing:read"))],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Purchase orders past their promised date with something still to come."""
    statuses = await _engine(request).db.read(lambda c: order_statuses(c))
    today = datetime.now(UTC).date()
    return {
        "items": [
            {
                "ref": o.ref,
                "supplier_ref": o.supplier_ref,
                "warehouse": o.warehouse,
                "purchase_order": o.purchase_order,
                "promised": o.promised.isoformat(),
                "days_late": o.days_late(today),
                "ordered": _num(o.ordered),
                "received": _num(o.received),
            }
            for o in late_orders(statuses, today)[:limit]
        ]
    }
