"""Tokens and scopes (401/403/429), and the exceptions queue over HTTP."""

from __future__ import annotations

import time

from sqlalchemy import select
from typer.testing import CliRunner

from crossdock.api.tables import api_tokens
from crossdock.cli import app
from crossdock.flows.exceptions import open_exception
from tests.api.conftest import Api
from tests.api.test_orders_api import ORDER


async def test_missing_unknown_and_underprivileged_tokens(api: Api) -> None:
    none = await api.client.post("/v1/orders", json=ORDER)
    assert none.status_code == 401 and none.headers["www-authenticate"] == "Bearer"
    assert none.headers["content-type"] == "application/problem+json"
    wrong = await api.client.post(
        "/v1/orders", json=ORDER, headers={"Authorization": "Bearer cdk_nope"}
    )
    assert wrong.status_code == 401
    reader = await api.client.post("/v1/orders", json=ORDER, headers=api.auth("reader"))
    assert reader.status_code == 403 and reader.json()["required_scope"] == "orders:write"
    admin = await api.client.post("/v1/orders", json=ORDER, headers=api.auth("admin"))
    assert admin.status_code == 202


async def test_rate_limit_answers_429_with_retry_after(api: Api) -> None:
    statuses = [
        (await api.client.get("/v1/orders", headers=api.auth("slow"))).status_code for _ in range(3)
    ]
    assert statuses[0] == 200 and 429 in statuses
    limited = await api.client.get("/v1/orders", headers=api.auth("slow"))
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1


async def test_exceptions_are_listed_and_resolved_once(api: Api) -> None:
    engine = api.hub.engine
    record = await engine.writer.submit(
        lambda c: open_exception(
            c,
            type="credit_hold",
            owner="finance",
            subject="order:X",
            reason="over the credit limit by 120.00 USD",
            actions=["approve", "reject"],
            now=time.time(),
        )
    )
    listed = (
        await api.client.get("/v1/exceptions?type=credit_hold", headers=api.auth("viewer"))
    ).json()["items"]
    assert [e["id"] for e in listed] == [record.id] and listed[0]["owner"] == "finance"
    viewer = await api.client.post(
        f"/v1/exceptions/{record.id}/resolve",
        json={"action": "approve"},
        headers=api.auth("viewer"),
    )
    assert viewer.status_code == 403
    bad = await api.client.post(
        f"/v1/exceptions/{record.id}/resolve", json={"action": "ignore"}, headers=api.auth("ops")
    )
    assert bad.status_code == 409 and "approve" in bad.json()["detail"]
    done = await api.client.post(
        f"/v1/exceptions/{record.id}/resolve",
        json={"action": "approve", "note": "long-time customer"},
        headers=api.auth("ops"),
    )
    assert done.status_code == 200
    assert done.json()["resolved_by"] == "ops" and done.json()["resolution"] == "approve"
    [event] = await engine.last_events(1)
    assert event.type == "exception.resolved" and event.subject == "order:X"
    again = await api.client.post(
        f"/v1/exceptions/{record.id}/resolve", json={"action": "approve"}, headers=api.auth("ops")
    )
    assert again.status_code == 409
    resolved = (
        await api.client.get("/v1/exceptions?state=resolved", headers=api.auth("viewer"))
    ).json()["items"]
    assert [e["note"] for e in resolved] == ["long-time customer"]


def test_tokens_cli_shows_the_token_once_and_stores_a_hash(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "crossdock.yaml"
    config.write_text(f"database:\n  url: sqlite:///{tmp_path / 'hub.db'}\n")
    runner = CliRunner()
    created = runner.invoke(
        app,
        [
            "tokens",
            "create",
            "--name",
            "shop",
            "--scopes",
            "orders:write,orders:read",
            "-c",
            str(config),
        ],
    )
    assert created.exit_code == 0, created.output
    token = created.output.strip()
    assert token.startswith("cdk_") and len(token) > 40
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    with engine.connect() as conn:
        stored = conn.execute(select(api_tokens.c.token_hash, api_tokens.c.scopes)).one()
    engine.dispose()
    assert token not in stored.token_hash and stored.scopes == "orders:read orders:write"
    bad = runner.invoke(
        app, ["tokens", "create", "--name", "x", "--scopes", "orders:delete", "-c", str(config)]
    )
    assert bad.exit_code != 0
    assert "shop" in runner.invoke(app, ["tokens", "list", "-c", str(config)]).output
    assert runner.invoke(app, ["tokens", "revoke", "shop", "-c", str(config)]).exit_code == 0
