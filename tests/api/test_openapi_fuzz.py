"""Schemathesis against `/openapi.json` of a real `crossdock serve` process: whatever a client
sends, the answer is never a 5xx, and every error is a problem document."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.support.postgres import free_port
from tests.support.waiting import until_sync


@dataclass
class Served:
    base: str
    token: str


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("fuzz")
    config = directory / "crossdock.yaml"
    config.write_text(f"database:\n  url: sqlite:///{directory / 'hub.db'}\n")
    env = {**os.environ, "CROSSDOCK_CONFIG": str(config)}
    token = subprocess.run(
        [
            sys.executable,
            "-m",
            "crossdock",
            "tokens",
            "create",
            "--name",
            "fuzz",
            "--scopes",
            "admin",
            "--rate",
            "100000",
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout.strip()
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "crossdock", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        until_sync(lambda: _answers(f"{base}/healthz"), what="the server")
        yield Served(base, token)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_no_server_errors_and_problem_documents(served: Served) -> None:
    # Each operation's strategy driven by hypothesis directly (schemathesis' pytest plugin does
    # not support this pytest version).
    api = schemathesis.openapi.from_url(f"{served.base}/openapi.json")
    headers = {"Authorization": f"Bearer {served.token}"}
    checked = 0
    for result in api.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def call(case: schemathesis.Case) -> None:
            response = case.call(base_url=served.base, headers=headers)
            assert response.status_code < 500, case.as_curl_command()
            if response.status_code >= 400:
                content_type = response.headers["content-type"]
                assert "application/problem+json" in content_type, case.as_curl_command()

        call()
        checked += 1
    assert checked >= 8


def test_schema_is_openapi_3_1(served: Served) -> None:
    spec = httpx.get(f"{served.base}/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    assert {"/v1/orders", "/v1/orders/{order_id}", "/v1/shipments", "/v1/exceptions"} <= set(
        spec["paths"]
    )
