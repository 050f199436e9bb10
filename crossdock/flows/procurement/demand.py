"""Demand history out: what the ERP moved since the last export, to a forecasting platform.

An export covers the window after the watermark (the last export's ``until``; the first reaches
``first_export_days`` back) up to the request's time less ``settle_seconds``. The ERP is read in
batches: one paged read of the done moves per slice of at most :data:`SLICE_DAYS` days of the
window (cut at UTC midnights) and one of the warehouses' quants (never one call per SKU), so
only a slice's moves are held at a time. The export is one file, CSV or Parquet
(``record,warehouse,sku,date,quantity``, where ``record`` is ``sale``, ``return`` or ``receipt``
per day, and ``on_hand`` at the export; see :mod:`.export_files`), written streamed into a
temporary file of the sink's staging directory and then handed to the sink (renamed into a
directory, or a signed HTTP push); only then are the window, the watermark and the history kept
for the baseline (read back from the file page by page) written, in one transaction. A failure
anywhere before leaves no file under an export's name (the temporary file is removed; one left
by a killed process is hidden, named ``.demand-*.part``, and swept by a later export) and the
watermark where it was.

The export's id is derived from its window and a retried request keeps its window (the time of
its event), so a retry after a failed push sends the same export under the same id (receivers
dedupe by ``webhook-id``; a file is replaced whole, never appended to).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Protocol

import structlog
from sqlalchemy import Connection, func, insert, select, update

from crossdock.connectors.odoo.port import ErpPort
from crossdock.engine import Engine
from crossdock.flows.procurement.export_files import (
    ExportFormat,
    ExportWriter,
    TextRow,
    move_rows,
    on_hand_rows,
    pages,
    read_pages,
)
from crossdock.flows.procurement.forecast_tables import demand_exports, demand_history

__all__ = ["DemandExporter", "ExportResult", "Sink", "directory_sink"]

log = structlog.get_logger("crossdock.forecasting")


class Sink(Protocol):
    """Where an export goes. The exporter writes it whole into a temporary file of ``staging``
    (None: the system's temporary directory), then calls the sink with ``(export id, file name,
    the file)``; the sink returns where it went, or raises when it could not be delivered."""

    @property
    def staging(self) -> Path | None: ...

    async def __call__(self, export_id: str, name: str, path: Path) -> str: ...


NAMESPACE = uuid.UUID("5b0d6c1e-2f7e-4d4e-9a59-6f1f3c0a7e20")
PART_PREFIX, PART_SUFFIX = ".demand-", ".part"
SLICE_DAYS = 31
"""Days of moves per ERP read (one paged read each, never one call per SKU)."""
STALE_PART_S = 6 * 3600.0
"""A temporary export file this old was left by a killed process (an export takes minutes)."""


@dataclass(frozen=True, slots=True)
class ExportResult:
    id: str | None
    since: float
    until: float
    rows: int
    location: str | None


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value != 0 else "0"


@dataclass(frozen=True, slots=True)
class DirectorySink:
    """Each export renamed into ``directory`` (the temporary file is written there, so the
    rename is atomic: a reader sees the whole file or none)."""

    directory: Path

    @property
    def staging(self) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        return self.directory

    async def __call__(self, export_id: str, name: str, path: Path) -> str:
        target = self.directory / name
        # a second name for the written file, moved over the target: the hub reads the file
        # back for its history after this, whatever the platform does with the export meanwhile
        link = path.with_name(f"{path.name}.{uuid.uuid4().hex}")
        os.link(path, link)
        try:
            os.replace(link, target)
        finally:
            link.unlink(missing_ok=True)
        return str(target)


def directory_sink(directory: str) -> Sink:
    """Write each export whole into ``directory`` (a temporary file renamed into place)."""
    return DirectorySink(Path(directory))


def _sweep(staging: Path, now: float) -> None:
    """Remove temporary export files a killed process left behind."""
    for part in staging.glob(f"{PART_PREFIX}*{PART_SUFFIX}"):
        try:
            if now - part.stat().st_mtime > STALE_PART_S:
                part.unlink()
        except FileNotFoundError:
            continue


def watermark(conn: Connection) -> float | None:
    value = conn.execute(select(func.max(demand_exports.c.until))).scalar_one()
    return None if value is None else float(value)


def _add_history(conn: Connection, rows: Iterable[Sequence[TextRow]], first_day: str) -> None:
    """Add the window's moves to the kept history, page by page. Only the window's first day can
    be there already (the previous window ended during it): its quantities are summed."""
    h = demand_history.c
    existing = {
        (r.warehouse, r.sku, r.day, r.kind): Decimal(r.quantity)
        for r in conn.execute(
            select(h.warehouse, h.sku, h.day, h.kind, h.quantity).where(h.day >= first_day)
        )
    }
    for page in rows:
        new = []
        for kind, warehouse, sku, day, quantity in page:
            if kind == "on_hand":
                continue
            key = (warehouse, sku, day, kind)
            if key in existing:
                total = existing[key] + Decimal(quantity)
                conn.execute(
                    update(demand_history)
                    .where(h.warehouse == warehouse, h.sku == sku, h.day == day, h.kind == kind)
                    .values(quantity=_text(total))
                )
                existing[key] = total
            else:
                new.append(
                    {"warehouse": warehouse, "sku": sku, "day": day, "kind": kind,
                     "quantity": quantity}
                )  # fmt: skip
        for start in range(0, len(new), 500):
            conn.execute(insert(demand_history), new[start : start + 500])


def _slices(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The window cut at UTC midnights into reads of at most :data:`SLICE_DAYS` days (a day is
    never split between two reads, so each (warehouse, SKU, day, kind) is one row)."""
    out: list[tuple[datetime, datetime]] = []
    lo = start
    while lo < end:
        midnight = datetime.combine(lo.date(), datetime.min.time(), UTC)
        hi = min(end, midnight + timedelta(days=SLICE_DAYS))
        out.append((lo, hi))
        lo = hi
    return out


class DemandExporter:
    def __init__(
        self,
        engine: Engine,
        erp: ErpPort,
        warehouses: Sequence[str],
        *,
        sink: Sink | None,
        target: str,
        first_export_days: int,
        settle_seconds: int,
        fmt: ExportFormat = "csv",
    ) -> None:
        self.fmt: ExportFormat = fmt
        self.engine = engine
        self.erp = erp
        self.warehouses = list(warehouses)
        self.sink = sink
        self.target = target
        self.first_export_days = first_export_days
        self.settle_seconds = settle_seconds

    async def export(self, requested_at: float | None = None) -> ExportResult:
        """Export the window after the watermark up to ``requested_at`` less the settling time."""
        now = time.time() if requested_at is None else requested_at
        last = await self.engine.db.read(watermark)
        until = now - self.settle_seconds
        since = last if last is not None else now - self.first_export_days * 86400
        if until <= since:
            return ExportResult(None, since, since, 0, None)
        start = datetime.fromtimestamp(since, UTC)
        end = datetime.fromtimestamp(until, UTC)
        export_id = str(uuid.uuid5(NAMESPACE, f"{since!r}:{until!r}"))
        name = f"demand-{start:%Y%m%dT%H%M%SZ}-{end:%Y%m%dT%H%M%SZ}.{self.fmt}"
        metadata = {
            "crossdock.export_id": export_id,
            "crossdock.since": start.isoformat(),
            "crossdock.until": end.isoformat(),
        }
        staging = (self.sink.staging if self.sink is not None else None) or Path(
            tempfile.gettempdir()
        )
        _sweep(staging, time.time())
        fd, tmp = tempfile.mkstemp(dir=staging, prefix=PART_PREFIX, suffix=PART_SUFFIX)
        part = Path(tmp)
        try:
            with os.fdopen(fd, "wb") as handle:
                rows = await self._write(ExportWriter(handle, self.fmt, metadata), start, end)
            location = await self.sink(export_id, name, part) if self.sink is not None else None

            def write(conn: Connection) -> None:
                if watermark(conn) != last:
                    return  # another node exported this window meanwhile
                conn.execute(
                    insert(demand_exports).values(
                        id=export_id,
                        since=since,
                        until=until,
                        rows=rows,
                        target=self.target,
                        location=location,
                        at=time.time(),
                    )
                )
                _add_history(conn, read_pages(part, self.fmt), start.date().isoformat())

            await self.engine.writer.submit(write)
        finally:
            part.unlink(missing_ok=True)
        log.info("forecasting.exported", export_id=export_id, rows=rows, target=self.target)
        return ExportResult(export_id, since, until, rows, location)

    async def _write(self, writer: ExportWriter, start: datetime, end: datetime) -> int:
        """The window's moves, read a slice at a time and written page by page, then the
        warehouses' on-hand quantities; returns the rows written."""
        try:
            codes: list[str | None] = [*self.warehouses] or [None]
            for lo, hi in _slices(start, end):
                moves = await self.erp.demand_history(codes, since=lo, until=hi)
                for page in pages(move_rows(moves)):
                    await asyncio.to_thread(writer.write, page)
                del moves
            on_hand: dict[tuple[str, str], Decimal] = {}
            for code in codes:
                for quant in await self.erp.warehouse_quants(code):
                    key = (quant.warehouse, quant.sku)
                    on_hand[key] = on_hand.get(key, Decimal(0)) + quant.quantity
            for page in pages(on_hand_rows(on_hand, end)):
                await asyncio.to_thread(writer.write, page)
            await asyncio.to_thread(writer.close)
        except BaseException:
            writer.abort()
            raise
        return writer.rows
