"""The subscriptions API: create (secret shown once), list, update, pause/resume, delete, scope,
destination rules (SSRF), secret rotation with an overlap during which both signatures go, and
a signed test event sent on request."""

from __future__ import annotations

from typing import Any

from crossdock.catalog.registry import CATALOG
from tests.support.waiting import until
from tests.webhooks.conftest import HubFactory, WebhookHub
from tests.webhooks.receiver import Receiver, Reply


async def test_subscription_lifecycle(hooks: WebhookHub) -> None:
    created = await hooks.client.post(
        "/v1/subscriptions",
        json={"url": "http://127.0.0.1:9/x", "event_types": ["order.*"], "description": "CRM"},
        headers=hooks.auth(),
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["state"] == "active"
    sub_id = body["id"]
    listed = await hooks.client.get("/v1/subscriptions", headers=hooks.auth())
    assert [s["id"] for s in listed.json()["items"]] == [sub_id]
    assert "secret" not in listed.json()["items"][0]
    shown = await hooks.client.get(f"/v1/subscriptions/{sub_id}", headers=hooks.auth())
    assert "secret" not in shown.json()
    patched = await hooks.client.patch(
        f"/v1/subscriptions/{sub_id}",
        json={"event_types": ["invoice.posted", "shipment.*"], "max_in_flight": 4},
        headers=hooks.auth(),
    )
    assert patched.json()["event_types"] == ["invoice.posted", "shipment.*"]
    assert patched.json()["max_in_flight"] == 4
    paused = await hooks.client.post(f"/v1/subscriptions/{sub_id}/pause", headers=hooks.auth())
    assert paused.json()["state"] == "paused"
    resumed = await hooks.client.post(f"/v1/subscriptions/{sub_id}/resume", headers=hooks.auth())
    assert resumed.json()["state"] == "active"
    deleted = await hooks.client.delete(f"/v1/subscriptions/{sub_id}", headers=hooks.auth())
    assert deleted.status_code == 204
    gone = await hooks.client.get(f"/v1/subscriptions/{sub_id}", headers=hooks.auth())
    assert gone.status_code == 404 and gone.json()["type"].endswith("not-found")


async def test_scope_and_validation(lite: WebhookHub) -> None:
    ok_body = {"url": "http://127.0.0.1:9/x", "event_types": ["order.*"]}
    no_scope = await lite.client.post(
        "/v1/subscriptions", json=ok_body, headers=lite.auth("writer")
    )
    assert no_scope.status_code == 403
    assert (await lite.client.get("/v1/subscriptions")).status_code == 401
    refused = {
        "ftp://127.0.0.1/x": "only http and https",
        "http://10.1.2.3/hook": "private",
        "http://169.254.169.254/latest/meta-data": "link-local",
        "http://[::1]:8080/hook": "private",
        "http://localhost.invalid/hook": "does not resolve",
    }
    for url, why in refused.items():
        answer = await lite.client.post(
            "/v1/subscriptions", json={**ok_body, "url": url}, headers=lite.auth()
        )
        assert answer.status_code == 422, (url, answer.text)
        problem: dict[str, Any] = answer.json()
        assert problem["errors"][0]["pointer"] == "/url"
        assert why in problem["detail"], (url, problem["detail"])
    bad_types = await lite.client.post(
        "/v1/subscriptions",
        json={**ok_body, "event_types": ["order.nope", "Bad Type"]},
        headers=lite.auth(),
    )
    assert bad_types.status_code == 422
    assert bad_types.json()["errors"][0]["pointer"] == "/event_types"


async def test_rotation_keeps_old_and_new_receivers_working(
    sqlite_url: str, make_hub: HubFactory
) -> None:
    hooks = await make_hub(sqlite_url)
    receiver = await hooks.receiver()
    sub = await hooks.subscribe(receiver, ["order.*"])
    old_secret = sub["secret"]
    rotated = await hooks.client.post(
        f"/v1/subscriptions/{sub['id']}/rotate", json={"overlap_s": 3600}, headers=hooks.auth()
    )
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret != old_secret and rotated.json()["previous_valid_until"]
    receiver.secrets = [old_secret, new_secret]
    await hooks.emit("order.confirmed", "order:ROT1", order_id="ROT1")
    await until(lambda: _got(receiver, 1), what="delivery during the overlap")
    assert receiver.received[0].verified_by == [0, 1], "both secrets verify during the overlap"
    assert len(receiver.received[0].headers["webhook-signature"].split()) == 2
    # an overlap of 0: from now on only the new secret signs
    await hooks.client.post(
        f"/v1/subscriptions/{sub['id']}/rotate", json={"overlap_s": 0}, headers=hooks.auth()
    )
    newest = await hooks.client.get(f"/v1/subscriptions/{sub['id']}", headers=hooks.auth())
    assert newest.json()["secret_rotated_until"] is None
    await hooks.emit("order.confirmed", "order:ROT2", order_id="ROT2")
    await until(lambda: _got(receiver, 2), what="delivery after the overlap")
    assert receiver.received[1].verified_by == []  # neither old secret verifies any more
    assert len(receiver.received[1].headers["webhook-signature"].split()) == 1


async def _got(receiver: Receiver, n: int) -> bool:
    return len(receiver.received) >= n


async def test_a_test_event_is_signed_sent_and_answered(lite: WebhookHub) -> None:
    receiver = await lite.receiver()
    sub = await lite.subscribe(receiver, ["order.*"])
    answer = await lite.client.post(f"/v1/subscriptions/{sub['id']}/test", headers=lite.auth())
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["delivered"] is True and result["status"] == 200 and result["error"] is None
    assert result["duration_ms"] >= 0
    [got] = receiver.received
    assert got.verified_by == [0], "signed with the subscription's secret"
    assert got.msg_id == result["event_id"]
    event = got.event
    assert event["type"] == "webhook.test" and event["id"] == result["event_id"]
    assert event["data"]["endpoint_id"] == sub["id"]
    assert event["type"] in CATALOG, "every type delivered has a schema in the catalog"
    unknown = await lite.client.post("/v1/subscriptions/nope/test", headers=lite.auth())
    assert unknown.status_code == 404 and unknown.json()["type"].endswith("not-found")
    no_scope = await lite.client.post(
        f"/v1/subscriptions/{sub['id']}/test", headers=lite.auth("writer")
    )
    assert no_scope.status_code == 403


async def test_a_failing_test_delivery_answers_its_result(lite: WebhookHub) -> None:
    receiver = await lite.receiver(script=lambda received, n: Reply(503))
    sub = await lite.subscribe(receiver, ["order.*"])
    answer = await lite.client.post(f"/v1/subscriptions/{sub['id']}/test", headers=lite.auth())
    assert answer.status_code == 200, answer.text
    assert answer.json()["delivered"] is False and answer.json()["status"] == 503
    messages = await lite.client.get(f"/v1/subscriptions/{sub['id']}/messages", headers=lite.auth())
    assert messages.json()["items"] == [], "a test is not queued, retried or dead-lettered"
