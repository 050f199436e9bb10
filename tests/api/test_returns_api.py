"""`/v1/returns` over HTTP: a return asked for against an order as delivered (202 with the RMA
number), idempotent by the channel's return reference, refused with a 422 problem naming the
field and the rule (more than delivered, unknown order, closed window), its timeline and list,
and the warehouse's receipt."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest

from crossdock.connectors.memory import MemoryErp
from crossdock.flows.orders import StateChange, insert_accepted, step_row, write_changes
from crossdock.flows.returns.store import write_state
from crossdock.model import Order
from tests.api.conftest import Api, serve_api


@pytest.fixture
async def api(db_url: str) -> AsyncIterator[Api]:
    config = {
        "database": {"url": db_url},
        "api": {"port": 0},
        "returns": {
            "channels": {
                "default": {},
                "cut": {"window_days": 0},
                "bycat": {"categories": {"All / Food": {"returnable": False}}},
            }
        },
    }
    async with serve_api(config) as running:
        yield running


async def _delivered(api: Api, ref: str, channel: str = "web") -> str:
    """An order whose delivery of 2 A and 1 B was validated (as order to cash records it)."""
    order = Order.model_validate(
        {
            "external_ref": ref,
            "source": channel,
            "channel": channel,
            "currency": "EUR",
            "customer": {"external_ref": "C-1", "name": "Acme"},
            "lines": [
                {"sku": "A", "quantity": "2", "unit_price": "10"},
                {"sku": "B", "quantity": "1", "unit_price": "5"},
            ],
        }
    )
    order_id = str(uuid.uuid4())
    erp = {"shipments": [{"picking_id": 7, "shipped": {"A": "2", "B": "1"}}]}

    def write(conn: Any) -> None:
        now = time.time()
        insert_accepted(conn, order_id=order_id, order=order, now=now, event_id=None)
        write_changes(
            conn,
            [StateChange(order_id, "shipped", now, erp)],
            [step_row(order_id, "shipped", "done", now)],
        )

    await api.hub.engine.writer.submit(write)
    return order_id


def _body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "web",
        "return_ref": "RET-1",
        "order_ref": "WS-1",
        "outcome": "refund",
        "lines": [{"sku": "A", "quantity": "1", "reason": "damaged", "condition": "damaged"}],
    }
    return {**body, **over}


async def test_a_return_is_accepted_once_and_read_back_with_its_timeline(api: Api) -> None:
    order_id = await _delivered(api, "WS-1")
    first = await api.client.post("/v1/returns", json=_body(), headers=api.auth())
    assert first.status_code == 202, first.text
    rma = first.json()["rma"]
    assert rma.startswith("RMA-") and first.json()["status"] == "requested"
    assert first.json()["order_id"] == order_id

    again = await api.client.post("/v1/returns", json=_body(), headers=api.auth())
    assert again.status_code == 202 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = await api.client.post("/v1/returns", json=_body(outcome="credit"), headers=api.auth())
    assert other.status_code == 409
    assert other.headers["content-type"].startswith("application/problem+json")

    view = await api.client.get(f"/v1/returns/{rma}", headers=api.auth("reader"))
    assert view.status_code == 200
    assert view.json()["state"] == "requested" and view.json()["amount"] == "10"
    assert [s["step"] for s in view.json()["steps"]] == ["requested"]
    listed = await api.client.get(
        "/v1/returns", params={"state": "requested", "channel": "web"}, headers=api.auth()
    )
    assert [r["rma"] for r in listed.json()["items"]] == [rma]
    missing = await api.client.get("/v1/returns/RMA-NOPE", headers=api.auth())
    assert missing.status_code == 404
    forbidden = await api.client.post(
        "/v1/returns", json=_body(return_ref="RET-X"), headers=api.auth("reader")
    )
    assert forbidden.status_code == 403


async def test_bad_returns_get_a_422_naming_the_field_and_the_rule(api: Api) -> None:
    await _delivered(api, "WS-1")
    await _delivered(api, "WS-9", channel="cut")
    cases = [
        (_body(lines=[{"sku": "A", "quantity": "3"}]), "/lines/0/quantity", "returnable_quantity"),
        (_body(order_ref="NOPE"), "/order_ref", "order_exists"),
        (_body(channel="cut", order_ref="WS-9"), "/order_ref", "return_window"),
        (_body(lines=[{"sku": "Z", "quantity": "1"}]), "/lines/0/sku", "in_order"),
    ]
    for body, pointer, rule in cases:
        answer = await api.client.post("/v1/returns", json=body, headers=api.auth())
        assert answer.status_code == 422, (rule, answer.text)
        problem = answer.json()
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert [(e["pointer"], e["rule"]) for e in problem["errors"]] == [(pointer, rule)]
        assert rule in problem["detail"]
    both = await api.client.post("/v1/returns", json=_body(order_id="x"), headers=api.auth())
    assert both.status_code == 422 and "exactly one of order_id or order_ref" in both.text
    listed = await api.client.get("/v1/returns", headers=api.auth())
    assert listed.json()["items"] == []  # nothing stored for a refused return


async def test_category_rules_ask_the_erp_and_wait_while_it_is_down(api: Api) -> None:
    await _delivered(api, "WS-7", channel="bycat")
    body = _body(channel="bycat", order_ref="WS-7", return_ref="RET-C")
    down = await api.client.post("/v1/returns", json=body, headers=api.auth())
    assert down.status_code == 503  # no ERP to ask the categories: nothing decided, retry
    assert int(down.headers["retry-after"]) > 0
    erp = MemoryErp()
    erp.categories["A"] = "All / Food / Fresh"
    api.hub.erp = SimpleNamespace(operations=erp)  # type: ignore[assignment]
    try:
        refused = await api.client.post("/v1/returns", json=body, headers=api.auth())
    finally:
        api.hub.erp = None
    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert (error["pointer"], error["rule"]) == ("/lines/0/sku", "category_returnable")
    assert "returns.channels.bycat.categories['All / Food']" in error["detail"]
    listed = await api.client.get("/v1/returns", headers=api.auth())
    assert listed.json()["items"] == []


async def test_the_warehouse_confirms_the_receipt_of_an_authorised_return(api: Api) -> None:
    await _delivered(api, "WS-1")
    rma = (await api.client.post("/v1/returns", json=_body(), headers=api.auth())).json()["rma"]
    receipt = {
        "lines": [{"sku": "A", "quantity": "1", "condition": "opened", "disposition": "restock"}]
    }
    early = await api.client.post(f"/v1/returns/{rma}/receipt", json=receipt, headers=api.auth())
    assert early.status_code == 409
    await api.hub.engine.writer.submit(
        lambda conn: write_state(conn, rma, "authorized", {}, time.time())
    )
    done = await api.client.post(f"/v1/returns/{rma}/receipt", json=receipt, headers=api.auth())
    assert done.status_code == 202, done.text
    again = await api.client.post(f"/v1/returns/{rma}/receipt", json=receipt, headers=api.auth())
    assert again.json() == done.json() and again.headers["Idempotent-Replayed"] == "true"
    changed = {"lines": [{**receipt["lines"][0], "disposition": "scrap"}]}
    other = await api.client.post(f"/v1/returns/{rma}/receipt", json=changed, headers=api.auth())
    assert other.status_code == 409
    bad = await api.client.post(
        f"/v1/returns/{rma}/receipt",
        json={"lines": [{"sku": "A", "quantity": "1", "condition": "ok", "disposition": "x"}]},
        headers=api.auth(),
    )
    assert bad.status_code == 422
    unknown = await api.client.post("/v1/returns/RMA-0/receipt", json=receipt, headers=api.auth())
    assert unknown.status_code == 404
    held = {"lines": [{**receipt["lines"][0], "disposition": "quarantine"}]}
    nowhere = await api.client.post(f"/v1/returns/{rma}/receipt", json=held, headers=api.auth())
    assert nowhere.status_code == 422
    assert [(e["pointer"], e["rule"]) for e in nowhere.json()["errors"]] == [
        ("/lines/0/disposition", "quarantine_configured")
    ]


async def test_the_dashboard_lists_returns_and_shows_a_timeline(api: Api) -> None:
    await _delivered(api, "WS-1")
    rma = (await api.client.post("/v1/returns", json=_body(), headers=api.auth())).json()["rma"]
    form = await api.client.get("/ui/sign-in")
    found = re.search(r'name="nonce" value="([^"]+)"', form.text)
    assert found is not None
    signed = await api.client.post(
        "/ui/sign-in",
        data={"token": api.tokens["viewer"], "nonce": found.group(1), "next": "/ui/returns"},
        headers={"Origin": str(api.client.base_url).rstrip("/")},
    )
    assert signed.status_code == 303, signed.text
    listing = await api.client.get("/ui/returns", params={"state": "requested"})
    assert listing.status_code == 200 and rma in listing.text and "RET-1" in listing.text
    page = await api.client.get(f"/ui/returns/{rma}")
    assert page.status_code == 200
    assert 'data-testid="return-timeline"' in page.text and "requested" in page.text
    missing = await api.client.get("/ui/returns/RMA-NOPE")
    assert missing.status_code == 404
