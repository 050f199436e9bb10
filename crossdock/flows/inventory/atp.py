"""Available-to-promise per channel: what a channel may sell of a SKU now.

    on hand     = the warehouse positions of the SKU over the channel's warehouses (>= 0 each)
    free        = on hand - quantities of open orders already in the ERP from those warehouses
    available   = free - open orders not in the ERP yet (accepted, no sale order) - safety buffer

An order not in the ERP yet reserves against the warehouses of its own channel; once it has sale
orders, against their warehouses. A channel counts every reservation that touches one of its
warehouses: channels sharing a warehouse never promise the same unit twice (conservative when
their warehouse lists only partly overlap). Orders leave the count when they are shipped (the
warehouse's pick events lower on-hand), cancelled or failed.

The buffer is the channel's rule for the SKU (by SKU, then category, then default): an absolute
quantity or a percentage of ``free``. Availability never goes below zero and is rounded down to
whole units for SKUs counted in ``unit`` (to 0.001 otherwise). ``low`` is availability at or below
the reorder threshold.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from sqlalchemy import Connection, select

from crossdock.flows.inventory.positions import CHUNK, from_units
from crossdock.flows.inventory.settings import InventorySettings
from crossdock.flows.inventory.tables import inventory_atp, stock_positions
from crossdock.flows.tables import orders

OPEN_STATES = ("accepted", "credit_hold", "confirmed", "released")
ZERO = Decimal(0)
WHOLE = Decimal(1)
FINE = Decimal("0.001")


@dataclass(frozen=True, slots=True)
class Reservation:
    """The open quantities of one order and the warehouses they come from."""

    order_id: str
    warehouses: frozenset[str]
    in_erp: bool
    lines: Mapping[str, Decimal]


@dataclass(frozen=True, slots=True)
class Availability:
    channel: str
    sku: str
    available: Decimal
    on_hand: Decimal
    reserved_erp: Decimal
    reserved_pending: Decimal
    buffer: Decimal
    unit: str
    threshold: Decimal | None

    @property
    def low(self) -> bool:
        return self.threshold is not None and self.available <= self.threshold


@dataclass
class AtpInputs:
    on_hand: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    """(warehouse, sku) -> on hand (negative positions count as zero)"""
    reservations: list[Reservation] = field(default_factory=list)
    published: dict[tuple[str, str], tuple[Decimal, bool]] = field(default_factory=dict)
    """(channel, sku) -> (last available published, low then)"""


class OrderLines:
    """What open orders reserve, parsed once per process: an order's lines never change, its ERP
    references only with its ``updated_at``."""

    def __init__(self) -> None:
        self._lines: dict[str, dict[str, Decimal]] = {}
        self._erp: dict[str, tuple[float, tuple[str, ...]]] = {}
        self._lock = threading.Lock()  # used from the database's reader threads

    def known(self, order_id: str) -> dict[str, Decimal] | None:
        """The lines of an order parsed before, without reading its body again."""
        with self._lock:
            return self._lines.get(order_id)

    def of(self, order_id: str, body: str) -> dict[str, Decimal]:
        with self._lock:
            return self._of(order_id, body)

    def _of(self, order_id: str, body: str) -> dict[str, Decimal]:
        lines = self._lines.get(order_id)
        if lines is None:
            lines = {}
            for line in json.loads(body).get("lines", []):
                sku = str(line.get("sku"))
                lines[sku] = lines.get(sku, ZERO) + Decimal(str(line.get("quantity", 0)))
            self._lines[order_id] = lines
        return lines

    def sale_order_warehouses(
        self, order_id: str, updated_at: float, erp: str, fallback: str
    ) -> tuple[str, ...]:
        """The warehouses of the order's sale orders (empty: not in the ERP yet)."""
        with self._lock:
            return self._sale_order_warehouses(order_id, updated_at, erp, fallback)

    def _sale_order_warehouses(
        self, order_id: str, updated_at: float, erp: str, fallback: str
    ) -> tuple[str, ...]:
        cached = self._erp.get(order_id)
        if cached is not None and cached[0] == updated_at:
            return cached[1]
        data: dict[str, Any] = json.loads(erp) if erp and erp != "{}" else {}
        found = tuple(
            sorted({str(so.get("warehouse") or fallback) for so in data.get("sale_orders") or []})
        )
        self._erp[order_id] = (updated_at, found)
        return found

    def forget(self, keep: set[str]) -> None:
        with self._lock:
            for order_id in [o for o in self._lines if o not in keep]:
                del self._lines[order_id]
            for order_id in [o for o in self._erp if o not in keep]:
                del self._erp[order_id]


def read_reservations(
    conn: Connection, settings: InventorySettings, cache: OrderLines
) -> list[Reservation]:
    """Every open order with its lines and warehouses."""
    rows = conn.execute(
        select(
            orders.c.id, orders.c.channel, orders.c.body, orders.c.erp, orders.c.updated_at
        ).where(orders.c.state.in_(OPEN_STATES))
    ).all()
    out: list[Reservation] = []
    for row in rows:
        lines = cache.of(row.id, row.body)
        channel_warehouses = settings.channels.get(row.channel) or settings.channels.get(
            "default", settings.warehouses[:1]
        )
        in_erp = cache.sale_order_warehouses(row.id, row.updated_at, row.erp, channel_warehouses[0])
        warehouses = frozenset(in_erp or channel_warehouses)
        out.append(Reservation(row.id, warehouses, bool(in_erp), lines))
    cache.forget({row.id for row in rows})
    return out


def read_on_hand(conn: Connection, skus: Iterable[str] | None) -> dict[tuple[str, str], Decimal]:
    """On hand per (warehouse, sku) for ``skus`` (every SKU when None)."""
    c = stock_positions.c
    query = select(c.warehouse, c.sku, c.quantity)
    totals: dict[tuple[str, str], Decimal] = {}
    if skus is None:
        batches: list[Any] = [conn.execute(query)]
    else:
        wanted = sorted(set(skus))
        batches = [
            conn.execute(query.where(c.sku.in_(wanted[i : i + CHUNK])))
            for i in range(0, len(wanted), CHUNK)
        ]
    for result in batches:
        for warehouse, sku, quantity in result:
            if quantity > 0:
                amount = from_units(quantity)
                key = (warehouse, sku)
                totals[key] = totals.get(key, ZERO) + amount
    return totals


def read_published(
    conn: Connection, channels: Iterable[str], skus: Iterable[str] | None
) -> dict[tuple[str, str], tuple[Decimal, bool]]:
    c = inventory_atp.c
    query = select(c.channel, c.sku, c.available, c.low).where(c.channel.in_(list(channels)))
    if skus is None:
        results: list[Any] = [conn.execute(query)]
    else:
        wanted = sorted(set(skus))
        results = [
            conn.execute(query.where(c.sku.in_(wanted[i : i + CHUNK])))
            for i in range(0, len(wanted), CHUNK)
        ]
    return {
        (row.channel, row.sku): (Decimal(row.available), bool(row.low))
        for result in results
        for row in result
    }


def published_skus(conn: Connection) -> set[str]:
    return {row[0] for row in conn.execute(select(inventory_atp.c.sku).distinct())}


def _round(value: Decimal, unit: str) -> Decimal:
    step = WHOLE if unit == "unit" else FINE
    return max(value, ZERO).quantize(step, rounding=ROUND_FLOOR)


def compute(
    inputs: AtpInputs, settings: InventorySettings, channels: Iterable[str], skus: Iterable[str]
) -> list[Availability]:
    """Availability of every SKU for every channel (see the module documentation)."""
    config = settings.config
    wanted = set(skus)
    skus = sorted(wanted)
    categories = {sku: config.category_of(sku) for sku in skus}
    units = {sku: config.unit_of(sku, categories[sku]) for sku in skus}
    out: list[Availability] = []
    for channel in channels:
        warehouses = set(settings.channels.get(channel) or settings.warehouses[:1])
        rules = settings.channel(channel)
        # One pass over the open orders' lines, not one per SKU: a publication of thousands of
        # SKUs with thousands of open orders stays linear.
        reserved: tuple[dict[str, Decimal], dict[str, Decimal]] = ({}, {})  # in ERP, pending
        for reservation in inputs.reservations:
            if reservation.warehouses & warehouses:
                totals = reserved[0] if reservation.in_erp else reserved[1]
                for sku, quantity in reservation.lines.items():
                    if sku in wanted:
                        totals[sku] = totals.get(sku, ZERO) + quantity
        for sku in skus:
            category = categories[sku]
            on_hand = sum((inputs.on_hand.get((w, sku), ZERO) for w in warehouses), ZERO)
            in_erp = reserved[0].get(sku, ZERO)
            pending = reserved[1].get(sku, ZERO)
            free = on_hand - in_erp
            buffer_rule = rules.buffer.skus.get(sku) or (
                rules.buffer.categories.get(category) if category else None
            )
            buffer_rule = buffer_rule or rules.buffer.default
            buffer = buffer_rule.amount(free) if buffer_rule is not None else ZERO
            threshold = rules.reorder.skus.get(sku)
            if threshold is None and category is not None:
                threshold = rules.reorder.categories.get(category)
            if threshold is None:
                threshold = rules.reorder.default
            out.append(
                Availability(
                    channel,
                    sku,
                    _round(free - pending - buffer, units[sku]),
                    on_hand,
                    in_erp,
                    pending,
                    buffer,
                    units[sku],
                    threshold,
                )
            )
    return out
