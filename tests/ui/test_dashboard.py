"""The operations dashboard driven in headless Chromium: sign in and out, find an order and read
its timeline, resolve a credit hold, replay a dead letter once its cause is fixed, an Odoo outage
on the overview, a read-only operator sees no action and is refused a forged one, a request
without the session's CSRF token is refused, the overview refreshes in place, and no page logs a
console error. Screenshots land in `test-artifacts/ui/`."""

from __future__ import annotations

import re
from typing import Any

import pytest

from crossdock.demo import OVER_CREDIT
from tests.support.waiting import until_sync
from tests.ui.conftest import (
    BROKEN_PREFIX,
    DOWNSTREAM,
    LiveHub,
    Screen,
    order_body,
    unique,
)

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect


def _dead_letter_of(live: LiveHub, order_id: str) -> Any:
    assert live.hub is not None
    dead = live.call(live.hub.engine.dead_letters(limit=500))
    return next((d for d in dead if d.subject == f"order:{order_id}"), None)


def _open_dead(live: LiveHub) -> int:
    assert live.hub is not None
    return len(live.call(live.hub.engine.dead_letters(limit=500)))


def test_sign_in_needs_a_token_with_ops_read_and_sign_out_ends_the_session(
    screen: Screen, live: LiveHub
) -> None:
    page = screen.page
    # A refused sign-in answers 401/403: Chromium logs the status of that page load.
    screen.allowed = ["status of 401", "status of 403"]

    screen.go("/ui/orders")
    expect(page).to_have_url(re.compile(r"/ui/sign-in\?next=%2Fui%2Forders$"))
    screen.shot("sign-in")
    page.fill("#token", "cdk_not-a-token")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("unknown or revoked")
    page.fill("#token", live.tokens["outsider"])
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("lacks the scope ops:read")

    page.fill("#token", live.tokens["ops"])
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{live.url}/ui/orders")  # back where it was going
    expect(page.get_by_test_id("who")).to_have_text("ops")
    cookie = next(c for c in page.context.cookies() if c["name"] == "crossdock_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/ui"
    assert live.tokens["ops"] not in cookie["value"]  # the token itself stays out of the browser

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/ui/sign-in$"))
    screen.go("/ui/")
    expect(page).to_have_url(re.compile(r"/ui/sign-in\?next="))


def test_find_an_order_and_open_its_timeline(screen: Screen, live: LiveHub) -> None:
    ref = unique("UI-FIND")
    order_id = live.post_order(order_body(ref))
    shown = live.wait_state(order_id, "released")
    [sale_order] = shown["erp"]["sale_orders"]
    page = screen.page
    screen.sign_in(live.tokens["ops"])

    page.get_by_role("link", name="Orders", exact=True).click()
    page.fill("input[name=q]", ref)
    page.get_by_role("button", name="Search").click()
    rows = page.locator("[data-testid=orders] tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("released")
    rows.first.get_by_role("link", name=ref).click()

    expect(page).to_have_url(f"{live.url}/ui/orders/{order_id}")
    expect(page.get_by_test_id("order-state")).to_have_text("released")
    timeline = page.get_by_test_id("timeline")
    for step in ("accepted", "confirmed", "released"):
        expect(timeline).to_contain_text(step)
    expect(timeline).to_contain_text("order.accepted")
    expect(page.get_by_test_id("erp")).to_contain_text(sale_order["name"])
    expect(page.locator("h1")).to_contain_text(ref)
    expect(page.get_by_test_id("audit")).to_contain_text("order.accepted")
    # Deliveries show up as the live section refreshes: one healthy endpoint, one failing.
    deliveries = page.get_by_test_id("deliveries")
    expect(deliveries).to_contain_text("order.released")
    expect(deliveries.locator(".delivery-delivered").first).to_be_visible()
    expect(deliveries.locator(".delivery-dead")).to_have_count(1)
    screen.shot("timeline")

    page.get_by_role("link", name="Orders", exact=True).click()
    page.fill("input[name=q]", order_id)  # by the hub's id too
    page.get_by_role("button", name="Search").click()
    expect(page.locator("[data-testid=orders] tbody tr")).to_have_count(1)


def test_the_search_box_of_every_page_finds_an_order_by_the_shops_number(
    screen: Screen, live: LiveHub
) -> None:
    ref = unique("UI-SHOP")
    order_id = live.post_order(order_body(ref))
    page = screen.page
    screen.sign_in(live.tokens["ops"])
    for path in ("/ui/", "/ui/exceptions", "/ui/dead-letters"):
        screen.go(path)
        search = page.get_by_test_id("find-order")
        search.get_by_label("Find an order").fill(ref)
        search.get_by_role("button", name="Find").click()
        rows = page.locator("[data-testid=orders] tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("webshop")
        rows.first.get_by_role("link", name=ref).click()
        expect(page).to_have_url(f"{live.url}/ui/orders/{order_id}")


def test_resolve_a_credit_hold(screen: Screen, live: LiveHub) -> None:
    ref = unique("UI-CREDIT")
    order_id = live.post_order(order_body(ref, customer=OVER_CREDIT, quantity="10"))
    hold = live.open_exception(order_id, "credit_hold")
    page = screen.page
    screen.sign_in(live.tokens["ops"])
    expect(page.locator("[data-kpi=open-exceptions]")).not_to_have_text("0")

    page.get_by_role("link", name="Exceptions", exact=True).click()
    row = page.locator(f"tr[data-exception='{hold['id']}']")
    expect(row).to_contain_text("over the credit limit")
    # the order is named as the shop knows it, not by the hub's id
    expect(row.get_by_role("link", name=f"webshop/{ref}")).to_be_visible()
    expect(row).not_to_contain_text(f"order:{order_id}")
    row.get_by_label("action").select_option("approve")
    row.get_by_label("note").fill("known customer, paid upfront")
    screen.shot("before-resolve")
    row.get_by_role("button", name="Resolve").click()

    expect(row.locator(".exc-state-resolved")).to_have_text("resolved")
    expect(row).to_contain_text("approve")
    expect(row).to_contain_text("by ops")
    live.wait_state(order_id, "released")
    [entry] = [a for a in live.audit(f"order:{order_id}") if a["action"] == "exception.resolved"]
    assert entry["actor"] == "token:ops"
    assert entry["details"]["action"] == "approve"
    assert entry["details"]["note"] == "known customer, paid upfront"

    expect(row.get_by_role("link", name=f"webshop/{ref}")).to_be_visible()  # after the swap too
    row.get_by_role("link", name=f"webshop/{ref}").click()
    expect(page.get_by_test_id("order-state")).to_have_text("released")
    expect(page.get_by_test_id("timeline")).to_contain_text("credit_hold_resolved")
    screen.shot("after-resolve")


def test_replay_a_dead_letter_once_the_cause_is_fixed(screen: Screen, live: LiveHub) -> None:
    downstream = live.downstream
    downstream.broken = True
    try:
        ref = unique(BROKEN_PREFIX)
        order_id = live.post_order(order_body(ref))
        until_sync(lambda: _dead_letter_of(live, order_id) is not None, 30, "a dead letter")
    finally:
        downstream.broken = False  # the cause is fixed
    dead = _dead_letter_of(live, order_id)
    page = screen.page
    screen.sign_in(live.tokens["ops"])
    expect(page.locator("[data-kpi=dead-letters]")).not_to_have_text("0")
    screen.shot("overview-with-dead-letter")

    page.get_by_role("link", name="Dead letters", exact=True).click()
    row = page.locator(f"tr[data-dead='{dead.id}']")
    expect(row.get_by_role("link", name=f"webshop/{ref}")).to_be_visible()
    expect(row).to_contain_text(DOWNSTREAM)
    expect(row).to_contain_text("the downstream system refused the order")
    screen.shot("dead-letters")
    assert order_id not in downstream.seen
    row.get_by_role("button", name="Replay").click()

    expect(row).to_contain_text("replayed")
    until_sync(lambda: order_id in downstream.seen, 30, "the replayed event handled")
    [entry] = [a for a in live.audit(f"order:{order_id}") if a["action"] == "dead_letter.replayed"]
    assert entry["actor"] == "token:ops" and entry["details"]["dead_letter"] == dead.id
    screen.go("/ui/")
    expect(page.locator("[data-kpi=dead-letters]")).to_have_text(str(_open_dead(live)))


def test_an_odoo_outage_shows_on_the_overview_and_orders_wait_for_it(
    screen: Screen, live: LiveHub
) -> None:
    page = screen.page
    screen.sign_in(live.tokens["ops"])
    expect(page.locator("[data-circuit=odoo]")).to_have_text("closed")
    live.odoo_faults(outage_s=600)
    try:
        order_id = live.post_order(order_body(unique("UI-OUTAGE")))
        expect(page.locator("[data-circuit=odoo]")).to_have_text(re.compile("open"))
        assert live.order(order_id)["state"] == "accepted"
        screen.shot("odoo-down")
    finally:
        live.odoo_faults(clear=True)
    live.wait_state(order_id, "released")
    expect(page.locator("[data-circuit=odoo]")).to_have_text("closed")
    expect(page.locator("[data-last-success=odoo]")).to_contain_text(re.compile(r"(ms|s) ago"))
    assert _dead_letter_of(live, order_id) is None  # waited out, not buried


def test_a_read_only_operator_sees_no_action_and_a_forged_one_is_refused(
    screen: Screen, live: LiveHub
) -> None:
    order_id = live.post_order(order_body(unique("UI-RO"), customer=OVER_CREDIT, quantity="10"))
    hold = live.open_exception(order_id, "credit_hold")
    page = screen.page
    screen.sign_in(live.tokens["viewer"])
    expect(page.get_by_test_id("read-only")).to_be_visible()

    screen.go("/ui/exceptions")
    row = page.locator(f"tr[data-exception='{hold['id']}']")
    expect(row).to_contain_text("approve / reject")
    expect(page.get_by_role("button", name="Resolve")).to_have_count(0)
    screen.shot("read-only-exceptions")
    screen.go("/ui/dead-letters?all=true")
    expect(page.get_by_role("button", name="Replay")).to_have_count(0)

    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    assert csrf
    forged = page.request.post(
        f"{live.url}/ui/exceptions/{hold['id']}/resolve",
        form={"csrf": csrf, "action": "approve", "note": "forged"},
    )
    assert forged.status == 403 and "ops:write" in forged.text()
    replay = page.request.post(f"{live.url}/ui/dead-letters/1/replay", form={"csrf": csrf})
    assert replay.status == 403
    assert live.open_exception(order_id, "credit_hold")["id"] == hold["id"]  # still open

    # An operator's session without its CSRF token, or from another origin, is refused too.
    page.get_by_role("button", name="Sign out").click()
    screen.sign_in(live.tokens["ops"])
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    assert csrf
    url = f"{live.url}/ui/exceptions/{hold['id']}/resolve"
    no_token = page.request.post(url, form={"action": "approve"})
    assert no_token.status == 403 and "CSRF" in no_token.text()
    elsewhere = page.request.post(
        url, form={"csrf": csrf, "action": "approve"}, headers={"Origin": "http://evil.test"}
    )
    assert elsewhere.status == 403
    assert live.open_exception(order_id, "credit_hold")["id"] == hold["id"]


def test_the_overview_refreshes_in_place(screen: Screen, live: LiveHub) -> None:
    page = screen.page
    screen.sign_in(live.tokens["ops"])
    count = page.locator("[data-kpi=orders-24h]")
    before = int(count.inner_text())
    page.evaluate("window.stayed = 'yes'")  # lost if the page reloaded

    live.post_order(order_body(unique("UI-LIVE")))

    expect(count).to_have_text(str(before + 1), timeout=15_000)
    assert page.evaluate("window.stayed") == "yes"
    screen.shot("overview")


def test_every_page_renders_without_console_errors(screen: Screen, live: LiveHub) -> None:
    page = screen.page
    screen.sign_in(live.tokens["ops"])
    pages = {
        "overview": "/ui/",
        "orders": "/ui/orders",
        "exceptions": "/ui/exceptions?state=all",
        "dead-letters": "/ui/dead-letters?all=true",
        "edi": "/ui/edi",
        "drift": "/ui/drift",  # last: its text is checked below
    }
    for name, path in pages.items():
        response = screen.go(path)
        assert response is not None and response.status == 200, name
        assert "default-src 'self'" in response.headers["content-security-policy"]
        expect(page.locator("h1")).to_be_visible()
        screen.shot(name)
    drift = page.locator("main")
    expect(drift).to_contain_text(re.compile("not part of this build|No open drift|since|could"))
    with page.expect_response(lambda r: "/ui/fragments/overview" in r.url) as refreshed:
        screen.go("/ui/")
    assert refreshed.value.status == 200


def test_an_action_without_the_sessions_csrf_token_is_refused_in_the_page(
    screen: Screen, live: LiveHub
) -> None:
    order_id = live.post_order(order_body(unique("UI-CSRF"), customer=OVER_CREDIT, quantity="10"))
    hold = live.open_exception(order_id, "credit_hold")
    page = screen.page
    screen.allowed = ["status of 403"]  # Chromium logs the refused request's status
    screen.sign_in(live.tokens["ops"])
    screen.go("/ui/exceptions?type=credit_hold")
    row = page.locator(f"tr[data-exception='{hold['id']}']")
    # What a forged page would send: neither the header nor the form field carries the token.
    page.evaluate(
        """() => {
            document.body.setAttribute('hx-headers', '{"X-CSRF-Token": "forged"}');
            document.querySelectorAll('input[name=csrf]').forEach(i => { i.value = 'forged'; });
        }"""
    )
    row.get_by_role("button", name="Resolve").click()

    expect(page.locator("#flash")).to_contain_text("CSRF token")
    expect(row.locator(".exc-state-open")).to_have_text("open")
    assert live.open_exception(order_id, "credit_hold")["id"] == hold["id"]
    screen.shot("csrf-refused")
