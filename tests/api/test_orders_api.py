"""Order intake and status over HTTP: 202 once durable, idempotency, validation problems with
JSON pointers and rules, nothing stored on rejection, listing and cancellation."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.api.conftest import Api

ORDER: dict[str, Any] = {
    "channel": "webshop",
    "external_ref": "WS-1001",
    "currency": "USD",
    "customer": {
        "external_ref": "C-42",
        "name": "Acme Ltd",
        "email": "buyer@acme.example",
        "address": {
            "street": "1 Main St",
            "city": "Springfield",
            "postal_code": "12345",
            "country": "US",
        },
    },
    "lines": [{"sku": "DESK-1", "quantity": "2", "unit_price": "120.00"}],
    "requested_date": "2026-11-30",
}


def order(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(ORDER)
    body.update(changes)
    return body


async def test_accepted_order_is_durable_and_visible(api: Api) -> None:
    response = await api.client.post("/v1/orders", json=ORDER, headers=api.auth())
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "accepted" and body["links"]["self"] == f"/v1/orders/{body['id']}"
    view = (await api.client.get(body["links"]["self"], headers=api.auth("reader"))).json()
    assert view["state"] == "accepted" and view["total"] == "240.00"
    assert [s["step"] for s in view["steps"]] == ["accepted"]
    assert [e["type"] for e in view["events"]] == ["order.accepted"]
    [event] = await api.hub.engine.last_events(1)
    assert (
        event.subject == f"order:{body['id']}" and event.data["order"]["external_ref"] == "WS-1001"
    )


async def test_idempotency_same_body_replays_other_body_conflicts(api: Api) -> None:
    first = await api.client.post("/v1/orders", json=ORDER, headers=api.auth())
    again = await api.client.post("/v1/orders", json=ORDER, headers=api.auth())
    assert again.status_code == 202 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    changed = await api.client.post(
        "/v1/orders",
        json=order(lines=[{"sku": "DESK-1", "quantity": "3", "unit_price": "1"}]),
        headers=api.auth(),
    )
    assert changed.status_code == 409
    assert changed.headers["content-type"] == "application/problem+json"
    other_key = await api.client.post(
        "/v1/orders", json=ORDER, headers={**api.auth(), "Idempotency-Key": "retry-7"}
    )
    assert other_key.status_code == 409 and other_key.json()["id"] == first.json()["id"]
    assert len(await api.hub.engine.last_events(10)) == 1


@pytest.mark.parametrize(
    ("body", "pointer", "rule_part"),
    [
        (order(lines=[{"sku": "D", "quantity": "0", "unit_price": "1"}]), "/lines/0/quantity", ""),
        (order(currency="XYZ"), "/currency", ""),
        (order(lines=[{"sku": "D", "quantity": "1", "unit_price": ""}]), "/lines/0/unit_price", ""),
        (
            order(lines=[{"sku": "D", "quantity": "1", "unit_price": "abc"}]),
            "/lines/0/unit_price",
            "",
        ),
        (
            order(
                lines=[
                    {"sku": "D", "quantity": "1", "unit_price": "1"},
                    {"sku": "D", "quantity": "2", "unit_price": "1"},
                ]
            ),
            "/lines/1/sku",
            "",
        ),
        (
            order(
                customer={
                    **ORDER["customer"],
                    "address": {"street": "1 Main St", "postal_code": "1", "country": "US"},
                }
            ),
            "/customer/address/city",
            "missing",
        ),
        (
            order(
                customer={
                    **ORDER["customer"],
                    "address": {**ORDER["customer"]["address"], "country": "ZZ"},
                }
            ),
            "/customer/address/country",
            "",
        ),
    ],
)
async def test_bad_input_names_field_and_rule_and_stores_nothing(
    api: Api, body: dict[str, Any], pointer: str, rule_part: str
) -> None:
    response = await api.client.post("/v1/orders", json=body, headers=api.auth())
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422 and problem["type"].endswith("/validation")
    matching = [e for e in problem["errors"] if e["pointer"] == pointer]
    assert matching, problem["errors"]
    assert rule_part in matching[0]["rule"] and matching[0]["detail"]
    assert await api.hub.engine.last_events(5) == []
    listed = await api.client.get("/v1/orders", headers=api.auth("reader"))
    assert listed.json()["items"] == []


async def test_malformed_json_is_a_problem(api: Api) -> None:
    response = await api.client.post(
        "/v1/orders",
        content=b'{"channel": ',
        headers={**api.auth(), "content-type": "application/json"},
    )
    assert response.status_code == 422 and response.json()["type"].endswith("/validation")


async def test_list_filters_and_pages(api: Api) -> None:
    for n in range(5):
        channel = "edi" if n % 2 else "webshop"
        response = await api.client.post(
            "/v1/orders", json=order(external_ref=f"R-{n}", channel=channel), headers=api.auth()
        )
        assert response.status_code == 202
    page = (await api.client.get("/v1/orders?limit=2", headers=api.auth("reader"))).json()
    assert [o["external_ref"] for o in page["items"]] == ["R-4", "R-3"]
    rest = (
        await api.client.get(
            f"/v1/orders?limit=2&cursor={page['next']}", headers=api.auth("reader")
        )
    ).json()
    assert [o["external_ref"] for o in rest["items"]] == ["R-2", "R-1"]
    edi = (await api.client.get("/v1/orders?channel=edi", headers=api.auth("reader"))).json()
    assert {o["external_ref"] for o in edi["items"]} == {"R-1", "R-3"}
    bad = await api.client.get("/v1/orders?state=lost", headers=api.auth("reader"))
    assert bad.status_code == 400


async def test_cancel_request_appends_an_event(api: Api) -> None:
    accepted = (await api.client.post("/v1/orders", json=ORDER, headers=api.auth())).json()
    response = await api.client.post(
        f"/v1/orders/{accepted['id']}/cancel",
        json={"reason": "customer changed mind"},
        headers=api.auth(),
    )
    assert response.status_code == 202
    [event] = await api.hub.engine.last_events(1)
    assert event.type == "order.cancel_requested" and event.data["by"] == "writer"
    missing = await api.client.post(
        "/v1/orders/nope/cancel", json={"reason": "x"}, headers=api.auth()
    )
    assert missing.status_code == 404


async def test_shipment_for_an_unreleased_order_conflicts(api: Api) -> None:
    accepted = (await api.client.post("/v1/orders", json=ORDER, headers=api.auth())).json()
    shipment = {
        "order_id": accepted["id"],
        "external_ref": "SHP-1",
        "source": "wms",
        "warehouse": "WH1",
        "lines": [{"sku": "DESK-1", "quantity": "1"}],
        "carrier": "ups",
        "tracking_number": "1Z999",
    }
    response = await api.client.post("/v1/shipments", json=shipment, headers=api.auth())
    assert response.status_code == 409 and "accepted" in response.json()["detail"]
