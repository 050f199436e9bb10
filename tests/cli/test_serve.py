"""`crossdock serve` as a real process on 127.0.0.1: refuses bad configuration, serves health and
OpenAPI, stops cleanly on SIGTERM; `--workers-only` runs without the API."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from crossdock.config import parse_config
from crossdock.engine.limits import SHARED_DIR_ENV
from crossdock.erp import connect_erp
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


@contextmanager
def _occupied(port: int) -> Iterator[bool]:
    """Something else listens on 127.0.0.1:`port`: this test when the port is free (true), or
    whatever holds it already (false: it may let it go meanwhile, so the port may be free
    again when the server binds)."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError:
            yield False
        else:
            yield True


def test_serve_on_the_default_finds_a_free_port_for_its_sandbox(tmp_path: Path) -> None:
    """The embedded default's Odoo sandbox is on 8070; with 8070 taken (a local Odoo, another
    run of the suite), `serve` still comes up, its sandbox on a free port it names."""
    config = tmp_path / "crossdock.yaml"
    config.write_text(f"database:\n  url: sqlite:///{tmp_path / 'hub.db'}\n")
    port = free_port()
    with _occupied(8070) as held:
        proc = crossdock("serve", "--config", str(config), "--port", str(port))
        try:
            assert proc.stderr is not None
            serving = next(
                (json.loads(line) for line in proc.stderr if "erp.sandbox_serving" in line), None
            )
            assert serving is not None, "serve said nothing of its sandbox"
            url = serving["url"]
            assert url.startswith("http://127.0.0.1:")
            assert not (held and url.endswith(":8070"))
            until_sync(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), what="the server")
            assert "version_info" in httpx.get(f"{url}/web/version", timeout=10).json()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=30)
    assert proc.returncode == 0


async def test_the_hub_calls_its_sandbox_on_the_port_it_moved_to(tmp_path: Path) -> None:
    cfg = parse_config(f"database:\n  url: sqlite:///{tmp_path / 'hub.db'}\n")
    with _occupied(8070) as held:
        erp = connect_erp(cfg)
        try:
            assert not (held and erp.sandbox.port == 8070)
            assert erp.operations.client.settings.url == erp.sandbox.url
            await erp.operations.client.connect()  # signs in: the hub reaches its sandbox
        finally:
            await erp.close()


def test_under_a_supervisor_the_sandbox_keeps_its_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`serve --processes`: the API processes call the sandbox on its configured URL, so the
    workers process may not move it; a taken port is an error there."""
    monkeypatch.setenv(SHARED_DIR_ENV, str(tmp_path))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cfg = parse_config(
            f"database:\n  url: sqlite:///{tmp_path / 'hub.db'}\n"
            f"systems:\n  odoo: {{kind: odoo, url: 'http://127.0.0.1:{port}', sandbox: true}}\n"
        )
        with pytest.raises(OSError):
            connect_erp(cfg)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
