"""The demand history exported as Parquet: the CSV export's rows, typed (dates, exact decimal
quantities), written in row groups per page, incremental from the same watermark, the ERP read
in month slices; a failure mid-write, or a kill -9 of the exporting process, leaves no file and
the watermark where it was; pushed signed like the CSV."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Connection, select

from crossdock.config.secrets import SecretRef
from crossdock.connectors.memory import MemoryErp
from crossdock.engine import Engine, EngineSettings
from crossdock.flows.procurement import export_files
from crossdock.flows.procurement.demand import (
    DemandExporter,
    ExportResult,
    _slices,
    directory_sink,
    watermark,
)
from crossdock.flows.procurement.forecast_tables import demand_history
from crossdock.migrations import upgrade
from crossdock.webhooks.push import signed_push
from crossdock.webhooks.signing import new_secret
from tests.flows.procurement.conftest import seed, serve
from tests.flows.procurement.test_demand_export import DAY, at, receiver

Row = tuple[str, str, str, str, str]


def memory_erp(t0: float) -> MemoryErp:
    erp = MemoryErp()
    seed(erp)
    erp.add_move("WH", "A", "sale", Decimal(3), at(t0 - 10 * DAY))
    erp.add_move("WH", "A", "sale", Decimal("2.5"), at(t0 - 10 * DAY + 60))
    erp.add_move("WH", "B", "return", Decimal("0.125"), at(t0 - 2 * DAY))
    erp.add_move("WH", "C", "receipt", Decimal(24), at(t0 - 3 * DAY))
    erp.add_move("WH", "A", "sale", Decimal(7), at(t0 + 100))  # in the second window
    return erp


def exporter(engine: Engine, out: str, t0: float) -> DemandExporter:
    """What the hub runs for ``forecasting`` below, on its own (as the kill -9 driver does)."""
    return DemandExporter(
        engine,
        memory_erp(t0),
        ["WH"],
        sink=directory_sink(out),
        target="file",
        first_export_days=30,
        settle_seconds=60,
        fmt="parquet",
    )


def csv_rows(path: Path) -> list[Row]:
    header, *rows = csv.reader(io.StringIO(path.read_text(encoding="utf-8")))
    assert tuple(header) == export_files.HEADER
    return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value != 0 else "0"


def parquet_rows(table: pa.Table) -> list[Row]:
    return [
        (r["record"], r["warehouse"], r["sku"], r["date"].isoformat(), _text(r["quantity"]))
        for r in table.to_pylist()
    ]


def forecasting(out: Path, fmt: str) -> dict[str, Any]:
    return {
        "export_directory": str(out),
        "export_format": fmt,
        "settle_seconds": 60,
        "first_export_days": 30,
    }


def _kept(conn: Connection) -> list[tuple[str, ...]]:
    h = demand_history.c
    query = select(h.warehouse, h.sku, h.day, h.kind, h.quantity).order_by(
        h.warehouse, h.sku, h.day
    )
    return sorted(tuple(r) for r in conn.execute(query))


async def _two_exports(
    tmp_path: Path, fmt: str, t0: float
) -> tuple[list[ExportResult], list[tuple[str, ...]]]:
    url = f"sqlite:///{tmp_path / f'{fmt}.db'}"
    async with serve(url, {}, memory_erp(t0), forecasting=forecasting(tmp_path / fmt, fmt)) as b:
        first = await b.forecasting.export(t0)
        second = await b.forecasting.export(t0 + 3600)
        kept = await b.hub.engine.db.read(_kept)
    return [first, second], kept


async def test_parquet_holds_the_csv_rows_typed_in_row_groups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_files, "PAGE_ROWS", 2)
    t0 = time.time()
    as_csv, kept_by_csv = await _two_exports(tmp_path, "csv", t0)
    as_parquet, kept_by_parquet = await _two_exports(tmp_path, "parquet", t0)
    assert kept_by_parquet == kept_by_csv  # the history kept for the baseline, read back
    assert ("WH", "A", at(t0 - 10 * DAY).date().isoformat(), "sale", "5.5") in kept_by_csv
    for by_csv, by_parquet in zip(as_csv, as_parquet, strict=True):
        assert (by_parquet.since, by_parquet.until) == (by_csv.since, by_csv.until)
        assert by_csv.location is not None and by_parquet.location is not None
        assert by_parquet.location.endswith(".parquet")
        table = pq.read_table(by_parquet.location)
        assert parquet_rows(table) == csv_rows(Path(by_csv.location))
        assert table.num_rows == by_parquet.rows
        assert table.schema.field("date").type == pa.date32()
        assert table.schema.field("quantity").type == pa.decimal128(38, 9)
        meta = pq.ParquetFile(by_parquet.location).metadata
        assert meta.num_row_groups == (table.num_rows + 1) // 2  # a row group per page of 2
        assert table.schema.metadata[b"crossdock.export_id"] == str(by_parquet.id).encode()
    first, second = as_parquet
    assert second.since == first.until  # the same incremental watermark as the CSV's
    rows = parquet_rows(pq.read_table(str(first.location)))
    assert ("sale", "WH", "A", at(t0 - 10 * DAY).date().isoformat(), "5.5") in rows
    assert ("return", "WH", "B", at(t0 - 2 * DAY).date().isoformat(), "0.125") in rows
    later = [r for r in parquet_rows(pq.read_table(str(second.location))) if r[0] != "on_hand"]
    assert later == [("sale", "WH", "A", at(t0 + 100).date().isoformat(), "7")]


async def test_a_failure_mid_write_leaves_no_file_and_the_watermark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_files, "PAGE_ROWS", 2)
    written = pq.ParquetWriter.write_table
    calls = 0

    def disk_full(self: pq.ParquetWriter, table: pa.Table, *args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:  # the first row group is on disk
            raise OSError(28, "No space left on device")
        written(self, table, *args, **kwargs)

    t0 = time.time()
    out = tmp_path / "out"
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    async with serve(url, {}, memory_erp(t0), forecasting=forecasting(out, "parquet")) as b:
        monkeypatch.setattr(pq.ParquetWriter, "write_table", disk_full)
        with pytest.raises(OSError, match="No space left"):
            await b.forecasting.export(t0)
        assert calls == 2
        assert sorted(os.listdir(out)) == []  # neither a file nor its temporary part
        listed = (await b.client.get("/v1/forecasts/exports", headers=b.auth())).json()
        assert listed["items"] == []
        monkeypatch.setattr(pq.ParquetWriter, "write_table", written)
        again = await b.forecasting.export(t0)  # the window the failed export had
        assert again.since == t0 - 30 * DAY and again.location is not None
        assert pq.read_table(again.location).num_rows == again.rows
        assert sorted(os.listdir(out)) == [Path(again.location).name]


async def test_a_part_left_by_a_killed_export_is_swept(tmp_path: Path) -> None:
    t0 = time.time()
    out = tmp_path / "out"
    out.mkdir()
    stale, recent = out / ".demand-killed.part", out / ".demand-running.part"
    for part in (stale, recent):
        part.write_bytes(b"PAR1")
    os.utime(stale, (t0 - 2 * DAY, t0 - 2 * DAY))
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    async with serve(url, {}, memory_erp(t0), forecasting=forecasting(out, "parquet")) as b:
        done = await b.forecasting.export(t0)
    assert done.location is not None
    assert sorted(os.listdir(out)) == sorted([recent.name, Path(done.location).name])


async def test_parquet_is_pushed_signed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = new_secret()
    monkeypatch.setenv("FORECAST_PUSH_SECRET", secret)
    t0 = time.time()
    async with receiver(secret, []) as (url, got):
        sink = signed_push(url, SecretRef("${FORECAST_PUSH_SECRET}"))
        settings = {"settle_seconds": 0, "export_format": "parquet"}
        db = f"sqlite:///{tmp_path / 'hub.db'}"
        async with serve(db, {}, memory_erp(t0), sink=sink, forecasting=settings) as b:
            pushed = await b.forecasting.export(t0)
    [(export_id, body)] = got  # the receiver verified the signature over the raw bytes
    assert export_id == pushed.id
    table = pq.read_table(pa.BufferReader(body))
    assert table.num_rows == pushed.rows
    assert ("sale", "WH", "A", at(t0 - 10 * DAY).date().isoformat(), "5.5") in parquet_rows(table)
    assert not list(Path(tempfile.gettempdir()).glob(".demand-*.part"))  # sent, then removed


async def test_a_long_first_window_is_read_in_slices_that_split_no_day(tmp_path: Path) -> None:
    t0 = time.time()
    erp = memory_erp(t0)
    midnight = datetime.combine(at(t0 - 200 * DAY).date(), datetime.min.time(), UTC)
    for days in range(0, 200, 3):  # around many midnights, slice boundaries among them
        erp.add_move("WH", "D", "sale", Decimal(1), midnight + timedelta(days=days, seconds=-30))
        erp.add_move("WH", "D", "sale", Decimal(2), midnight + timedelta(days=days, seconds=30))
    settings = forecasting(tmp_path / "out", "parquet") | {"first_export_days": 365}
    async with serve(f"sqlite:///{tmp_path / 'hub.db'}", {}, erp, forecasting=settings) as b:
        done = await b.forecasting.export(t0)
        kept = await b.hub.engine.db.read(_kept)
    assert erp.calls["demand_history"] == len(_slices(at(done.since), at(done.until)))
    assert 12 <= erp.calls["demand_history"] <= 13  # 365 days in reads of at most 31
    rows = parquet_rows(pq.read_table(str(done.location)))
    moved = [(r[0], r[1], r[2], r[3]) for r in rows if r[0] != "on_hand"]
    assert len(moved) == len(set(moved))  # no day split between two reads
    d_days = {r[3]: r[4] for r in rows if r[2] == "D" and r[0] == "sale"}
    assert d_days[midnight.date().isoformat()] == "2"
    assert d_days[(midnight + timedelta(days=2)).date().isoformat()] == "1"  # before midnight
    assert d_days[(midnight + timedelta(days=3)).date().isoformat()] == "2"  # after it
    assert sum(Decimal(k[4]) for k in kept if k[1] == "D") == Decimal(3 * 67)


ROOT = Path(__file__).resolve().parents[3]


async def test_killed_mid_file_leaves_no_export_and_the_watermark(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    upgrade(url)
    out = tmp_path / "out"
    t0 = time.time()
    killed = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.flows.procurement.export_kill_driver",
            url,
            str(out),
            repr(t0),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert killed.stdout is not None
    lines = iter(killed.stdout.readline, "")  # log lines first, then the pause point
    assert any(line.strip() == "written" for line in lines)  # a row group is in the file
    killed.send_signal(signal.SIGKILL)
    assert killed.wait(timeout=60) == -signal.SIGKILL
    [part] = os.listdir(out)  # only the hidden temporary file: no export under its name
    assert part.startswith(".demand-") and part.endswith(".part")

    engine = Engine(url, settings=EngineSettings(partitions=2))
    await engine.start(workers=False, scheduler=False)
    try:
        assert await engine.db.read(watermark) is None  # the cursor did not move
        restarted = exporter(engine, str(out), t0)
        done = await restarted.export(t0)
        assert done.since == t0 - 30 * DAY and done.location is not None
        assert pq.read_table(done.location).num_rows == done.rows
        os.utime(out / part, (t0 - DAY, t0 - DAY))
        later = await restarted.export(t0 + 3600)  # sweeps the part the killed export left
        assert later.location is not None
    finally:
        await engine.stop()
    assert sorted(os.listdir(out)) == sorted(Path(r.location).name for r in (done, later))
