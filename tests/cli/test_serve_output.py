"""What an operator sees of `crossdock serve` as a real process on 127.0.0.1: a start-up line with
every URL on the port actually bound (here port 0: one the kernel picks), a shutdown line; a
taken port or a bad configuration is one line on standard error and exit status 2 (with
`--processes` too); `crossdock --version`."""

from __future__ import annotations

import json
import signal
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from crossdock import __version__
from crossdock.cli import app
from crossdock.commands.supervisor import Child, supervise
from tests.cli.test_serve import crossdock


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "crossdock.yaml"
    path.write_text(f"database:\n  url: sqlite:///{tmp_path / 'hub.db'}\n")
    return path


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port some other program listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def log_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"crossdock {__version__}\n"


def test_serve_says_where_it_listens_and_when_it_stops(config: Path) -> None:
    # --api-only: the default configuration's Odoo sandbox (served by the workers) is not needed
    proc = crossdock(
        "serve", "--config", str(config), "--api-only", "--host", "127.0.0.1", "--port", "0"
    )
    assert proc.stderr is not None
    try:
        line = next(line for line in proc.stderr if "serve.listening" in line)
        listening = json.loads(line)
        api = listening["api"]
        port = int(api.rsplit(":", 1)[1])
        assert port != 0 and api == f"http://127.0.0.1:{port}"
        assert listening["dashboard"] == f"{api}/ui"
        assert listening["docs"] == f"{api}/docs"
        assert listening["metrics"] == f"{api}/metrics"
        assert httpx.get(f"{api}/healthz").status_code == 200
        assert httpx.get(listening["docs"]).status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert [entry["event"] for entry in log_lines(rest)][-1] == "serve.stopped"


@pytest.mark.parametrize("processes", [1, 2])
def test_a_taken_port_is_one_line_and_status_2(
    config: Path, taken_port: int, processes: int
) -> None:
    proc = crossdock(
        "serve",
        "--config",
        str(config),
        "--host",
        "127.0.0.1",
        "--port",
        str(taken_port),
        "--processes",
        str(processes),
    )
    try:
        _, err = proc.communicate(timeout=120)
    finally:  # never leave a server behind, even when it did not exit
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=60)
    assert proc.returncode == 2, err
    lines = [line for line in err.splitlines() if not line.startswith("{")]
    assert lines == [
        f"crossdock serve: cannot listen on 127.0.0.1:{taken_port}: address already in use"
    ], err


def test_a_bad_configuration_is_status_2_for_every_command(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("lanes:\n  orders:\n    concurrency: 0\n")
    for command in (["serve"], ["serve", "--processes", "2"], ["config", "check"]):
        proc = crossdock(*command, "--config", str(bad))
        try:
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.communicate(timeout=60)
        assert proc.returncode == 2, (command, err)
        assert err.splitlines() == [
            f"invalid configuration {bad}: 1 problem",
            "  lanes.orders.concurrency: must be >= 1  (line 3)",
        ], (command, err)


def test_a_process_that_cannot_start_stops_the_supervisor_with_status_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("lanes:\n  orders:\n    concurrency: 0\n")
    # a configuration broken after the supervisor checked it: its processes exit 2
    child = Child("api-1", ["config", "check", "--config", str(bad)])
    assert supervise([child]) == 2
    assert child.process is not None and child.process.returncode == 2
