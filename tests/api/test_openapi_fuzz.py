"""Schemathesis against `/openapi.json` of a real `crossdock serve` process, with every check it
has (server errors, status code, content type, headers and schema conformance, negative and
positive data, unsupported methods, authentication, stateful links) over every operation: any
finding fails. The run is bounded (examples per operation) and deterministic (fixed seed)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from crossdock.api.auth import SCOPES
from tests.support.postgres import free_port
from tests.support.waiting import until_sync

CONFIG = Path(__file__).with_name("schemathesis.toml")
ROOT = Path(__file__).parents[2]
MAX_EXAMPLES = 12
SEED = 21


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
    # the sandbox Odoo of `serve` on a free port too (its default, 8070, may be taken)
    config.write_text(
        f"database:\n  url: sqlite:///{directory / 'hub.db'}\n"
        "systems:\n  odoo:\n    kind: odoo\n"
        f"    url: http://127.0.0.1:{free_port()}\n"
        "    sandbox: true\n    username: admin\n    options: {database: crossdock_demo}\n"
    )
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


@pytest.mark.timeout(600)
def test_schemathesis_every_check_finds_nothing(served: Served, tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(CONFIG),
            "run",
            f"{served.base}/openapi.json",
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--mode",
            "all",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            str(SEED),
            "--generation-deterministic",
            "--suppress-health-check",
            "all",
            "--workers",
            "1",
            "--request-timeout",
            "30",
            "--header",
            f"Authorization: Bearer {served.token}",
            "--no-color",
            "--warnings",
            "off",
        ],
        capture_output=True,
        text=True,
        cwd=str(tmp_path),
        env={
            **os.environ,
            "SCHEMATHESIS_HOOKS": "tests.api.schemathesis_hooks",
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        },
        timeout=540,
    )
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]


def test_schema_is_openapi_3_1(served: Served) -> None:
    spec = httpx.get(f"{served.base}/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    assert {"/v1/orders", "/v1/orders/{order_id}", "/v1/shipments", "/v1/exceptions"} <= set(
        spec["paths"]
    )


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]


UNAUTHENTICATED = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/v1/webhooks/in/{source}"),
    ("POST", "/v1/channels/shopify/{system}/webhooks"),  # signed by the shop
    ("POST", "/v1/payments/gateways/{gateway}"),  # authenticated by the gateway's signature
    ("POST", "/v1/edi/as2/{partner}"),  # authenticated by the partner's S/MIME signature
    ("POST", "/v1/edi/as2/{partner}/mdn"),  # an asynchronous MDN: signed by the partner
}


def test_operations_need_the_bearer_token_the_server_asks_for(served: Served) -> None:
    spec = httpx.get(f"{served.base}/openapi.json").json()
    scheme = spec["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    operations = _operations(spec)
    assert len(operations) >= 34
    for method, path, operation in operations:
        if (method, path) in UNAUTHENTICATED:
            assert "security" not in operation, (method, path)
            continue
        [requirement] = operation["security"]
        [scope] = requirement["bearer"]  # the scope the route's `require` checks
        assert scope in SCOPES, (method, path)
        assert {"401", "403", "429"} <= set(operation["responses"]), (method, path)
        assert "Retry-After" in operation["responses"]["429"]["headers"]
    # what the document says: without a token, 401
    answer = httpx.get(f"{served.base}/v1/orders")
    assert answer.status_code == 401


def test_every_error_answer_is_documented_as_a_problem_document(served: Served) -> None:
    spec = httpx.get(f"{served.base}/openapi.json").json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert {"type", "title", "status", "detail"} <= set(
        spec["components"]["schemas"]["Problem"]["required"]
    )
    for method, path, operation in _operations(spec):
        responses = operation["responses"]
        assert "400" in responses, (method, path)
        parameters = operation.get("parameters", [])
        if any(p["in"] == "path" for p in parameters):
            assert "404" in responses, (method, path)
        if "requestBody" in operation:
            assert {"413", "415", "422"} <= set(responses), (method, path)
        for status, response in responses.items():
            if int(status) < 400 or (path, status) == ("/readyz", "503"):
                continue
            schema = response["content"]["application/problem+json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Problem"}, (method, path, status)
            assert set(response["content"]) == {"application/problem+json"}, (method, path)


def test_every_request_body_has_an_example(served: Served) -> None:
    spec = httpx.get(f"{served.base}/openapi.json").json()
    bodies = 0
    for method, path, operation in _operations(spec):
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
            assert "example" in media, (method, path, media_type)
            bodies += 1
    assert bodies >= 13


def test_405_allows_every_method_of_the_path(served: Served) -> None:
    headers = {"Authorization": f"Bearer {served.token}"}
    answer = httpx.options(f"{served.base}/v1/subscriptions/0", headers=headers)
    assert answer.status_code == 405
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["allow"] == "DELETE, GET, PATCH"
    answer = httpx.delete(f"{served.base}/v1/orders", headers=headers)
    assert answer.headers["allow"] == "GET, POST"


def test_messages_of_an_unknown_subscription_are_not_found(served: Served) -> None:
    headers = {"Authorization": f"Bearer {served.token}"}
    answer = httpx.get(f"{served.base}/v1/subscriptions/nope/messages", headers=headers)
    assert answer.status_code == 404
    assert answer.json()["detail"] == "no subscription nope"


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_documentation_pages_load_only_from_the_server(served: Served, page: str) -> None:
    html = httpx.get(f"{served.base}{page}").text
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    urls += re.findall(r"""(?:url|spec-url)\s*:\s*["']([^"']+)["']""", html)
    assert urls
    assert "http" not in html.replace("http-equiv", ""), "an absolute URL: a CDN"
    for url in urls:
        assert url.startswith("/"), url
        assert httpx.get(f"{served.base}{url}").status_code == 200, url


def test_a_body_in_a_media_type_the_operation_does_not_read_is_415(served: Served) -> None:
    headers = {"Authorization": f"Bearer {served.token}", "Content-Type": "text/plain"}
    for path in ("/v1/orders", "/v1/orders/x/cancel", "/v1/reconciliation/runs"):
        answer = httpx.post(f"{served.base}{path}", content=b'{"reason": "x"}', headers=headers)
        assert answer.status_code == 415, (path, answer.text)
        assert answer.json()["detail"] == "send the body as application/json, not text/plain"
