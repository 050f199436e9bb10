"""Forecasting: demand history out, forecasts in, and the hub's baseline.

Consumer group ``forecasting`` (lane ``batch`` when configured) takes

- ``forecasting.export_requested`` (schedule ``forecasting.export`` or the API): export the
  history since the watermark (:mod:`.demand`), the window ending at the event's time;
- ``forecast.imported`` (subject ``forecast:<version id>``): check a received import's SKUs
  against the ERP (one batched look-up) and apply or reject it per its policy
  (:mod:`.forecast_store`), then append ``forecast.applied`` (or ``forecast.rejected``);
- ``forecasting.baseline_requested`` (schedule ``forecasting.baseline`` or the API), and every
  export when the baseline is enabled: compute the baseline from the kept history
  (:mod:`.baseline`) and apply it as a version of source ``baseline``;
- ``forecasting.drop_scan`` (every minute when ``drop_directory`` is set): import the CSV files
  dropped there (the file's name is its import id), moved to ``done/`` or ``rejected/`` after.

The ERP's work happens here, never in the API: when the ERP is down the batch is handed back as
``Unavailable`` and resumes in order.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from crossdock.config.forecasting import ForecastingConfig
from crossdock.config.schema import Config
from crossdock.connectors.odoo import OdooTransientError
from crossdock.connectors.odoo.port import ErpPort
from crossdock.engine import (
    Batch,
    Engine,
    NewEvent,
    Schedule,
    Subscription,
    Unavailable,
    insert_events,
    new_event_id,
)
from crossdock.flows.procurement.baseline import baseline
from crossdock.flows.procurement.demand import DemandExporter, ExportResult, Sink
from crossdock.flows.procurement.forecast_store import (
    Policy,
    VersionRow,
    get_version,
    pending_skus,
    record_import,
    settle,
)
from crossdock.flows.procurement.forecast_tables import demand_history
from crossdock.flows.procurement.forecasts import LineProblem, Validator, csv_records

__all__ = [
    "APPLIED",
    "BASELINE",
    "EXPORT",
    "IMPORTED",
    "Forecasting",
    "ImportOutcome",
    "import_forecast",
    "register_forecasting",
]

log = structlog.get_logger("crossdock.forecasting")

SOURCE = "forecasting"
GROUP = "forecasting"
EXPORT = "forecasting.export_requested"
BASELINE = "forecasting.baseline_requested"
DROP_SCAN = "forecasting.drop_scan"
IMPORTED = "forecast.imported"
APPLIED = "forecast.applied"
REJECTED = "forecast.rejected"
CONSUMED = [EXPORT, BASELINE, DROP_SCAN, IMPORTED]
MAX_LINES = 2_000_000

Records = AsyncIterator[tuple[int, Any]]


def request_event(kind: str, by: str) -> NewEvent:
    """An export or baseline request (``kind``: EXPORT or BASELINE)."""
    return NewEvent(
        kind, SOURCE, f"{SOURCE}:{kind.rsplit('.', 1)[-1]}", {"by": by}, id=new_event_id()
    )


def _version_event(kind: str, version: VersionRow) -> NewEvent:
    return NewEvent(
        kind,
        SOURCE,
        f"forecast:{version.id}",
        {
            "version_id": version.id,
            "version": version.version,
            "import_id": version.import_id,
            "source": version.source,
            "lines_applied": version.lines_applied,
            "lines_rejected": len(version.rejected),
        },
        idempotency_key=f"{kind}:{version.id}",
        id=new_event_id(),
    )


def warehouses_of(config: Config) -> list[str]:
    return list(config.forecasting.warehouses or config.procurement.warehouses)


class Digest:
    """Chunks passed through, hashed on the way (a streamed import's content digest)."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks
        self._hash = hashlib.sha256()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks:
            self._hash.update(chunk)
            yield chunk

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    version: VersionRow
    created: bool
    too_many: bool = False


async def import_forecast(
    engine: Engine,
    records: Records,
    digest: Callable[[], str],
    *,
    import_id: str,
    policy: Policy,
    source: str,
    by: str,
    config: ForecastingConfig,
    warehouses: Iterable[str],
) -> ImportOutcome:
    """Validate ``records`` line by line and record the import in one transaction (with its
    ``forecast.imported`` event when its SKUs remain to be checked)."""
    validator = Validator(max_quantity=config.max_quantity, warehouses=warehouses)
    async for line, record in records:
        if record is None:  # only a CSV header missing its columns is None
            validator.total += 1
            validator.problems.append(
                LineProblem(
                    line,
                    "header",
                    "columns",
                    "the header must name sku, warehouse, period and quantity",
                )
            )
            break
        validator.add(line, record)
        if validator.total > MAX_LINES:
            break
    too_many = validator.total > MAX_LINES
    if too_many:
        validator.problems.append(
            LineProblem(
                validator.total, "/", "max_lines", f"an import holds at most {MAX_LINES} lines"
            )
        )
        validator.lines = []

    def write(conn: Connection) -> tuple[VersionRow, bool]:
        version, created = record_import(
            conn,
            import_id=import_id,
            digest=digest(),
            source=source,
            policy=policy,
            by=by,
            now=time.time(),
            total=validator.total,
            lines=validator.lines,
            problems=validator.problems,
        )
        if created:
            kind = IMPORTED if version.state == "received" else REJECTED
            insert_events(conn, [_version_event(kind, version)], engine.partitions)
        return version, created

    try:
        version, created = await engine.writer.submit(write, appends=True)
    except IntegrityError:
        # another process recorded the same import id (or took the version number) meanwhile:
        # once more, the stored import is found or the next number taken
        version, created = await engine.writer.submit(write, appends=True)
    return ImportOutcome(version, created, too_many)


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as handle:
        while chunk := await asyncio.to_thread(handle.read, 1 << 20):
            yield chunk


def _history(conn: Connection) -> list[tuple[str, str, date, Decimal]]:
    h = demand_history.c
    net: dict[tuple[str, str, str], Decimal] = {}
    for row in conn.execute(
        select(h.warehouse, h.sku, h.day, h.kind, h.quantity).where(h.kind.in_(["sale", "return"]))
    ):
        sign = Decimal(1) if row.kind == "sale" else Decimal(-1)
        key = (row.warehouse, row.sku, row.day)
        net[key] = net.get(key, Decimal(0)) + sign * Decimal(row.quantity)
    return [(w, s, date.fromisoformat(d), q) for (w, s, d), q in net.items()]


def _received(conn: Connection, version_id: str) -> tuple[VersionRow | None, list[str]]:
    return get_version(conn, version_id), pending_skus(conn, version_id)


class Forecasting:
    def __init__(
        self, engine: Engine, erp: ErpPort, config: Config, *, sink: Sink | None = None
    ) -> None:
        self.engine = engine
        self.erp = erp
        self.config = config.forecasting
        self.warehouses = warehouses_of(config)
        target = (
            "file" if self.config.export_directory else "http" if self.config.export_url else "none"
        )
        self.exporter = DemandExporter(
            engine,
            erp,
            self.warehouses,
            sink=sink,
            target=target,
            first_export_days=self.config.first_export_days,
            settle_seconds=self.config.settle_seconds,
            fmt=self.config.export_format,
        )

    async def export(self, requested_at: float | None = None) -> ExportResult:
        return await self.exporter.export(requested_at)

    async def compute_baseline(self, today: date | None = None) -> VersionRow | None:
        """Compute and apply the baseline from the kept history (None when there is none)."""
        today = today or datetime.now(UTC).date()
        history = await self.engine.db.read(_history)
        if not history:
            return None
        result = await asyncio.to_thread(
            baseline,
            history,
            today=today,
            period_days=self.config.period_days,
            horizon=self.config.horizon_periods,
            season=self.config.season_periods,
        )
        if not result.lines:
            return None
        digest = hashlib.sha256(
            "\n".join(
                f"{ln.warehouse},{ln.sku},{ln.period_start},{ln.quantity}" for ln in result.lines
            ).encode()
        ).hexdigest()

        def write(conn: Connection) -> VersionRow:
            version, created = record_import(
                conn,
                import_id=f"baseline-{today.isoformat()}-{digest[:16]}",
                digest=digest,
                source="baseline",
                policy="all_or_nothing",
                by="hub",
                now=time.time(),
                total=len(result.lines),
                lines=result.lines,
                problems=[],
                settled=True,
            )
            if created:
                insert_events(conn, [_version_event(APPLIED, version)], self.engine.partitions)
            return version

        version = await self.engine.writer.submit(write, appends=True)
        log.info("forecasting.baseline", version=version.version, methods=result.methods)
        return version

    async def settle_imports(self, version_ids: list[str], batch: Batch | None = None) -> None:
        """Check received imports' SKUs against the ERP and apply or reject them."""
        for version_id in version_ids:
            version, skus = await self.engine.db.read(partial(_received, version_id=version_id))
            if version is None or version.state != "received":
                continue
            resolved = await self.erp.resolve_products(skus)
            unknown = set(resolved.errors) | (set(skus) - set(resolved.found))

            def write(
                conn: Connection, version: VersionRow = version, unknown: set[str] = unknown
            ) -> None:
                current = get_version(conn, version.id)
                if current is None or current.state != "received":
                    return
                after = settle(conn, current, unknown)
                kind = APPLIED if after.state == "applied" else REJECTED
                insert_events(conn, [_version_event(kind, after)], self.engine.partitions)

            if batch is not None:
                batch.write(write)
            else:
                await self.engine.writer.submit(write, appends=True)

    async def scan_drop(self) -> int:
        """Import the files of the drop directory; answers how many were imported."""
        if self.config.drop_directory is None:
            return 0
        folder = Path(self.config.drop_directory)
        if not folder.is_dir():
            return 0
        count = 0
        for path in sorted(
            p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".csv"
        ):
            chunks = Digest(_file_chunks(path))
            outcome = await import_forecast(
                self.engine,
                csv_records(chunks.__aiter__()),
                chunks.hexdigest,
                import_id=f"file:{path.name}",
                policy=self.config.import_policy,
                source="file",
                by="drop",
                config=self.config,
                warehouses=self.warehouses,
            )
            place = folder / ("rejected" if outcome.version.state == "rejected" else "done")
            place.mkdir(exist_ok=True)
            path.replace(place / path.name)
            count += 1
        return count

    async def handle(self, batch: Batch) -> None:
        try:
            imported = [str(e.data.get("version_id")) for e in batch.events if e.type == IMPORTED]
            if imported:
                await self.settle_imports(imported, batch)
            exports = [e for e in batch.events if e.type == EXPORT]
            if exports:
                await self.export(max(e.time for e in exports).timestamp())
            if any(e.type == DROP_SCAN for e in batch.events):
                await self.scan_drop()
            # without a platform, fresh history refreshes the baseline (out of the box)
            if any(e.type == BASELINE for e in batch.events) or (
                exports and self.config.baseline_enabled
            ):
                await self.compute_baseline()
        except (OdooTransientError, Unavailable) as exc:
            wait = self.erp.unavailable_for()
            if wait is None:
                raise
            raise Unavailable(f"the ERP is unavailable: {exc}", max(1.0, wait)) from exc


def register_forecasting(
    engine: Engine, erp: ErpPort, config: Config, *, sink: Sink | None = None
) -> Forecasting:
    """Subscribe the consumer group (before the engine starts) and schedule its work."""
    service = Forecasting(engine, erp, config, sink=sink)
    cfg = config.forecasting
    if cfg.export_schedule is not None:
        engine.schedule(
            Schedule("forecasting.export", cfg.export_schedule, EXPORT, {"by": "schedule"})
        )
    if cfg.baseline_schedule is not None and cfg.baseline_enabled:
        engine.schedule(
            Schedule("forecasting.baseline", cfg.baseline_schedule, BASELINE, {"by": "schedule"})
        )
    if cfg.drop_directory is not None:
        engine.schedule(Schedule("forecasting.drop", "* * * * *", DROP_SCAN, {"by": "schedule"}))
    engine.subscribe(
        Subscription(
            GROUP,
            CONSUMED,
            service.handle,
            lane="batch" if "batch" in engine.lanes else "default",
            batch_size=20,
            max_attempts=config.engine.max_attempts,
            backoff=config.engine.backoff,
            start_at="latest",
        )
    )
    return service
