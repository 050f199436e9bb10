"""The procurement page in headless Chromium: recommendations awaiting approval with each line's
reason, approved once below the threshold, twice by two different buyers above it (the same
buyer twice is refused), rejected with a note; an operator without ``purchasing:write`` sees no
decision."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from sqlalchemy import Connection

from crossdock.engine import new_event_id
from crossdock.flows.procurement.recommend import Line, Recommendation
from crossdock.flows.procurement.store import save_run
from tests.ui.conftest import LiveHub, Screen, unique

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect


def recommended(live: LiveHub) -> dict[str, str]:
    """Three open recommendations saved as a run saves them: small, large (above the second
    approver's threshold of 100) and one to reject; answers their refs by supplier."""
    suppliers = {name: unique(f"SUP-{name}") for name in ("small", "large", "reject")}
    amounts = {"small": Decimal(2), "large": Decimal(50), "reject": Decimal(1)}
    recs = [
        Recommendation(
            supplier,
            "WH",
            "USD",
            5,
            [Line("SKU-UI", Decimal(10), amounts[name], f"forecast v1 (api) for {name}")],
        )
        for name, supplier in suppliers.items()
    ]
    assert live.hub is not None
    engine = live.hub.engine

    def write(conn: Connection) -> None:
        save_run(
            conn,
            recs,
            run_id=new_event_id(),
            now=time.time(),
            auto_approve_below=None,
            second_approver_above=Decimal(100),
        )

    live.call(engine.writer.submit(write, appends=True))
    with live.http() as client:
        items = client.get(
            "/v1/replenishment/recommendations?state=pending&limit=500",
            headers=live.auth("buyer"),
        ).json()["items"]
    return {
        name: next(i["ref"] for i in items if i["supplier_ref"] == s)
        for name, s in suppliers.items()
    }


def test_approve_once_twice_above_the_threshold_and_reject(screen: Screen, live: LiveHub) -> None:
    refs = recommended(live)
    page = screen.page
    screen.sign_in(live.tokens["buyer"])
    screen.go("/ui/procurement")
    expect(page.get_by_role("heading", name="Procurement")).to_be_visible()
    small = page.locator(f"tr[data-recommendation='{refs['small']}']")
    expect(small).to_contain_text("forecast v1 (api) for small")
    screen.shot("awaiting")

    small.get_by_role("button", name="Approve").click()
    expect(small.get_by_role("status")).to_contain_text(
        "approved: the purchase order is being placed"
    )
    assert small.get_attribute("data-state") == "approved"

    large = page.locator(f"tr[data-recommendation='{refs['large']}']")
    large.get_by_role("button", name="Approve").click()
    expect(large.get_by_role("status")).to_contain_text("a second, different approver")
    expect(large).to_have_attribute("data-state", "awaiting_second")
    large.get_by_role("button", name="Approve").click()  # the same buyer again
    expect(large.get_by_role("status")).to_contain_text("different")
    expect(large).to_have_attribute("data-state", "awaiting_second")

    rejected = page.locator(f"tr[data-recommendation='{refs['reject']}']")
    rejected.get_by_label("note").fill("stock moves to the new warehouse")
    rejected.get_by_role("button", name="Reject").click()
    expect(rejected).to_have_attribute("data-state", "rejected")
    screen.shot("decided")

    page.get_by_role("button", name="Sign out").click()
    screen.sign_in(live.tokens["buyer2"])
    screen.go("/ui/procurement")
    large = page.locator(f"tr[data-recommendation='{refs['large']}']")
    expect(large).to_contain_text("approved by token:buyer")
    large.get_by_role("button", name="Approve").click()
    expect(large).to_have_attribute("data-state", "approved")
    with live.http() as client:
        got = client.get(
            f"/v1/replenishment/recommendations/{refs['large']}", headers=live.auth("buyer")
        ).json()
    assert [a["by"] for a in got["approvals"]] == ["token:buyer", "token:buyer2"]
    expect(page.get_by_test_id("late-orders")).to_be_visible()
    expect(page.get_by_test_id("suppliers")).to_be_visible()


def test_an_operator_without_purchasing_write_sees_no_decision(
    screen: Screen, live: LiveHub
) -> None:
    refs = recommended(live)
    page = screen.page
    screen.sign_in(live.tokens["ops"])
    screen.go("/ui/procurement")
    row = page.locator(f"tr[data-recommendation='{refs['small']}']")
    expect(row).to_contain_text("needs ops:write and purchasing:write")
    expect(row.get_by_role("button", name="Approve")).to_have_count(0)
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    forged = page.request.post(
        f"{live.url}/ui/procurement/recommendations/{refs['small']}/approve",
        form={"csrf": csrf or ""},
        headers={"HX-Request": "true"},
    )
    assert "purchasing:write" in forged.text()
    with live.http() as client:
        got = client.get(
            f"/v1/replenishment/recommendations/{refs['small']}", headers=live.auth("buyer")
        ).json()
    assert got["state"] == "pending"
