"""Stock deltas from the warehouse: validation, then one set-based write per request.

**Sequences.** Each warehouse numbers its events (``sequence``, from 1). Deltas add up, so their
order does not change the result: every delta is applied once, as soon as it arrives, whatever
its order. A sequence already applied — or included in the warehouse's last count — is a
*duplicate*: ignored and reported. A sequence above the next expected one leaves a *gap*
(recorded in ``stock_gaps``, reported, visible in ``GET /v1/inventory/warehouses/{code}``); the
missing events are applied when they arrive and the gap closes. The first sequence ever received
from a warehouse starts its numbering (no gap before it).

**Sign rules.** ``quantity`` is the signed change at ``location``: a ``receipt`` is positive, a
``pick`` negative, an ``adjustment`` any non-zero amount; a ``transfer`` changes ``location`` by
``quantity`` and ``counterpart_location`` by the opposite.

A request is validated whole first (warehouse, SKU, unit, signs): one bad event refuses the
request, nothing is written. The write — journal, positions, sequence state, the sync loop's clock
— is one set-based transaction (:func:`apply_requests`; ``APPLY`` offers it to the engine's group
commit as a `Batched` kind for callers that want it merged with their own writes).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import Connection, delete, insert, select

from crossdock.engine import Batched, insert_values
from crossdock.flows.inventory.positions import (
    Key,
    add_to_positions,
    note_change,
    qtext,
    to_units,
)
from crossdock.flows.inventory.settings import InventorySettings
from crossdock.flows.inventory.tables import stock_gaps, stock_warehouses

Text255 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=16)]
SkuText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]

KINDS = ("receipt", "pick", "adjustment", "transfer")
MAX_LISTED = 100  # duplicates and problems listed in one answer; the counts are always complete


class StockDeltaIn(BaseModel):
    """One stock movement at one location of one warehouse."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = Field(
        default=None, description="The sender's own id of the event (kept in the journal)."
    )
    kind: Literal["receipt", "pick", "adjustment", "transfer"]
    warehouse: Code = Field(description="Warehouse code (one of `inventory.warehouses`).")
    location: Text255 = Field(description="Location inside the warehouse.")
    counterpart_location: Text255 | None = Field(
        default=None, description="Transfers: the other side, which changes by the opposite."
    )
    sku: SkuText
    quantity: Decimal = Field(
        max_digits=18,
        decimal_places=6,
        description="Signed change at `location` (at most 6 decimals, below 10^12).",
    )
    unit: Annotated[str, StringConstraints(min_length=1, max_length=16)] = Field(
        description="Unit of `quantity`: the unit the SKU is counted in."
    )
    occurred_at: AwareDatetime
    sequence: int = Field(ge=1, le=2**62, description="Per-warehouse sequence number.")


class StockEventsIn(BaseModel):
    """A batch of stock movements (send many per request: thousands are fine)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    events: list[StockDeltaIn] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class Delta:
    warehouse: str
    sequence: int
    kind: str
    location: str
    counterpart: str | None
    sku: str
    quantity: Decimal
    unit: str
    occurred_at: float
    event_id: str | None


@dataclass(frozen=True, slots=True)
class Issue:
    """A rule an input broke: where (JSON pointer or line number), which rule, why."""

    pointer: str
    rule: str
    detail: str
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"pointer": self.pointer, "rule": self.rule, "detail": self.detail}
        if self.line is not None:
            out["line"] = self.line
        return out


@dataclass
class DeltaReport:
    """What one request did."""

    received: int = 0
    applied: int = 0
    duplicates: list[int] = field(default_factory=list)
    duplicate_count: int = 0
    gaps_opened: list[tuple[str, int, int]] = field(default_factory=list)
    gaps_filled: int = 0
    positions_changed: int = 0
    ring: bool = False
    keys: set[tuple[str, str, str]] = field(default_factory=set, repr=False)

    def merge(self, part: DeltaReport) -> None:
        """Add what another part of the same request did."""
        self.received += part.received
        self.applied += part.applied
        room = MAX_LISTED - len(self.duplicates)
        self.duplicates += part.duplicates[: max(room, 0)]
        self.duplicate_count += part.duplicate_count
        self.gaps_opened += part.gaps_opened
        self.gaps_filled += part.gaps_filled
        self.keys |= part.keys
        self.positions_changed = len(self.keys)
        self.ring = self.ring or part.ring

    def body(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "applied": self.applied,
            "duplicates": {"count": self.duplicate_count, "sequences": self.duplicates},
            "gaps": {
                "opened": [{"warehouse": w, "from": a, "to": b} for w, a, b in self.gaps_opened],
                "filled": self.gaps_filled,
            },
            "positions_changed": self.positions_changed,
        }


def check_deltas(
    body: StockEventsIn, settings: InventorySettings
) -> tuple[list[Delta], list[Issue]]:
    """The request's deltas, or every rule they broke (except unknown SKUs: see
    :func:`unknown_sku_issues`)."""
    known = set(settings.warehouses)
    config = settings.config
    issues: list[Issue] = []
    deltas: list[Delta] = []
    unit_cache: dict[str, str] = {}
    zero = Decimal(0)
    for index, event in enumerate(body.events):
        at = f"/events/{index}"
        if event.warehouse not in known:
            issues.append(
                Issue(
                    f"{at}/warehouse",
                    "unknown_warehouse",
                    f"unknown warehouse {event.warehouse!r} (known: {', '.join(sorted(known))})",
                )
            )
        unit = unit_cache.get(event.sku)
        if unit is None:
            unit = unit_cache[event.sku] = config.unit_of(event.sku)
        if event.unit != unit:
            issues.append(
                Issue(
                    f"{at}/unit",
                    "wrong_unit",
                    f"{event.sku} is counted in {unit!r}, not {event.unit!r}",
                )
            )
        q = event.quantity
        sign_problem = None
        if event.kind == "receipt" and q <= zero:
            sign_problem = "a receipt adds stock: quantity must be > 0"
        elif event.kind == "pick" and q >= zero:
            sign_problem = "a pick takes stock out: quantity must be < 0"
        elif event.kind in ("adjustment", "transfer") and q == zero:
            sign_problem = f"an {event.kind} of 0 changes nothing: quantity must not be 0"
        if sign_problem:
            issues.append(Issue(f"{at}/quantity", "quantity_sign", sign_problem))
        if event.kind == "transfer":
            if event.counterpart_location is None:
                issues.append(
                    Issue(
                        f"{at}/counterpart_location",
                        "required",
                        "a transfer needs counterpart_location (where the quantity goes)",
                    )
                )
            elif event.counterpart_location == event.location:
                issues.append(
                    Issue(
                        f"{at}/counterpart_location",
                        "same_location",
                        "a transfer must move stock to another location",
                    )
                )
        elif event.counterpart_location is not None:
            issues.append(
                Issue(
                    f"{at}/counterpart_location",
                    "not_allowed",
                    "only a transfer has a counterpart_location",
                )
            )
        if not issues:
            deltas.append(
                Delta(
                    event.warehouse,
                    event.sequence,
                    event.kind,
                    event.location,
                    event.counterpart_location,
                    event.sku,
                    q,
                    unit,
                    event.occurred_at.timestamp(),
                    event.id,
                )
            )
    return deltas, issues


def unknown_sku_issues(body: StockEventsIn, unknown: set[str]) -> list[Issue]:
    return [
        Issue(f"/events/{i}/sku", "unknown_sku", f"{e.sku!r} is not a storable product of the ERP")
        for i, e in enumerate(body.events)
        if e.sku in unknown
    ]


# -- the write ---------------------------------------------------------------------------------


@dataclass
class WarehouseState:
    """Sequence bookkeeping of one warehouse inside a write."""

    max_sequence: int | None
    snapshot_sequence: int | None
    snapshot_as_of: float | None
    gaps: list[list[int]]  # [first, last], sorted
    exists: bool
    changed: bool = False
    gaps_changed: bool = False

    def superseded(self, delta: Delta) -> bool:
        """Included in the last count: by sequence when the count gave one, else by time."""
        if self.snapshot_sequence is not None:
            return delta.sequence <= self.snapshot_sequence
        return self.snapshot_as_of is not None and delta.occurred_at <= self.snapshot_as_of

    def admit(self, sequence: int) -> tuple[bool, tuple[int, int] | None, bool]:
        """(new?, gap opened, gap filled) for a sequence, updating the state."""
        if self.max_sequence is None:
            self.max_sequence = sequence
            self.changed = True
            return True, None, False
        if sequence > self.max_sequence:
            opened = None
            if sequence > self.max_sequence + 1:
                opened = (self.max_sequence + 1, sequence - 1)
                self.gaps.append([opened[0], opened[1]])
                self.gaps_changed = True
            self.max_sequence = sequence
            self.changed = True
            return True, opened, False
        for index, (first, last) in enumerate(self.gaps):
            if first <= sequence <= last:
                replacement = []
                if first < sequence:
                    replacement.append([first, sequence - 1])
                if sequence < last:
                    replacement.append([sequence + 1, last])
                self.gaps[index : index + 1] = replacement
                self.gaps_changed = True
                return True, None, True
        return False, None, False


def load_warehouses(conn: Connection, codes: Iterable[str]) -> dict[str, WarehouseState]:
    codes = sorted(set(codes))
    states = {c: WarehouseState(None, None, None, [], False) for c in codes}
    for row in conn.execute(
        select(stock_warehouses).where(stock_warehouses.c.warehouse.in_(codes))
    ):
        state = states[row.warehouse]
        state.max_sequence = row.max_sequence
        state.snapshot_sequence = row.snapshot_sequence
        state.snapshot_as_of = row.snapshot_as_of
        state.exists = True
    gaps = conn.execute(
        select(stock_gaps)
        .where(stock_gaps.c.warehouse.in_(codes))
        .order_by(stock_gaps.c.warehouse, stock_gaps.c.first_sequence)
    )
    for row in gaps:
        states[row.warehouse].gaps.append([row.first_sequence, row.last_sequence])
    return states


def save_warehouses(conn: Connection, states: dict[str, WarehouseState], now: float) -> None:
    for code, state in states.items():
        if state.changed or not state.exists:
            values = {
                "max_sequence": state.max_sequence,
                "snapshot_sequence": state.snapshot_sequence,
                "snapshot_as_of": state.snapshot_as_of,
                "updated_at": now,
            }
            if state.exists:
                conn.execute(
                    stock_warehouses.update()
                    .where(stock_warehouses.c.warehouse == code)
                    .values(**values)
                )
            else:
                conn.execute(insert(stock_warehouses).values(warehouse=code, **values))
                state.exists = True
        if state.gaps_changed:
            conn.execute(delete(stock_gaps).where(stock_gaps.c.warehouse == code))
            if state.gaps:
                conn.execute(
                    insert(stock_gaps),
                    [
                        {
                            "warehouse": code,
                            "first_sequence": a,
                            "last_sequence": b,
                            "opened_at": now,
                        }
                        for a, b in state.gaps
                    ],
                )


_JOURNAL = (
    "INSERT INTO stock_events (warehouse, sequence, kind, location, to_location, sku, quantity, "
    "unit, occurred_at, received_at, event_id)"
)


def in_order(deltas: list[Delta]) -> list[Delta]:
    """Deltas by warehouse and sequence: the order they are admitted in."""
    return sorted(deltas, key=lambda d: (d.warehouse, d.sequence))


def apply_requests(conn: Connection, requests: list[list[Delta]]) -> list[DeltaReport]:
    """Apply requests of checked deltas in one transaction; one report per request."""
    now = time.time()
    states = load_warehouses(conn, {d.warehouse for req in requests for d in req})
    reports: list[DeltaReport] = []
    fresh: list[Delta] = []
    for req in requests:
        report = DeltaReport(received=len(req))
        keys: set[tuple[str, str, str]] = set()
        for delta in in_order(req):
            state = states[delta.warehouse]
            # A delta the last count includes still closes its gap, but is not applied again.
            new, opened, filled = state.admit(delta.sequence)
            if opened is not None:
                report.gaps_opened.append((delta.warehouse, *opened))
            report.gaps_filled += filled
            if new and not state.superseded(delta):
                fresh.append(delta)
                report.applied += 1
                keys.add((delta.warehouse, delta.location, delta.sku))
                if delta.counterpart is not None:
                    keys.add((delta.warehouse, delta.counterpart, delta.sku))
            else:
                report.duplicate_count += 1
                if len(report.duplicates) < MAX_LISTED:
                    report.duplicates.append(delta.sequence)
        report.positions_changed = len(keys)
        report.keys = keys
        reports.append(report)
    save_warehouses(conn, states, now)
    if not fresh:
        return reports
    insert_values(
        conn,
        _JOURNAL,
        [
            (
                d.warehouse,
                d.sequence,
                d.kind,
                d.location,
                d.counterpart,
                d.sku,
                qtext(d.quantity),
                d.unit,
                d.occurred_at,
                now,
                d.event_id,
            )
            for d in fresh
        ],
    )
    apply_to_positions(conn, fresh, now)
    if note_change(conn, now):
        reports[0].ring = True
    return reports


def apply_to_positions(conn: Connection, deltas: list[Delta], now: float) -> int:
    """Add deltas to their positions (transfers to both sides); returns positions written."""
    sums: dict[Key, list[Any]] = {}  # key -> [sum in units, unit, max sequence, max time]
    for d in deltas:
        amount = to_units(d.quantity)
        sides = [((d.warehouse, d.location, d.sku), amount)]
        if d.counterpart is not None:
            sides.append(((d.warehouse, d.counterpart, d.sku), -amount))
        for key, change in sides:
            entry = sums.get(key)
            if entry is None:
                sums[key] = [change, d.unit, d.sequence, d.occurred_at]
            else:
                entry[0] += change
                if d.sequence > entry[2]:
                    entry[2] = d.sequence
                if d.occurred_at > entry[3]:
                    entry[3] = d.occurred_at
    add_to_positions(
        conn,
        [(key[0], key[1], key[2], e[0], e[1], e[2], e[3]) for key, e in sums.items()],
        now,
    )
    return len(sums)


APPLY: Batched[list[Delta], DeltaReport] = Batched("inventory.deltas", apply_requests)
"""The batched write behind ``POST /v1/inventory/events``."""
