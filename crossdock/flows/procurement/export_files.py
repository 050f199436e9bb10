"""The demand history export's file formats, written streamed into an open temporary file.

Both carry the same rows, ``record,warehouse,sku,date,quantity`` (``record``: ``sale``,
``return``, ``receipt`` per day, then ``on_hand`` at the export's end):

- ``csv``: UTF-8, a header line, quantities as exact decimal text (``5``, ``2.5``).
- ``parquet``: one row group per page of :data:`PAGE_ROWS` rows, typed columns — ``record``,
  ``warehouse``, ``sku`` strings, ``date`` a ``date32``, ``quantity`` a ``decimal128(38, 9)``.
  The quantity stays a decimal, not a float, because the CSV's quantities are exact decimals (an
  ERP quantity is a decimal of its unit of measure's precision, and a float would turn 0.1 into
  0.1000000000000000055…); nine places hold any unit's precision, a tenth place and beyond (which
  no ERP quantity has) is rounded half-even at the ninth. The file's key-value metadata names
  the export (``crossdock.export_id``, ``crossdock.since``, ``crossdock.until``).

Only one page of rows is held at a time; the file is flushed and fsynced before it is handed
over (renamed into place or pushed), so what a reader finds under the final name is complete.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from itertools import islice
from typing import Any, BinaryIO, Literal

from crossdock.connectors.odoo.demand_records import DemandMove

__all__ = [
    "FORMATS",
    "HEADER",
    "MEDIA_TYPES",
    "PAGE_ROWS",
    "ExportFormat",
    "Row",
    "export_rows",
    "write_export",
]

ExportFormat = Literal["csv", "parquet"]
FORMATS: tuple[ExportFormat, ...] = ("csv", "parquet")
MEDIA_TYPES: Mapping[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
}
HEADER = ("record", "warehouse", "sku", "date", "quantity")
PAGE_ROWS = 10_000
"""Rows per Parquet row group (and per CSV write): what is held in memory at a time."""
SCALE = 9
_QUANTUM = Decimal(1).scaleb(-SCALE)

Row = tuple[str, str, str, date, Decimal]


def export_rows(
    moves: Iterable[DemandMove], on_hand: Mapping[tuple[str, str], Decimal], as_of: datetime
) -> Iterator[Row]:
    """The export's rows: the window's moves, then each warehouse's on-hand per SKU."""
    for m in moves:
        yield (m.kind, m.warehouse, m.sku, m.day, m.quantity)
    day = as_of.date()
    for (warehouse, sku), quantity in sorted(on_hand.items()):
        yield ("on_hand", warehouse, sku, day, quantity)


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value != 0 else "0"


def _pages(rows: Iterable[Row]) -> Iterator[list[Row]]:
    it = iter(rows)
    while page := list(islice(it, PAGE_ROWS)):
        yield page


def _write_csv(handle: BinaryIO, rows: Iterable[Row], metadata: Mapping[str, str]) -> int:
    count = 0
    text = io.TextIOWrapper(handle, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(HEADER)
    for page in _pages(rows):
        writer.writerows((r, w, s, d.isoformat(), _text(q)) for r, w, s, d, q in page)
        count += len(page)
    text.flush()
    text.detach()  # the caller closes the file
    return count


def _write_parquet(handle: BinaryIO, rows: Iterable[Row], metadata: Mapping[str, str]) -> int:
    # pyarrow loads in a fraction of a second but only an export to Parquet needs it
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

    schema = pa.schema(
        [
            pa.field("record", pa.string(), nullable=False),
            pa.field("warehouse", pa.string(), nullable=False),
            pa.field("sku", pa.string(), nullable=False),
            pa.field("date", pa.date32(), nullable=False),
            pa.field("quantity", pa.decimal128(38, SCALE), nullable=False),
        ],
        metadata=dict(metadata),
    )
    count = 0
    with pq.ParquetWriter(handle, schema) as writer:
        for page in _pages(rows):
            columns: list[Sequence[Any]] = [
                [r[0] for r in page],
                [r[1] for r in page],
                [r[2] for r in page],
                [r[3] for r in page],
                [r[4].quantize(_QUANTUM, rounding=ROUND_HALF_EVEN) for r in page],
            ]
            writer.write_table(pa.Table.from_arrays(columns, schema=schema))
            count += len(page)
    return count


def write_export(
    handle: BinaryIO, fmt: ExportFormat, rows: Iterable[Row], metadata: Mapping[str, str]
) -> int:
    """Write ``rows`` to ``handle`` in ``fmt``, flushed and fsynced; returns the row count."""
    write = _write_parquet if fmt == "parquet" else _write_csv
    count = write(handle, rows, metadata)
    handle.flush()
    os.fsync(handle.fileno())
    return count
