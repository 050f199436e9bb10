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
The kept history is written from the file read back page by page (:func:`read_pages`).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO, Literal

from crossdock.connectors.odoo.demand_records import DemandMove

__all__ = [
    "FORMATS",
    "HEADER",
    "MEDIA_TYPES",
    "PAGE_ROWS",
    "ExportFormat",
    "ExportWriter",
    "Row",
    "TextRow",
    "move_rows",
    "on_hand_rows",
    "pages",
    "read_pages",
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


def move_rows(moves: Iterable[DemandMove]) -> Iterator[Row]:
    """The rows of the window's moves (sales, returns and receipts per day)."""
    for m in moves:
        yield (m.kind, m.warehouse, m.sku, m.day, m.quantity)


def on_hand_rows(on_hand: Mapping[tuple[str, str], Decimal], as_of: datetime) -> Iterator[Row]:
    """The rows of each warehouse's on-hand quantity per SKU at the export's end."""
    day = as_of.date()
    for (warehouse, sku), quantity in sorted(on_hand.items()):
        yield ("on_hand", warehouse, sku, day, quantity)


def pages(rows: Iterable[Row]) -> Iterator[list[Row]]:
    """``rows`` in pages of :data:`PAGE_ROWS`."""
    it = iter(rows)
    while page := list(islice(it, PAGE_ROWS)):
        yield page


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value != 0 else "0"


def _schema(metadata: Mapping[str, str]) -> Any:
    # pyarrow loads in a fraction of a second but only an export to Parquet needs it
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    return pa.schema(
        [
            pa.field("record", pa.string(), nullable=False),
            pa.field("warehouse", pa.string(), nullable=False),
            pa.field("sku", pa.string(), nullable=False),
            pa.field("date", pa.date32(), nullable=False),
            pa.field("quantity", pa.decimal128(38, SCALE), nullable=False),
        ],
        metadata=dict(metadata),
    )


class ExportWriter:
    """Writes an export page by page into ``handle`` (an open binary file the caller closes)."""

    def __init__(self, handle: BinaryIO, fmt: ExportFormat, metadata: Mapping[str, str]) -> None:
        self.handle = handle
        self.fmt = fmt
        self.rows = 0
        self._csv: Any = None
        self._text: io.TextIOWrapper | None = None
        self._parquet: Any = None
        self._schema: Any = None
        if fmt == "parquet":
            import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

            self._schema = _schema(metadata)
            self._parquet = pq.ParquetWriter(handle, self._schema)
        else:
            self._text = io.TextIOWrapper(handle, encoding="utf-8", newline="", write_through=True)
            self._csv = csv.writer(self._text, lineterminator="\n")
            self._csv.writerow(HEADER)

    def write(self, page: Sequence[Row]) -> None:
        """One page: a Parquet row group, or CSV lines."""
        if not page:
            return
        if self._parquet is not None:
            import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

            columns: list[list[Any]] = [
                [r[0] for r in page],
                [r[1] for r in page],
                [r[2] for r in page],
                [r[3] for r in page],
                [r[4].quantize(_QUANTUM, rounding=ROUND_HALF_EVEN) for r in page],
            ]
            self._parquet.write_table(pa.Table.from_arrays(columns, schema=self._schema))
        else:
            self._csv.writerows((r, w, s, d.isoformat(), _text(q)) for r, w, s, d, q in page)
        self.rows += len(page)

    def close(self) -> None:
        """Finish the file (Parquet's footer), flushed and fsynced."""
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None
        if self._text is not None:
            self._text.flush()
            self._text.detach()  # the caller closes the file
        self.handle.flush()
        os.fsync(self.handle.fileno())


    def abort(self) -> None:
        """Let go of a file that will be discarded (the Parquet writer would finish it later)."""
        if self._parquet is not None:
            with contextlib.suppress(Exception):
                self._parquet.close()
            self._parquet = None


TextRow = tuple[str, str, str, str, str]
"""A row as text: ``record, warehouse, sku, date (ISO), quantity (decimal text)``."""


def read_pages(path: Path, fmt: ExportFormat) -> Iterator[list[TextRow]]:
    """An export file's rows as text, page by page (what the kept history is written from)."""
    if fmt == "parquet":
        import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

        for batch in pq.ParquetFile(path).iter_batches(batch_size=PAGE_ROWS):
            yield [
                (r["record"], r["warehouse"], r["sku"], r["date"].isoformat(), _text(r["quantity"]))
                for r in batch.to_pylist()
            ]
        return
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader, None)  # the header
        while page := [(r[0], r[1], r[2], r[3], r[4]) for r in islice(reader, PAGE_ROWS)]:
            yield page
