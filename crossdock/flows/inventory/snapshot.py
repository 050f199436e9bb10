"""Full counts of a warehouse (snapshots): streamed NDJSON or CSV, checked line by line, then
applied in one transaction.

**Parsing.** Lines are read as the body arrives, never held as one document: NDJSON objects
(``{"location": "A-01", "sku": "SKU-1", "quantity": 12, "unit": "unit"}``) or CSV with a header
naming ``location``, ``sku``, ``quantity`` and optionally ``unit``. Every bad line is reported with
its number (1 = the first line of the body, the CSV header included) and the rule it broke:
malformed, missing field, negative on-hand, wrong unit, unknown SKU, a position counted twice.

**Superseding.** A count says what was on hand at ``sequence`` (the last warehouse event it
includes) or, without one, at ``as_of``. Deltas it includes are dropped from the journal; deltas
after it are replayed on top, so a count that arrives late loses nothing. A position the count does
not list is zero (a full count) — unless lines were rejected under ``apply_valid``, where unlisted
positions keep their quantity. A count older than the warehouse's last one is refused (409).
"""

from __future__ import annotations

import csv
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from crossdock.errors import CrossdockError
from crossdock.flows.inventory.deltas import Issue, load_warehouses, save_warehouses
from crossdock.flows.inventory.positions import (
    Key,
    Row,
    TooPrecise,
    note_change,
    set_positions,
    to_units,
    warehouse_rows,
)
from crossdock.flows.inventory.settings import InventorySettings
from crossdock.flows.inventory.tables import stock_events, stock_snapshots, stock_warehouses

MAX_LINE_BYTES = 4096
MAX_QUANTITY = Decimal(10) ** 12
MAX_ISSUES = 100_000  # beyond this many bad lines the count is hopeless: stop reading
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")
CSV_TYPES = ("text/csv", "application/csv")
_FIELDS = ("location", "sku", "quantity", "unit")


class SnapshotConflict(CrossdockError):
    """The count is older than the one the warehouse's positions already come from."""


@dataclass
class ParsedSnapshot:
    counts: dict[tuple[str, str], tuple[Decimal, str, int]] = field(default_factory=dict)
    """(location, sku) -> (quantity, unit, line)"""
    issues: list[Issue] = field(default_factory=list)
    lines: int = 0
    touched: set[tuple[str, str]] = field(default_factory=set)
    """Positions named by rejected lines (kept as they are under ``apply_valid``)."""
    sku_lines: dict[str, list[int]] = field(default_factory=dict)

    def reject(self, line: int, pointer: str, rule: str, detail: str) -> None:
        self.issues.append(Issue(pointer, rule, detail, line=line))


def media_kind(content_type: str | None) -> str | None:
    """``ndjson`` or ``csv`` for a Content-Type, else None."""
    base = (content_type or "").split(";", 1)[0].strip().lower()
    if base in NDJSON_TYPES:
        return "ndjson"
    if base in CSV_TYPES:
        return "csv"
    return None


async def lines_of(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[int, bytes]]:
    """Numbered lines of a streamed body (a trailing line without newline included)."""
    number = 0
    rest = b""
    async for chunk in chunks:
        if not chunk:
            continue
        data = rest + chunk
        parts = data.split(b"\n")
        rest = parts.pop()
        for part in parts:
            number += 1
            yield number, part
        if len(rest) > MAX_LINE_BYTES * 4:
            number += 1
            yield number, rest
            rest = b""
    if rest:
        yield number + 1, rest


async def parse(
    kind: str, chunks: AsyncIterator[bytes], settings: InventorySettings
) -> ParsedSnapshot:
    """Read and check every line (SKUs are checked against the known SKUs afterwards)."""
    out = ParsedSnapshot()
    config = settings.config
    units: dict[str, str] = {}
    header: list[str] | None = None
    async for number, raw in lines_of(chunks):
        out.lines = number
        if len(out.issues) >= MAX_ISSUES:
            break
        text = raw.strip()
        if not text:
            continue
        if len(raw) > MAX_LINE_BYTES:
            out.reject(number, "/", "line_too_long", f"longer than {MAX_LINE_BYTES} bytes")
            continue
        try:
            decoded = text.decode("utf-8")
        except UnicodeDecodeError:
            out.reject(number, "/", "malformed", "not UTF-8 text")
            continue
        if kind == "csv":
            try:
                row = next(csv.reader([decoded]))
            except csv.Error as exc:
                out.reject(number, "/", "malformed", f"not CSV: {exc}")
                continue
            if header is None:
                header = [c.strip().lower() for c in row]
                missing = [f for f in _FIELDS[:3] if f not in header]
                unknown = [c for c in header if c not in _FIELDS]
                if missing or unknown:
                    out.reject(
                        number,
                        "/",
                        "csv_header",
                        "the first line must name the columns location, sku, quantity "
                        "and optionally unit"
                        + (f" (missing: {', '.join(missing)})" if missing else "")
                        + (f" (unknown: {', '.join(unknown)})" if unknown else ""),
                    )
                    return out
                continue
            if len(row) != len(header):
                out.reject(
                    number,
                    "/",
                    "malformed",
                    f"{len(row)} columns where the header has {len(header)}",
                )
                continue
            record: Any = dict(zip(header, row, strict=True))
        else:
            try:
                record = json.loads(decoded)
            except json.JSONDecodeError as exc:
                out.reject(number, "/", "malformed", f"not JSON: {exc.msg}")
                continue
            except RecursionError:
                out.reject(number, "/", "malformed", "not a position: nested too deep")
                continue
            if not isinstance(record, dict):
                out.reject(number, "/", "malformed", "each line must be a JSON object")
                continue
        _check_line(out, number, record, config, units)
    return out


def _check_line(
    out: ParsedSnapshot, number: int, record: dict[str, Any], config: Any, units: dict[str, str]
) -> None:
    unknown = [k for k in record if k not in _FIELDS]
    if unknown:
        out.reject(number, f"/{unknown[0]}", "unknown_field", f"unknown field {unknown[0]!r}")
        return
    location, sku = record.get("location"), record.get("sku")
    bad = False
    for name, value, limit in (("location", location, 255), ("sku", sku, 128)):
        if not isinstance(value, str) or not value.strip():
            out.reject(number, f"/{name}", "required", f"{name}: a non-empty text is required")
            bad = True
        elif len(value.strip()) > limit:
            out.reject(number, f"/{name}", "too_long", f"{name}: at most {limit} characters")
            bad = True
    if bad:
        return
    assert isinstance(location, str) and isinstance(sku, str)
    key = (location.strip(), sku.strip())
    sku = key[1]
    raw = record.get("quantity")
    quantity: Decimal | None = None
    if isinstance(raw, bool) or raw is None or raw == "":
        out.reject(number, "/quantity", "required", "quantity: a number is required")
    else:
        try:
            quantity = Decimal(str(raw).strip())
        except InvalidOperation:
            quantity = None
        if quantity is None or not quantity.is_finite():
            out.reject(number, "/quantity", "number", "quantity: not a number")
            quantity = None
        elif quantity < 0:
            out.reject(number, "/quantity", "negative_on_hand", "quantity: on hand cannot be < 0")
            quantity = None
        elif quantity >= MAX_QUANTITY:
            out.reject(number, "/quantity", "too_large", f"quantity: below {MAX_QUANTITY}")
            quantity = None
        else:
            try:
                to_units(quantity)
            except TooPrecise:
                out.reject(number, "/quantity", "decimals", "quantity: at most 6 decimals")
                quantity = None
    unit = units.get(sku)
    if unit is None:
        unit = units[sku] = config.unit_of(sku)
    given = record.get("unit")
    if given not in (None, "") and given != unit:
        out.reject(number, "/unit", "wrong_unit", f"{sku} is counted in {unit!r}, not {given!r}")
        quantity = None
    if quantity is None:
        out.touched.add(key)
        return
    first = out.counts.get(key)
    if first is not None:
        out.reject(
            number,
            "/",
            "duplicate_line",
            f"{key[1]} at {key[0]} is already counted on line {first[2]}",
        )
        out.touched.add(key)
        return
    out.counts[key] = (quantity, unit, number)
    lines = out.sku_lines.setdefault(sku, [])
    if len(lines) < 5:
        lines.append(number)


def reject_unknown_skus(parsed: ParsedSnapshot, unknown: set[str]) -> None:
    """Turn the lines of unknown SKUs into issues."""
    if not unknown:
        return
    for key in [k for k in parsed.counts if k[1] in unknown]:
        _, _, line = parsed.counts.pop(key)
        parsed.touched.add(key)
        parsed.reject(line, "/sku", "unknown_sku", f"{key[1]!r} is not a storable product")


@dataclass
class SnapshotReport:
    id: str
    warehouse: str
    lines: int
    applied: int
    rejected: int
    positions_changed: int
    deltas_superseded: int
    deltas_replayed: int
    ring: bool = False

    def body(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "warehouse": self.warehouse,
            "lines": self.lines,
            "applied": self.applied,
            "rejected": self.rejected,
            "positions_changed": self.positions_changed,
            "deltas_superseded": self.deltas_superseded,
            "deltas_replayed": self.deltas_replayed,
        }


def apply_snapshot(
    conn: Connection,
    warehouse: str,
    parsed: ParsedSnapshot,
    *,
    sequence: int | None,
    as_of: float,
    complete: bool,
) -> SnapshotReport:
    """Make the count the warehouse's positions (see the module documentation)."""
    now = time.time()
    state = load_warehouses(conn, [warehouse])[warehouse]
    if sequence is not None and state.snapshot_sequence is not None:
        if sequence < state.snapshot_sequence:
            raise SnapshotConflict(
                f"the count at sequence {sequence} is older than the one applied "
                f"(sequence {state.snapshot_sequence})"
            )
    elif state.snapshot_as_of is not None and as_of < state.snapshot_as_of:
        raise SnapshotConflict("the count is older than the one applied")
    journal = conn.execute(
        select(
            stock_events.c.sequence,
            stock_events.c.location,
            stock_events.c.to_location,
            stock_events.c.sku,
            stock_events.c.quantity,
            stock_events.c.unit,
            stock_events.c.occurred_at,
        ).where(stock_events.c.warehouse == warehouse)
    ).all()

    def included(seq: int, at: float) -> bool:
        return seq <= sequence if sequence is not None else at <= as_of

    superseded = [row.sequence for row in journal if included(row.sequence, row.occurred_at)]
    after = [row for row in journal if not included(row.sequence, row.occurred_at)]
    target: dict[Key, list[Any]] = {}  # key -> [quantity, unit, last sequence, as_of]
    for (location, sku), (quantity, unit, _) in parsed.counts.items():
        target[(warehouse, location, sku)] = [quantity, unit, sequence, as_of]
    current = warehouse_rows(conn, warehouse)
    if complete:
        for key, row in current.items():
            if key not in target:
                target[key] = [Decimal(0), row.unit, sequence, as_of]
    for event in after:
        sides = [(event.location, Decimal(event.quantity))]
        if event.to_location is not None:
            sides.append((event.to_location, -Decimal(event.quantity)))
        for location, amount in sides:
            key = (warehouse, location, event.sku)
            entry = target.get(key)
            if entry is None:
                base = current.get(key)
                if base is None or not complete:
                    # Not counted and not to be zeroed: the delta is already in the position.
                    continue
                entry = target[key] = [Decimal(0), base.unit, sequence, as_of]
            entry[0] += amount
            entry[2] = max(entry[2] or 0, event.sequence)
            entry[3] = max(entry[3], event.occurred_at)
    rows: list[Row] = []
    for key, (quantity, unit, last, at) in target.items():
        before = current.get(key)
        if before is not None and before.quantity == quantity and before.unit == unit:
            continue
        rows.append((*key, to_units(quantity), unit, last, at))
    set_positions(conn, rows, now)
    if superseded:
        e = stock_events.c
        included_clause = e.sequence <= sequence if sequence is not None else e.occurred_at <= as_of
        conn.execute(delete(stock_events).where(e.warehouse == warehouse, included_clause))
    snapshot_id = str(uuid.uuid4())
    state.snapshot_sequence = sequence
    state.snapshot_as_of = as_of
    if sequence is not None:
        state.max_sequence = max(state.max_sequence or 0, sequence)
        kept = [[a, b] for a, b in state.gaps if b > sequence]
        state.gaps = [[max(a, sequence + 1), b] for a, b in kept]
        state.gaps_changed = True
    state.changed = True
    save_warehouses(conn, {warehouse: state}, now)
    conn.execute(
        stock_warehouses.update()
        .where(stock_warehouses.c.warehouse == warehouse)
        .values(snapshot_id=snapshot_id)
    )
    rejected = len({i.line for i in parsed.issues})
    conn.execute(
        insert(stock_snapshots).values(
            id=snapshot_id,
            warehouse=warehouse,
            sequence=sequence,
            as_of=as_of,
            lines=parsed.lines,
            applied=len(parsed.counts),
            rejected=rejected,
            changed=len(rows),
            received_at=now,
        )
    )
    ring = note_change(conn, now) if rows else False
    return SnapshotReport(
        snapshot_id,
        warehouse,
        parsed.lines,
        len(parsed.counts),
        rejected,
        len(rows),
        len(superseded),
        len(after),
        ring,
    )
