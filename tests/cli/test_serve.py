"""`crossdock serve` as a real process on 127.0.0.1: refuses bad configuration, serves health and
OpenAPI, stops cleanly on SIGTERM; `--workers-only` runs without the API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.postgres import free_port
from tests.support.waiting import until_sync


def crossdock(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "crossdock", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def test_serve_refuses_an_invalid_configuration(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(
        "systems:\n  odoo:\n    kind: odoo\n    url: not-a-url\n"
        "lanes:\n  orders:\n    concurrency: 0\n"
    )
    proc = crossdock("serve", "--config", str(config))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "systems.odoo.url" in err and "lanes.orders.concurrency" in err


def test_serve_answers_health_and_stops_on_sigterm(tmp_path: Path) -> None:
    config = tmp_path / "crossdock.yaml"
    config.write_text(f"database:\n  url: sqlite:///{tmp_path / 'hub.db'}\n")
    port = free_port()
    proc = crossdock("serve", "--config", str(config), "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    try:
        until_sync(lambda: _answers(f"{base}/healthz"), what="the server to listen")
        assert httpx.get(f"{base}/readyz").json()["checks"] == {"database": "ok", "odoo": "ok"}
        spec = httpx.get(f"{base}/openapi.json").json()
        assert spec["openapi"].startswith("3.1")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert proc.returncode == 0


def test_workers_only_node_runs_without_the_api(tmp_path: Path) -> None:
    config = tmp_path / "crossdock.yaml"
    config.write_text(f"database:\n  url: sqlite:///{tmp_path / 'hub.db'}\n")
    proc = crossdock("serve", "--config", str(config), "--workers-only")
    try:
        assert proc.stderr is not None
        started = next(line for line in proc.stderr if "engine.started" in line)
        assert '"workers": true' in started
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert proc.returncode == 0


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
