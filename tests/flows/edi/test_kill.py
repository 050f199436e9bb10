"""kill -9 mid-file: a subprocess picking up and processing a partner's file is killed while
fetching it, after storing it (before the partner's copy goes), while parsing it and while
applying it; after a restart the file is stored once and each phase's effect happened once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from crossdock.engine import Database
from crossdock.flows.edi import store
from crossdock.flows.edi.tables import edi_interchanges
from tests.flows.edi.support import interchange

ROOT = Path(__file__).resolve().parents[3]


def _driver(db_file: Path, tmp_path: Path, pause: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.flows.edi.kill_driver",
            str(db_file),
            str(tmp_path / "in"),
            str(tmp_path / "out"),
            pause,
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("pause", ["fetch", "stored", "parsing", "applying"])
def test_killed_mid_file_is_processed_exactly_once_after_restart(
    db_file: Path, tmp_path: Path, pause: str
) -> None:
    for folder in ("in", "out"):
        (tmp_path / folder).mkdir()
    # Three chunks of the store: the kill lands with part of the file written.
    data = interchange(42) + b"\n" * (2 * store.CHUNK + 100)
    (tmp_path / "in" / "big.x12").write_bytes(data)

    killed = _driver(db_file, tmp_path, pause)
    assert killed.stdout is not None
    lines = iter(killed.stdout.readline, "")  # log lines come first, then the pause point
    assert any(line.strip() == pause for line in lines)
    killed.send_signal(signal.SIGKILL)
    assert killed.wait(timeout=60) == -signal.SIGKILL

    restarted = _driver(db_file, tmp_path, "")
    out, _ = restarted.communicate(timeout=120)
    assert restarted.returncode == 0 and out.strip().endswith("DONE")

    database = Database(f"sqlite:///{db_file}")
    try:
        files = database.read_sync(lambda c: store.list_files(c))
        interchanges = database.read_sync(lambda c: c.execute(edi_interchanges.select()).all())
        stored = database.read_sync(lambda c: store.read_bytes(c, files[0].id))
    finally:
        database.close()
    assert [(f.name, f.state, f.interchange) for f in files] == [
        ("big.x12", "processed", "000000042")
    ]
    assert files[0].detail == {"bytes_seen": len(data)}
    assert stored == data
    # One interchange recorded by the first phase, one effect of the second.
    assert sorted(r.partner for r in interchanges) == ["acme", "applied"]
    assert list((tmp_path / "in").iterdir()) == []
