"""Bank statement files picked up from a folder: each file once (by content), moved to the
archive; a bad file refused with an exception naming its line, moved aside, nothing of it
reported; the schedule's event starts a pick-up; and a process killed mid-file leaves the file
to be finished by the next one, every entry reported exactly once."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crossdock.config.payments import StatementFolderConfig
from crossdock.connectors.memory import MemoryErp
from crossdock.engine import (
    Batch,
    Engine,
    EngineSettings,
    Lane,
    NewEvent,
    events_table,
    row_to_event,
)
from crossdock.flows.exceptions import list_exceptions
from crossdock.flows.payments import register
from crossdock.flows.payments.folder import DUE, GROUP, StatementFolder, where
from crossdock.flows.payments.tables import statement_files, statements
from tests.flows.payments.conftest import DATA, payments_config
from tests.support.waiting import until_sync

ROOT = Path(__file__).resolve().parents[3]


def csv_statement(
    path: Path, lines: int, *, prefix: str = "T", bad_line: int | None = None
) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write("id,date,amount,currency,reference,name\n")
        for n in range(2, lines + 2):
            amount = "12.x" if n == bad_line else f"{10 + n % 40}.50"
            out.write(f"{prefix}-{n},2026-12-04,{amount},EUR,INV/2026/{n:05d},Payer {n}\n")
    return path


@pytest.fixture
def folders(tmp_path: Path) -> dict[str, Path]:
    made = {name: tmp_path / name for name in ("inbox", "archive", "rejected")}
    made["inbox"].mkdir()
    return made


@pytest.fixture
async def engine(migrated: Path, tmp_path: Path) -> AsyncIterator[Engine]:
    database = tmp_path / "hub.db"
    shutil.copyfile(migrated, database)
    running = Engine(
        f"sqlite:///{database}",
        settings=EngineSettings(partitions=8),
        lanes=[Lane("default", 0, 1)],
    )
    await running.start(workers=False)
    try:
        yield running
    finally:
        await running.stop()


async def reported(engine: Engine) -> int:
    query = select(func.count()).where(events_table.c.type == "payment.reported")
    return int(await engine.db.read(lambda c: c.execute(query).scalar_one()))


async def test_files_are_imported_once_and_archived(
    engine: Engine, folders: dict[str, Path]
) -> None:
    inbox = folders["inbox"]
    shutil.copyfile(DATA / "camt053_statement.xml", inbox / "a-camt.xml")
    csv_statement(inbox / "b.csv", 5)
    (inbox / ".c.csv.part").write_text("being written")
    folder = StatementFolder(
        engine,
        StatementFolderConfig(inbox=str(inbox), archive=str(folders["archive"])),
        "finance",
    )
    picked = await folder.pick_up()
    assert [(p.name, p.outcome) for p in picked] == [
        ("a-camt.xml", "imported"),
        ("b.csv", "imported"),
    ]
    assert [p.imported.new for p in picked if p.imported] == [3, 5]
    assert sorted(os.listdir(folders["archive"])) == ["a-camt.xml", "b.csv"]
    assert os.listdir(inbox) == [".c.csv.part"]
    assert await reported(engine) == 8

    # the bank sends the same statement again under another name: recognised, archived
    csv_statement(inbox / "b-again.csv", 5)
    [again] = await folder.pick_up()
    assert (again.name, again.outcome) == ("b-again.csv", "known")
    assert await reported(engine) == 8
    # a new statement under a name already archived: imported, archived beside the first
    csv_statement(inbox / "b.csv", 3, prefix="U")
    [other] = await folder.pick_up()
    assert other.outcome == "imported" and other.imported and other.imported.new == 3
    archived = sorted(os.listdir(folders["archive"]))
    assert archived[:2] == ["a-camt.xml", "b-again.csv"] and archived[3] == "b.csv"
    assert archived[2].startswith("b.") and archived[2].endswith(".csv")  # b.<hash>.csv
    rows = await engine.db.read(
        lambda c: [r.state for r in c.execute(select(statement_files.c.state))]
    )
    assert rows == ["imported"] * 3


async def test_a_bad_file_is_refused_naming_its_line(
    engine: Engine, folders: dict[str, Path]
) -> None:
    inbox = folders["inbox"]
    csv_statement(inbox / "bad.csv", 6, bad_line=5)
    (inbox / "notes.txt").write_text("call the bank on Monday\n")
    settings = StatementFolderConfig(inbox=str(inbox), archive=str(folders["archive"]))
    folder = StatementFolder(engine, settings, "finance")
    picked = await folder.pick_up()
    assert [(p.name, p.outcome) for p in picked] == [
        ("bad.csv", "rejected"),
        ("notes.txt", "rejected"),
    ]
    assert picked[0].error == "line 5 (amount): not a decimal amount: '12.x'"
    assert await reported(engine) == 0  # nothing of a refused file is reported
    opened = await engine.db.read(lambda c: list_exceptions(c, state="open"))
    assert sorted(e.type for e in opened) == ["statement_rejected"] * 2
    [bad] = [e for e in opened if "bad.csv" in e.reason]
    assert "line 5 (amount)" in bad.reason and bad.owner == "finance"

    # left in the inbox (no rejected folder): recognised, no second exception
    again = await folder.pick_up()
    assert [p.outcome for p in again] == ["rejected", "rejected"]
    assert len(await engine.db.read(lambda c: list_exceptions(c, state="open"))) == 2

    # with a rejected folder they are moved there; the corrected file is new content
    moving = StatementFolder(
        engine, settings.model_copy(update={"rejected": str(folders["rejected"])}), "finance"
    )
    await moving.pick_up()
    assert sorted(os.listdir(folders["rejected"])) == ["bad.csv", "notes.txt"]
    csv_statement(inbox / "bad.csv", 6)
    [fixed] = await moving.pick_up()
    assert fixed.outcome == "imported" and await reported(engine) == 6


def test_pointers_in_words() -> None:
    assert where("/line/7/amount") == "line 7 (amount)"
    assert where("/line/1") == "line 1"
    assert where("/Stmt/Ntry[3]/Amt/@Ccy") == "entry 3 (Ntry/Amt/@Ccy)"
    assert where("/") == "the file"


async def test_the_schedule_starts_a_pick_up(
    migrated: Path, tmp_path: Path, folders: dict[str, Path]
) -> None:
    database = tmp_path / "scheduled.db"
    shutil.copyfile(migrated, database)
    engine = Engine(
        f"sqlite:///{database}",
        settings=EngineSettings(partitions=8),
        lanes=[Lane("default", 0, 1)],
    )
    config = payments_config(
        statement_folder={
            "inbox": str(folders["inbox"]),
            "archive": str(folders["archive"]),
            "cron": "0 6 * * *",
        }
    )
    register(engine, MemoryErp(), config)
    [schedule] = [s for s in engine.schedules if s.event_type == DUE]
    assert schedule.cron == "0 6 * * *"
    subscription = engine.subscriptions[GROUP]
    assert tuple(subscription.types) == (DUE,)
    await engine.start(workers=False)
    try:
        csv_statement(folders["inbox"] / "s.csv", 4)
        tick = await engine.append_one(
            NewEvent(DUE, "crossdock.scheduler", "schedule:payments.statements", {})
        )
        await subscription.handler(Batch(subscription.group, [tick]))
        assert await reported(engine) == 4
        assert os.listdir(folders["archive"]) == ["s.csv"]
    finally:
        await engine.stop()


def _run(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.flows.payments.folder_main", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


async def test_a_process_killed_mid_file_reports_each_entry_once(
    migrated: Path, tmp_path: Path, folders: dict[str, Path]
) -> None:
    database = tmp_path / "killed.db"
    shutil.copyfile(migrated, database)
    lines = 3500  # four chunks of entries: killed after two were committed
    csv_statement(folders["inbox"] / "big.csv", lines)
    marker = tmp_path / "hanging"
    args = (str(database), str(folders["inbox"]), str(folders["archive"]))
    first = _run(*args, "2", str(marker))
    try:
        until_sync(
            lambda: marker.exists() or first.poll() is not None,
            timeout=300,
            what="the importer to hang mid-file",
        )
        assert first.poll() is None, first.communicate()
        os.kill(first.pid, signal.SIGKILL)
    finally:
        first.wait()
    assert first.returncode == -signal.SIGKILL

    engine = Engine(f"sqlite:///{database}", settings=EngineSettings(partitions=8))
    await engine.start(workers=False)
    try:
        assert await reported(engine) == 2000  # two chunks in; the file still in the inbox
        assert os.listdir(folders["inbox"]) == ["big.csv"]
        [state] = await engine.db.read(
            lambda c: [r.state for r in c.execute(select(statement_files.c.state))]
        )
        assert state == "importing"
    finally:
        await engine.stop()

    second = _run(*args)
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    assert [line for line in out.splitlines() if line.startswith("picked ")] == [
        "picked big.csv imported"
    ]

    engine = Engine(f"sqlite:///{database}", settings=EngineSettings(partitions=8))
    await engine.start(workers=False)
    try:
        assert await reported(engine) == lines
        keys = await engine.db.read(
            lambda c: [
                row_to_event(r).data["payment"]["payment_id"]
                for r in c.execute(
                    select(events_table).where(events_table.c.type == "payment.reported")
                )
            ]
        )
        assert len(set(keys)) == lines
        assert (
            await engine.db.read(
                lambda c: c.execute(select(func.count()).select_from(statements)).scalar_one()
            )
            == 1
        )
        [state] = await engine.db.read(
            lambda c: [r.state for r in c.execute(select(statement_files.c.state))]
        )
        assert state == "imported"
        assert os.listdir(folders["archive"]) == ["big.csv"] and not os.listdir(folders["inbox"])
    finally:
        await engine.stop()
