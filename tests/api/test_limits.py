"""What one request may carry (``api.limits``): a body over its route's limit is a 413 whether its
length is declared or not, an order of too many lines or a body nested too deep a 422, each a
problem naming the limit and its value; nothing is stored, and no route answers 5xx."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from crossdock.api.limits import deeper_than
from crossdock.flows.exceptions import open_exception
from crossdock.flows.tables import orders
from tests.api.conftest import Api, serve_api
from tests.api.test_orders_api import order

SMALL = {"body_bytes": 4096, "stock_events_bytes": 8192, "snapshot_bytes": 4096}


@pytest.fixture
async def limited(db_url: str) -> AsyncIterator[Api]:
    """The API with small body limits, and a warehouse to send counts for."""
    config = {
        "database": {"url": db_url},
        "api": {"port": 0, "limits": {**SMALL, "order_lines": 5, "json_depth": 8}},
        "inventory": {"warehouses": ["WH"]},
    }
    async with serve_api(config) as running:
        yield running


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


async def stored_orders(api: Api) -> int:
    count: int = await api.hub.engine.db.read(
        lambda c: c.execute(select(func.count()).select_from(orders)).scalar_one()
    )
    return count


def problem(response: Any, status: int, limit: str, value: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["limit"] == limit and body["max"] == value
    assert limit in body["detail"] and str(value) in body["detail"]
    return body


def lines(n: int) -> list[dict[str, str]]:
    return [{"sku": f"SKU-{i}", "quantity": "1", "unit_price": "1.00"} for i in range(n)]


async def test_an_order_of_too_many_lines_is_refused_by_default(api: Api) -> None:
    ok = await api.client.post("/v1/orders", json=order(lines=lines(1000)), headers=api.auth())
    assert ok.status_code == 202, ok.text
    many = order(external_ref="WS-MANY", lines=lines(1001))
    refused = await api.client.post("/v1/orders", json=many, headers=api.auth())
    body = problem(refused, 422, "api.limits.order_lines", 1000)
    assert body["errors"][0]["pointer"] == "/lines" and body["errors"][0]["rule"] == "max_items"
    assert await stored_orders(api) == 1


async def test_a_body_over_its_limit_is_413_with_or_without_a_length(limited: Api) -> None:
    big = json.dumps(order(lines=lines(100))).encode()
    assert len(big) > 4096
    declared = await limited.client.post("/v1/orders", content=big, headers=limited.auth())
    problem(declared, 413, "api.limits.body_bytes", 4096)

    async def chunks() -> AsyncIterator[bytes]:  # chunked: no Content-Length
        for start in range(0, len(big), 1000):
            yield big[start : start + 1000]

    chunked = await limited.client.post("/v1/orders", content=chunks(), headers=limited.auth())
    problem(chunked, 413, "api.limits.body_bytes", 4096)
    assert await stored_orders(limited) == 0
    small = await limited.client.post(
        "/v1/orders", json=order(lines=lines(5)), headers=limited.auth()
    )
    assert small.status_code == 202, small.text


async def test_bulk_routes_have_their_own_limits(limited: Api) -> None:
    headers = {**limited.auth("admin"), "content-type": "application/x-ndjson"}
    line = b'{"location": "A-01", "sku": "SKU-1", "quantity": 1}\n'

    async def count(lines: int) -> AsyncIterator[bytes]:
        for _ in range(lines):
            yield line

    path = "/v1/inventory/snapshots/WH"
    cut = await limited.client.put(path, content=count(100), headers=headers)
    problem(cut, 413, "api.limits.snapshot_bytes", 4096)
    events = {"events": [{"warehouse": "WH", "sku": "S", "quantity": "1"}] * 120}
    raw = json.dumps(events).encode()
    assert 4096 < len(raw) < 8192
    answer = await limited.client.post(
        "/v1/inventory/events", content=raw, headers=limited.auth("admin")
    )
    assert answer.status_code != 413, answer.text  # over body_bytes, under stock_events_bytes
    assert answer.status_code < 500, answer.text


async def test_a_bank_statement_has_its_own_limit(limited: Api) -> None:
    row = b"2026-12-01,100.00,EUR,INV/2026/00001,Customer\n"
    body = b"date,amount,currency,reference,name\n" + row * 150
    assert len(body) > 4096  # over body_bytes, under the statement default
    answer = await limited.client.post(
        "/v1/payments/statements",
        content=body,
        headers={**limited.auth("admin"), "content-type": "text/csv"},
    )
    assert answer.status_code != 413, answer.text
    assert answer.status_code < 500, answer.text


@pytest.mark.parametrize(
    "method, path",
    [
        ("POST", "/v1/orders"),
        ("POST", "/v1/shipments"),
        ("POST", "/v1/orders/o-1/cancel"),
        ("POST", "/v1/exceptions/e-1/resolve"),
        ("POST", "/v1/inventory/events"),
        ("POST", "/v1/subscriptions"),
        ("PATCH", "/v1/subscriptions/w-1"),
        ("POST", "/v1/reconciliation/runs"),
    ],
)
async def test_json_nested_too_deep_is_a_422_on_every_route(
    api: Api, method: str, path: str
) -> None:
    answer = await api.client.request(
        method,
        path,
        content=nested(100_000),
        headers={**api.auth("admin"), "content-type": "application/json"},
    )
    body = problem(answer, 422, "api.limits.json_depth", 64)
    assert body["errors"][0]["rule"] == "max_depth"


async def test_json_as_deep_as_the_limit_passes_the_check(limited: Api) -> None:
    at_limit = await limited.client.post("/v1/orders", content=nested(8), headers=limited.auth())
    assert at_limit.status_code == 422 and "limit" not in at_limit.json()  # not an order
    deeper = await limited.client.post("/v1/orders", content=nested(9), headers=limited.auth())
    problem(deeper, 422, "api.limits.json_depth", 8)


def test_depth_counts_brackets_outside_strings_only() -> None:
    assert not deeper_than(b'{"a": "[[[[[[[[[[[[[[[[[[[["}', 2)
    assert not deeper_than(b'{"a": "\\"[[[[[[[[[[[[[[[", "b": [[1]]}', 3)
    assert deeper_than(b'{"a": "\\"[[[[[[[[[[[[[[[", "b": [[[1]]]}', 3)
    assert deeper_than(nested(100_000), 64) and not deeper_than(nested(64), 64)
    assert not deeper_than(b"[" + b"[1]," * 1000 + b"[2]]", 2)


async def test_a_count_line_nested_too_deep_is_a_bad_line(limited: Api) -> None:
    headers = {**limited.auth("admin"), "content-type": "application/x-ndjson"}
    line = b"[" * 1500 + b"]" * 1500 + b"\n"  # one line, under its 4096 bytes
    answer = await limited.client.put("/v1/inventory/snapshots/WH", content=line, headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["rule"] == "malformed"


async def test_exceptions_are_listed_page_by_page(api: Api) -> None:
    def open_some(conn: Any) -> None:
        for n in range(5):
            open_exception(
                conn,
                type="credit_hold",
                owner="finance",
                subject=f"order:{n}",
                reason="r",
                actions=["approve"],
                now=1000.0 + n // 2,  # pairs share a time: the id orders them
            )

    await api.hub.engine.writer.submit(open_some)
    seen: list[str] = []
    url = "/v1/exceptions?limit=2"
    for _ in range(3):
        page = (await api.client.get(url, headers=api.auth("ops"))).json()
        seen += [item["subject"] for item in page["items"]]
        if page["next"] is None:
            break
        url = f"/v1/exceptions?limit=2&cursor={page['next']}"
    assert sorted(seen) == [f"order:{n}" for n in range(5)] and len(seen) == 5
    deep = base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode()
    for path in ("/v1/exceptions", "/v1/orders"):
        bad = await api.client.get(f"{path}?cursor={deep}", headers=api.auth("admin"))
        assert bad.status_code == 400 and bad.json()["type"].endswith("bad-cursor"), bad.text


async def test_the_exceptions_page_shows_one_page_a_count_and_links(api: Api) -> None:
    def open_many(conn: Any) -> None:
        for n in range(120):
            open_exception(
                conn,
                type="unknown_product",
                owner="catalog",
                subject=f"order:{n:03}",
                reason="unknown SKU " + "X" * 50_000,  # a reason nobody bounded
                actions=["retry"],
                now=1000.0 + n,
            )

    await api.hub.engine.writer.submit(open_many)
    form = (await api.client.get("/ui/sign-in")).text
    [nonce] = re.findall(r'name="nonce" value="([^"]+)"', form)
    signed = await api.client.post(
        "/ui/sign-in", data={"token": api.tokens["ops"], "nonce": nonce, "next": "/ui/"}
    )
    assert signed.status_code in (302, 303), signed.text
    first = await api.client.get("/ui/exceptions")
    assert first.status_code == 200 and len(first.content) < 200_000
    assert "1\u201350 of 120" in first.text and "order:049" in first.text
    assert "order:050" not in first.text and 'rel="next"' in first.text
    assert "more characters" in first.text
    last = await api.client.get("/ui/exceptions?type=&state=open&page=3")
    assert "101\u2013120 of 120" in last.text and "order:119" in last.text
    assert 'rel="prev"' in last.text and 'rel="next"' not in last.text
