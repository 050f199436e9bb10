"""Writing stock positions, set-based: one multi-row upsert per change, the arithmetic done by the
database on exact integers (millionths of the unit), so no row is read before it is written.

A position carries three versions: ``version`` (bumped on every change), ``erp_version`` (what the
ERP was last written with) and ``atp_version`` (what the channels were last told about): the sync
loop finds its work where they differ. Every function runs inside a transaction of the engine's
writer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select, update

from crossdock.engine import insert_values
from crossdock.errors import CrossdockError
from crossdock.flows.inventory.tables import inventory_sync, stock_positions

Key = tuple[str, str, str]
"""(warehouse, location, sku)"""
Row = tuple[str, str, str, int, str, int | None, float]
"""A position change: (warehouse, location, sku, quantity in millionths, unit, last sequence,
as_of) — the quantity is added (deltas) or set (counts)."""

CHUNK = 300
SYNC_ROW = "inventory"
SCALE = 6
"""Positions keep quantities in millionths of the unit."""
_FACTOR = Decimal(10) ** SCALE


class TooPrecise(CrossdockError, ValueError):
    """A quantity with more decimals than positions keep."""


def to_units(value: Decimal) -> int:
    """``Decimal("12.5")`` -> ``12_500_000``; raises :class:`TooPrecise` beyond 6 decimals."""
    scaled = value * _FACTOR
    if scaled != scaled.to_integral_value():
        raise TooPrecise(f"at most {SCALE} decimals")
    return int(scaled)


_UNIT = 10**SCALE


def from_units(units: int) -> Decimal:
    whole, rest = divmod(int(units), _UNIT)
    if not rest:  # the usual case, and the cheap one
        return Decimal(whole)
    return (Decimal(int(units)) / _FACTOR).normalize()


def qtext(value: Decimal) -> str:
    """Exact, plain decimal text: ``Decimal("10.50")`` -> ``"10.5"``, never an exponent."""
    whole = int(value)
    if whole == value:
        return str(whole)
    return format(value.normalize(), "f")


@dataclass(slots=True)
class Current:
    quantity: Decimal
    unit: str
    last_sequence: int | None
    as_of: float
    version: int


def warehouse_rows(conn: Connection, warehouse: str) -> dict[Key, Current]:
    """Every position of one warehouse."""
    c = stock_positions.c
    rows = conn.execute(
        select(
            c.warehouse, c.location, c.sku, c.quantity, c.unit, c.last_sequence, c.as_of, c.version
        ).where(c.warehouse == warehouse)
    )
    return {
        (r.warehouse, r.location, r.sku): Current(
            from_units(r.quantity), r.unit, r.last_sequence, r.as_of, r.version
        )
        for r in rows
    }


_UPSERT_HEAD = (
    "INSERT INTO stock_positions (warehouse, location, sku, quantity, unit, last_sequence, "
    "as_of, updated_at, version, erp_version, atp_version)"
)
_UPSERT_ROW = "(?, ?, ?, ?, ?, ?, ?, ?, 1, 0, 0)"


def _upsert(conn: Connection, rows: Sequence[tuple[Any, ...]], *, add: bool) -> None:
    """Rows of distinct keys (the callers sum or count per position)."""
    greatest = "GREATEST" if conn.dialect.name == "postgresql" else "MAX"
    quantity = "stock_positions.quantity + excluded.quantity" if add else "excluded.quantity"
    tail = (
        "ON CONFLICT (warehouse, location, sku) DO UPDATE SET "
        f"quantity = {quantity}, unit = excluded.unit, "
        f"last_sequence = {greatest}(COALESCE(stock_positions.last_sequence, 0), "
        "COALESCE(excluded.last_sequence, 0)), "
        f"as_of = {greatest}(stock_positions.as_of, excluded.as_of), "
        "updated_at = excluded.updated_at, version = stock_positions.version + 1"
    )
    insert_values(conn, _UPSERT_HEAD, rows, tail, _UPSERT_ROW)


def add_to_positions(conn: Connection, rows: Sequence[Row], now: float) -> None:
    """Add deltas to positions (a missing position starts at zero)."""
    _upsert(conn, [(*row, now) for row in rows], add=True)


def set_positions(conn: Connection, rows: Sequence[Row], now: float) -> None:
    """Set positions to counted quantities."""
    _upsert(conn, [(*row, now) for row in rows], add=False)


_MARK_HEAD = "INSERT INTO inventory_sku_changes (sku, version, published_version, changed_at)"
_MARK_TAIL = (
    "ON CONFLICT (sku) DO UPDATE SET "
    "version = inventory_sku_changes.version + 1, changed_at = excluded.changed_at"
)


def mark_skus_changed(conn: Connection, skus: Iterable[str], now: float) -> None:
    """Availability of ``skus`` may have changed for another reason than stock (orders): the next
    publication recomputes them."""
    rows = [(sku, now) for sku in sorted(set(skus))]
    insert_values(conn, _MARK_HEAD, rows, _MARK_TAIL, "(?, 1, 0, ?)")


def note_change(conn: Connection, now: float) -> bool:
    """Move the sync loop's change clock; True when this caller must ring the loop (no request
    was waiting: the caller appends one once its transaction is committed)."""
    s = inventory_sync.c
    flipped = conn.execute(
        update(inventory_sync).where(s.name == SYNC_ROW, s.pending.is_(False)).values(pending=True)
    ).rowcount
    conn.execute(
        update(inventory_sync)
        .where(s.name == SYNC_ROW)
        .values(
            last_change_at=now,
            unflushed_since=func.coalesce(s.unflushed_since, now),
            unpublished_since=func.coalesce(s.unpublished_since, now),
        )
    )
    return bool(flipped)
