"""Orders by the shop's own number: look-up by channel and external reference, the list's
filters (each one narrows the list), and query parameters a route does not declare answered as a
400 problem naming them on every route of the API, never silently ignored."""

from __future__ import annotations

import re
import time
from urllib.parse import quote

import jsonschema
import pytest
from sqlalchemy import Connection

from crossdock.catalog.registry import CATALOG
from crossdock.flows.exceptions import open_exception
from crossdock.flows.orders import order_subject
from tests.api.conftest import Api
from tests.api.test_orders_api import order

PROBLEM = "application/problem+json"


async def _accept(api: Api, **changes: str) -> str:
    response = await api.client.post("/v1/orders", json=order(**changes), headers=api.auth())
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def test_an_order_is_found_by_its_channel_and_external_ref(api: Api) -> None:
    webshop = await _accept(api, channel="webshop", external_ref="WS-1001")
    edi = await _accept(api, channel="edi", external_ref="WS-1001")
    slashed = await _accept(api, channel="edi", external_ref="PO/2026/17")
    for channel, ref, order_id in (
        ("webshop", "WS-1001", webshop),
        ("edi", "WS-1001", edi),
        ("edi", "PO/2026/17", slashed),
    ):
        response = await api.client.get(
            f"/v1/orders/by-ref/{channel}/{quote(ref, safe='')}", headers=api.auth("reader")
        )
        assert response.status_code == 200, response.text
        view = response.json()
        assert (view["id"], view["channel"], view["external_ref"]) == (order_id, channel, ref)
        assert [s["step"] for s in view["steps"]] == ["accepted"]
    missing = await api.client.get("/v1/orders/by-ref/webshop/WS-9999", headers=api.auth("reader"))
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    assert "webshop" in missing.json()["detail"] and "WS-9999" in missing.json()["detail"]
    anonymous = await api.client.get("/v1/orders/by-ref/webshop/WS-1001")
    assert anonymous.status_code == 401


async def test_every_list_filter_narrows_the_list(api: Api) -> None:
    first = await _accept(api, channel="webshop", external_ref="WS-1001")
    other_channel = await _accept(api, channel="edi", external_ref="WS-1001")
    await _accept(api, channel="webshop", external_ref="WS-1002")

    async def ids(query: str) -> list[str]:
        response = await api.client.get(f"/v1/orders?{query}", headers=api.auth("reader"))
        assert response.status_code == 200, response.text
        return [o["id"] for o in response.json()["items"]]

    assert set(await ids("external_ref=WS-1001")) == {first, other_channel}
    assert await ids("external_ref=WS-1001&channel=webshop") == [first]
    assert await ids("external_ref=WS-1001&channel=edi") == [other_channel]
    assert await ids("external_ref=WS-1001&state=accepted&limit=1") in ([first], [other_channel])
    assert await ids("external_ref=WS-1001&state=invoiced") == []
    assert await ids("external_ref=NOPE") == []
    assert len(await ids("channel=webshop")) == 2
    assert len(await ids("since=2000-01-01T00:00:00Z")) == 3
    assert await ids("since=2999-01-01T00:00:00Z") == []
    assert len(await ids("state=accepted")) == 3
    page = await api.client.get("/v1/orders?external_ref=WS-1001&limit=1", headers=api.auth())
    rest = await ids(f"external_ref=WS-1001&limit=1&cursor={page.json()['next']}")
    assert {page.json()["items"][0]["id"], *rest} == {first, other_channel}


def _concrete(path: str) -> str:
    """A request path for a route's template: every path parameter given a plain value (digits,
    so that a route whose parameter is typed in its path, such as `{version:int}`, matches)."""
    return re.sub(r"\{[^}]+\}", "1", path)


async def test_a_list_with_an_unknown_parameter_is_rejected_not_ignored(api: Api) -> None:
    await _accept(api, channel="webshop", external_ref="WS-1001")
    response = await api.client.get("/v1/orders?external_reference=WS-1001", headers=api.auth())
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert "external_reference" in problem["detail"]
    assert problem["errors"] == [
        {
            "pointer": "/query/external_reference",
            "rule": "unknown_parameter",
            "detail": problem["errors"][0]["detail"],
        }
    ]
    assert "external_ref" in problem["errors"][0]["detail"]  # it says what the route takes


async def test_every_route_rejects_an_unknown_query_parameter(api: Api) -> None:
    document = (await api.client.get("/openapi.json")).json()
    operations = [
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    ]
    assert len(operations) > 30
    answers: dict[str, tuple[int, str]] = {}
    for method, path in operations:
        url = f"{_concrete(path)}?bogus_param=1"
        response = await api.client.request(method, url, json={}, headers=api.auth("admin"))
        is_json = "json" in response.headers.get("content-type", "")
        detail = response.json().get("detail", "") if is_json else response.text[:80]
        answers[f"{method} {path}"] = (response.status_code, str(detail))
    wrong = {
        where: answer
        for where, answer in answers.items()
        if answer[0] != 400 or "bogus_param" not in answer[1]
    }
    assert not wrong, wrong


@pytest.mark.parametrize("query", ["limit=5", "state=accepted&channel=webshop", ""])
async def test_declared_parameters_still_pass(api: Api, query: str) -> None:
    response = await api.client.get(f"/v1/orders?{query}", headers=api.auth("reader"))
    assert response.status_code == 200


async def test_events_and_exceptions_from_the_api_name_the_order(api: Api) -> None:
    order_id = await _accept(api, channel="webshop", external_ref="WS-1001")
    cancel = await api.client.post(
        f"/v1/orders/{order_id}/cancel", json={"reason": "changed mind"}, headers=api.auth()
    )
    assert cancel.status_code == 202

    def open_one(conn: Connection) -> str:
        return open_exception(
            conn,
            type="credit_hold",
            owner="finance",
            subject=order_subject(order_id),
            reason="over the limit",
            actions=["approve", "reject"],
            now=time.time(),
        ).id

    exception_id = await api.hub.engine.writer.submit(open_one)
    [listed] = (await api.client.get("/v1/exceptions", headers=api.auth("ops"))).json()["items"]
    assert (listed["subject"], listed["channel"], listed["external_ref"]) == (
        order_subject(order_id),
        "webshop",
        "WS-1001",
    )
    resolved = await api.client.post(
        f"/v1/exceptions/{exception_id}/resolve",
        json={"action": "approve"},
        headers=api.auth("ops"),
    )
    assert resolved.status_code == 200, resolved.text
    assert (resolved.json()["channel"], resolved.json()["external_ref"]) == ("webshop", "WS-1001")
    view = (await api.client.get(f"/v1/orders/{order_id}", headers=api.auth("reader"))).json()
    assert view["exceptions"][0]["external_ref"] == "WS-1001"

    events = await api.hub.engine.events_after(0, 100, subject=order_subject(order_id))
    assert [e.type for e in events] == [
        "order.accepted",
        "order.cancel_requested",
        "exception.resolved",
    ]
    for event in events:
        assert (event.data["order_id"], event.data["channel"], event.data["external_ref"]) == (
            order_id,
            "webshop",
            "WS-1001",
        )
        jsonschema.Draft202012Validator(CATALOG[event.type].schema).validate(event.data)
