"""Forecast lines in: parsing and per-line validation, pure (no I/O).

A forecast is lines of SKU, warehouse, period, quantity and an optional confidence, from CSV
(a header naming ``sku``, ``warehouse``, ``period``, ``quantity`` and optionally ``confidence``),
NDJSON (one object per line) or a JSON document (``{"lines": [...]}``). A period is a day
(``2026-12-07``), an ISO week (``2026-W50``, from its Monday) or a month (``2026-12``).

Every line is checked on its own and a bad one is reported with its line number (the CSV's
physical line, the header being line 1; the NDJSON's line; the JSON's position from 1), the field
and the rule it breaks: ``required``, ``number``, ``non_negative``, ``absurd`` (above the
configured maximum per period), ``range`` (a confidence outside 0..1), ``period`` (not a day,
week or month), ``duplicate`` (the same SKU, warehouse and period twice), ``unknown_warehouse``,
and later, with the ERP's answer, ``unknown_sku``.
"""

from __future__ import annotations

import calendar
import codecs
import csv
import json
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "FIELDS",
    "ForecastLine",
    "LineProblem",
    "Validator",
    "csv_records",
    "json_records",
    "ndjson_records",
    "parse_period",
]

FIELDS = ("sku", "warehouse", "period", "quantity", "confidence")
MAX_TEXT = 120
FIRST_YEAR, LAST_YEAR = 2000, 2199
"""A period outside these years is refused (``period``): no forecast plans that far."""


@dataclass(frozen=True, slots=True)
class ForecastLine:
    line: int
    sku: str
    warehouse: str
    period_start: date
    period_days: int
    quantity: Decimal
    confidence: Decimal | None


@dataclass(frozen=True, slots=True)
class LineProblem:
    line: int
    field: str
    rule: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "rule": self.rule, "detail": self.detail}


def parse_period(text: str) -> tuple[date, int] | None:
    """The first day and the length in days of a day, ISO week or month; None if none of them."""
    text = text.strip()
    try:
        if len(text) == 10:
            found = date.fromisoformat(text), 1
        elif len(text) == 8 and text[4:6].upper() == "-W":
            found = date.fromisocalendar(int(text[:4]), int(text[6:]), 1), 7
        elif len(text) == 7 and text[4] == "-":
            year, month = int(text[:4]), int(text[5:])
            found = date(year, month, 1), calendar.monthrange(year, month)[1]
        else:
            return None
    except ValueError:
        return None
    return found if FIRST_YEAR <= found[0].year <= LAST_YEAR else None


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


class Validator:
    """Checks lines one at a time; keeps the good ones and the problems, in order."""

    def __init__(self, *, max_quantity: Decimal, warehouses: Iterable[str] = ()) -> None:
        self.max_quantity = max_quantity
        self.warehouses = set(warehouses)
        self.lines: list[ForecastLine] = []
        self.problems: list[LineProblem] = []
        self.total = 0
        self._seen: set[tuple[str, str, date]] = set()

    def add(self, line: int, record: Any) -> None:
        self.total += 1
        if not isinstance(record, dict):
            self.problems.append(
                LineProblem(line, "/", "object", "a line is an object with the forecast's fields")
            )
            return
        found: list[LineProblem] = []
        texts: dict[str, str] = {}
        for name in ("sku", "warehouse", "period"):
            value = record.get(name)
            if value is None or (isinstance(value, str) and not value.strip()):
                found.append(LineProblem(line, name, "required", f"{name} is required"))
            elif not isinstance(value, str) or len(value) > MAX_TEXT:
                found.append(
                    LineProblem(line, name, "text", f"{name} is text of at most {MAX_TEXT}")
                )
            else:
                texts[name] = value.strip()
        period = parse_period(texts["period"]) if "period" in texts else None
        if "period" in texts and period is None:
            found.append(
                LineProblem(
                    line,
                    "period",
                    "period",
                    f"{texts['period']!r} is no day (YYYY-MM-DD), week (YYYY-Www) or month "
                    "(YYYY-MM)",
                )
            )
        wh = texts.get("warehouse")
        if wh is not None and self.warehouses and wh not in self.warehouses:
            found.append(
                LineProblem(
                    line,
                    "warehouse",
                    "unknown_warehouse",
                    f"{wh} is not one of {', '.join(sorted(self.warehouses))}",
                )
            )
        raw_quantity = record.get("quantity")
        quantity = _decimal(raw_quantity)
        if raw_quantity is None or raw_quantity == "":
            found.append(LineProblem(line, "quantity", "required", "quantity is required"))
        elif quantity is None:
            found.append(LineProblem(line, "quantity", "number", f"{raw_quantity!r} is no number"))
        elif quantity < 0:
            found.append(LineProblem(line, "quantity", "non_negative", f"{quantity} is below zero"))
        elif quantity > self.max_quantity:
            found.append(
                LineProblem(
                    line,
                    "quantity",
                    "absurd",
                    f"{quantity} is above the maximum {self.max_quantity} per period",
                )
            )
        raw_confidence = record.get("confidence")
        confidence = None
        if raw_confidence not in (None, ""):
            confidence = _decimal(raw_confidence)
            if confidence is None or not 0 <= confidence <= 1:
                found.append(
                    LineProblem(
                        line, "confidence", "range", f"{raw_confidence!r} is not between 0 and 1"
                    )
                )
        if found:
            self.problems += found
            return
        assert period is not None and quantity is not None
        key = (texts["sku"], texts["warehouse"], period[0])
        if key in self._seen:
            self.problems.append(
                LineProblem(
                    line,
                    "period",
                    "duplicate",
                    f"{key[0]} in {key[1]} for {period[0].isoformat()} is given twice",
                )
            )
            return
        self._seen.add(key)
        self.lines.append(
            ForecastLine(line, key[0], key[1], period[0], period[1], quantity, confidence)
        )

    def reject_skus(self, unknown: set[str]) -> None:
        """Move the lines of SKUs the ERP does not know to the problems."""
        kept = []
        for ln in self.lines:
            if ln.sku in unknown:
                self.problems.append(
                    LineProblem(ln.line, "sku", "unknown_sku", f"the ERP knows no SKU {ln.sku}")
                )
            else:
                kept.append(ln)
        self.lines = kept
        self.problems.sort(key=lambda p: p.line)


async def _text_lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    pending = ""
    async for chunk in chunks:
        pending += decoder.decode(chunk)
        *complete, pending = pending.split("\n")
        for text in complete:
            yield text
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


async def csv_records(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[int, Any]]:
    """``(line number, record)`` of a streamed CSV; a header without the required columns is
    one record ``(its line, None)``, the last. Blank lines are skipped."""
    header: list[str] | None = None
    number = 0
    async for text in _text_lines(chunks):
        number += 1
        if not text.strip():
            continue
        try:
            row = next(csv.reader([text.rstrip("\r")]))
        except csv.Error:  # a NUL byte, a field over the csv module's limit
            if header is None:
                yield number, None
                return
            yield number, "not CSV"
            continue
        if header is None:
            header = [h.strip().lower() for h in row]
            if not {"sku", "warehouse", "period", "quantity"} <= set(header):
                yield number, None
                return
            continue
        yield number, {h: (row[i] if i < len(row) else None) for i, h in enumerate(header)}


async def ndjson_records(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[int, Any]]:
    number = 0
    async for text in _text_lines(chunks):
        number += 1
        if not text.strip():
            continue
        try:
            record = json.loads(text, parse_float=Decimal)
        except (ValueError, RecursionError):
            record = "not JSON"
        yield number, record


def json_records(document: Any) -> Iterator[tuple[int, Any]]:
    lines = document.get("lines") if isinstance(document, dict) else None
    yield from enumerate(lines if isinstance(lines, list) else [], start=1)
