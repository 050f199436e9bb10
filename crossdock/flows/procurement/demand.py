"""Demand history out: what the ERP moved since the last export, to a forecasting platform.

An export covers the window after the watermark (the last export's ``until``; the first reaches
``first_export_days`` back) up to the request's time less ``settle_seconds``. The ERP is read in
batches: one paged read of the window's done moves per warehouse and one of the warehouse's
quants (never one call per SKU). The export is one CSV (``record,warehouse,sku,date,quantity``,
where ``record`` is ``sale``, ``return`` or ``receipt`` per day, and ``on_hand`` at the export)
handed to the sink (a file in a directory or a signed HTTP push); the window, the watermark and
the history kept for the baseline are then written in one transaction.

The export's id is derived from its window and a retried request keeps its window (the time of
its event), so a retry after a failed push sends the same export under the same id (receivers
dedupe by ``webhook-id``; a file is replaced whole, never appended to).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import structlog
from sqlalchemy import Connection, func, insert, select, update

from crossdock.connectors.odoo.demand_records import DemandMove
from crossdock.connectors.odoo.port import ErpPort
from crossdock.engine import Engine
from crossdock.flows.procurement.forecast_tables import demand_exports, demand_history

__all__ = ["DemandExporter", "ExportResult", "Sink", "directory_sink", "export_csv"]

log = structlog.get_logger("crossdock.forecasting")

Sink = Callable[[str, str, bytes], Awaitable[str]]
"""``(export id, file name, CSV body) -> where it went``; raises when it could not be delivered."""

NAMESPACE = uuid.UUID("5b0d6c1e-2f7e-4d4e-9a59-6f1f3c0a7e20")
HEADER = ("record", "warehouse", "sku", "date", "quantity")


@dataclass(frozen=True, slots=True)
class ExportResult:
    id: str | None
    since: float
    until: float
    rows: int
    location: str | None


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value != 0 else "0"


def export_csv(
    moves: Sequence[DemandMove], on_hand: dict[tuple[str, str], Decimal], as_of: datetime
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for m in moves:
        writer.writerow((m.kind, m.warehouse, m.sku, m.day.isoformat(), _text(m.quantity)))
    day = as_of.date().isoformat()
    for (warehouse, sku), quantity in sorted(on_hand.items()):
        writer.writerow(("on_hand", warehouse, sku, day, _text(quantity)))
    return out.getvalue().encode()


def directory_sink(directory: str) -> Sink:
    """Write each export whole into ``directory`` (a temporary file renamed into place)."""

    async def write(export_id: str, name: str, body: bytes) -> str:
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
            target = folder / name
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return str(target)

    return write


def watermark(conn: Connection) -> float | None:
    value = conn.execute(select(func.max(demand_exports.c.until))).scalar_one()
    return None if value is None else float(value)


def _add_history(conn: Connection, moves: Sequence[DemandMove]) -> None:
    """Add the window's moves to the kept history (a day split across two windows sums)."""
    if not moves:
        return
    h = demand_history.c
    first = min(m.day for m in moves).isoformat()
    existing = {
        (r.warehouse, r.sku, r.day, r.kind): Decimal(r.quantity)
        for r in conn.execute(
            select(h.warehouse, h.sku, h.day, h.kind, h.quantity).where(h.day >= first)
        )
    }
    new = []
    for m in moves:
        key = (m.warehouse, m.sku, m.day.isoformat(), m.kind)
        if key in existing:
            conn.execute(
                update(demand_history)
                .where(h.warehouse == key[0], h.sku == key[1], h.day == key[2], h.kind == key[3])
                .values(quantity=_text(existing[key] + m.quantity))
            )
        else:
            new.append(
                {
                    "warehouse": key[0],
                    "sku": key[1],
                    "day": key[2],
                    "kind": key[3],
                    "quantity": _text(m.quantity),
                }
            )
    for start in range(0, len(new), 500):
        conn.execute(insert(demand_history), new[start : start + 500])


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
    ) -> None:
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
        codes: list[str | None] = [*self.warehouses] or [None]
        moves = await self.erp.demand_history(codes, since=start, until=end)
        on_hand: dict[tuple[str, str], Decimal] = {}
        for code in codes:
            for quant in await self.erp.warehouse_quants(code):
                key = (quant.warehouse, quant.sku)
                on_hand[key] = on_hand.get(key, Decimal(0)) + quant.quantity
        body = export_csv(moves, on_hand, end)
        export_id = str(uuid.uuid5(NAMESPACE, f"{since!r}:{until!r}"))
        name = f"demand-{start:%Y%m%dT%H%M%SZ}-{end:%Y%m%dT%H%M%SZ}.csv"
        location = await self.sink(export_id, name, body) if self.sink is not None else None
        rows = len(moves) + len(on_hand)

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
            _add_history(conn, moves)

        await self.engine.writer.submit(write)
        log.info("forecasting.exported", export_id=export_id, rows=rows, target=self.target)
        return ExportResult(export_id, since, until, rows, location)
