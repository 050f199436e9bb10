"""Reading the stock positions: the warehouse's current view, for the API, the sync loop and
reconciliation.

A position is what the warehouse system says is on hand at one location: its last count
(snapshot) plus every delta applied after it. Quantities are exact (``Decimal``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Connection, select

from crossdock.flows.inventory.positions import from_units
from crossdock.flows.inventory.tables import stock_positions

__all__ = ["Position", "warehouse_positions"]


@dataclass(frozen=True, slots=True)
class Position:
    """What is on hand of one SKU at one location of a warehouse, as the warehouse sees it."""

    warehouse: str
    location: str
    sku: str
    quantity: Decimal
    unit: str
    as_of: datetime


def warehouse_positions(conn: Connection, warehouse: str | None = None) -> list[Position]:
    """Every position of ``warehouse`` (all warehouses when ``None``), ordered by warehouse,
    location and SKU: the last count plus the deltas applied after it."""
    query = select(
        stock_positions.c.warehouse,
        stock_positions.c.location,
        stock_positions.c.sku,
        stock_positions.c.quantity,
        stock_positions.c.unit,
        stock_positions.c.as_of,
    ).order_by(stock_positions.c.warehouse, stock_positions.c.location, stock_positions.c.sku)
    if warehouse is not None:
        query = query.where(stock_positions.c.warehouse == warehouse)
    return [
        Position(
            row.warehouse,
            row.location,
            row.sku,
            from_units(row.quantity),
            row.unit,
            datetime.fromtimestamp(row.as_of, UTC),
        )
        for row in conn.execute(query)
    ]
