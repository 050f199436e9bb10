"""Every time the API answers is ISO 8601 in UTC (`2026-12-05T03:18:18.123456Z`), as in the
events: order views and their steps, order lists, exceptions (open and resolved)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from crossdock.flows.exceptions import open_exception
from tests.api.conftest import Api
from tests.api.test_orders_api import ORDER


def times_in(body: Any, key: str = "") -> list[tuple[str, Any]]:
    """Every value of a key naming a moment (`at`, `*_at`) anywhere in a JSON body."""
    found: list[tuple[str, Any]] = []
    if isinstance(body, dict):
        for name, value in body.items():
            if name == "at" or name.endswith("_at"):
                found.append((name, value))
            found += times_in(value, name)
    elif isinstance(body, list):
        for item in body:
            found += times_in(item, key)
    return found


def assert_utc_iso(body: Any, *, expected: int) -> None:
    moments = [(k, v) for k, v in times_in(body) if v is not None]
    assert len(moments) >= expected, moments
    for key, value in moments:
        assert isinstance(value, str) and value.endswith("Z"), f"{key}: {value!r}"
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        assert moment.utcoffset() is not None and abs(time.time() - moment.timestamp()) < 3600


async def test_order_views_and_lists_give_iso_8601_utc(api: Api) -> None:
    accepted = await api.client.post("/v1/orders", json=ORDER, headers=api.auth())
    assert accepted.status_code == 202, accepted.text
    view = (await api.client.get(accepted.json()["links"]["self"], headers=api.auth())).json()
    assert_utc_iso(view, expected=3)  # accepted_at, updated_at, steps[0].at
    assert view["steps"][0]["at"] == view["accepted_at"]
    listed = (await api.client.get("/v1/orders", headers=api.auth())).json()
    assert_utc_iso(listed, expected=2)
    assert listed["items"][0]["accepted_at"] == view["accepted_at"]


async def test_exceptions_give_iso_8601_utc(api: Api) -> None:
    now = time.time()
    record = await api.hub.engine.writer.submit(
        lambda c: open_exception(
            c,
            type="credit_hold",
            owner="finance",
            subject="order:T",
            reason="over the credit limit",
            actions=["approve"],
            now=now,
        )
    )
    listed = (await api.client.get("/v1/exceptions", headers=api.auth("viewer"))).json()
    assert_utc_iso(listed, expected=1)
    created = listed["items"][0]["created_at"]
    assert created == datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z")
    done = await api.client.post(
        f"/v1/exceptions/{record.id}/resolve", json={"action": "approve"}, headers=api.auth("ops")
    )
    assert done.status_code == 200
    assert_utc_iso(done.json(), expected=2)  # created_at, resolved_at
