"""The audit trail: hash-chained, verified from the command line (edits and removals are found on
both backends), concurrent appends form one chain, and each audited action writes its entry."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Connection, delete, text, update
from typer.testing import CliRunner

from crossdock.cli import app
from crossdock.commands.serve import record_config_change
from crossdock.config import validate_config
from crossdock.engine.database import Database
from crossdock.ops.audit import append_audit, list_audit, verify_chain
from crossdock.ops.tables import audit_log
from tests.ops.conftest import Observed, order_body

runner = CliRunner()


def _config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "crossdock.yaml"
    path.write_text(f"database:\n  url: {url}\n")
    return path


def _fill(db: Database, count: int) -> None:
    for i in range(count):
        db.write_sync(
            lambda c, i=i: append_audit(
                c,
                actor="token:ops",
                action="exception.resolved",
                subject=f"order:O-{i}",
                details={"action": "release", "note": f"limit raised {i}"},
            )
        )


def _verify(config: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", "verify", "--config", str(config)])
    return result.exit_code, result.output


@pytest.mark.parametrize("tamper", ["edit", "edit_and_rehash", "delete", "delete_last"])
def test_verify_finds_edited_and_removed_entries(db_url: str, tmp_path: Path, tamper: str) -> None:
    config = _config(tmp_path, db_url)
    db = Database(db_url)
    try:
        _fill(db, 5)
        code, output = _verify(config)
        assert code == 0 and "intact: 5 entries" in output

        def change(conn: Connection) -> None:
            if tamper == "edit":
                conn.execute(
                    update(audit_log).where(audit_log.c.seq == 3).values(details='{"action":"x"}')
                )
            elif tamper == "edit_and_rehash":  # a careful forger also fixes the entry's hash
                conn.execute(update(audit_log).where(audit_log.c.seq == 3).values(hash="f" * 64))
            elif tamper == "delete":
                conn.execute(delete(audit_log).where(audit_log.c.seq == 2))
            else:
                conn.execute(delete(audit_log).where(audit_log.c.seq == 5))

        db.write_sync(change)
    finally:
        db.close()
    code, output = _verify(config)
    expected = {"edit": 3, "edit_and_rehash": 3, "delete": 2, "delete_last": 5}[tamper]
    assert code == 1
    assert f"broken at sequence {expected}:" in output


def test_a_forged_hash_breaks_the_next_link(db_url: str) -> None:
    db = Database(db_url)
    try:
        _fill(db, 3)

        def forge(conn: Connection) -> None:
            # Recompute entry 2's hash after editing it: entry 3 no longer points to it.
            from crossdock.ops.audit import entry_hash

            row = conn.execute(text("SELECT * FROM audit_log WHERE seq = 2")).one()
            forged = entry_hash(2, row.at, row.actor, row.action, row.subject, "{}", row.prev_hash)
            conn.execute(
                update(audit_log).where(audit_log.c.seq == 2).values(details="{}", hash=forged)
            )

        db.write_sync(forge)
        result = db.read_sync(verify_chain)
    finally:
        db.close()
    assert not result.ok and result.bad_seq == 3 and "prev_hash" in (result.reason or "")


def test_concurrent_appends_from_several_processes_form_one_chain(db_url: str) -> None:
    nodes = [Database(db_url), Database(db_url)]  # two connection pools, as two processes
    for node in nodes:  # connected one after the other (SQLite switches to WAL on first use)
        node.write_sync(lambda c: None)
    errors: list[BaseException] = []

    def work(db: Database, worker: int) -> None:
        try:
            for i in range(15):
                db.write_sync(
                    lambda c, i=i: append_audit(
                        c, actor=f"worker-{worker}", action="test.append", subject=f"s:{i}"
                    )
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(nodes[n % 2], n)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert not errors
        result = nodes[0].read_sync(verify_chain)
        entries = nodes[0].read_sync(lambda c: list_audit(c, limit=1000))
    finally:
        for db in nodes:
            db.close()
    assert result.ok and result.entries == 60
    assert [e.seq for e in entries] == list(range(1, 61))


async def test_actions_write_their_entries(observed: Observed, tmp_path: Path) -> None:
    engine = observed.hub.engine
    # order accepted (API) and cancel requested (API)
    accepted = await observed.client.post(
        "/v1/orders", json=order_body("HOLD-A1"), headers=observed.auth()
    )
    order_id = accepted.json()["id"]
    await observed.idle()
    [hold] = (await observed.client.get("/v1/exceptions", headers=observed.auth("ops"))).json()[
        "items"
    ]
    resolved = await observed.client.post(
        f"/v1/exceptions/{hold['id']}/resolve",
        json={"action": "release", "note": "limit raised by finance"},
        headers=observed.auth("ops"),
    )
    assert resolved.status_code == 200
    cancelled = await observed.client.post(
        f"/v1/orders/{order_id}/cancel", json={"reason": "customer asked"}, headers=observed.auth()
    )
    assert cancelled.status_code == 202
    # configuration recorded once while unchanged, again when it changes
    cfg = observed.hub.config
    assert await engine.writer.submit(lambda c: record_config_change(c, cfg))
    assert not await engine.writer.submit(lambda c: record_config_change(c, cfg))
    changed = validate_config({**cfg.model_dump(mode="json"), "api": {"port": 9999}})
    assert await engine.writer.submit(lambda c: record_config_change(c, changed))

    page = await observed.client.get(
        "/v1/audit", params={"subject": f"order:{order_id}"}, headers=observed.auth("viewer")
    )
    assert page.status_code == 200
    items = page.json()["items"]
    assert [i["action"] for i in items] == [
        "order.accepted",
        "exception.resolved",
        "order.cancel_requested",
    ]
    assert {i["actor"] for i in items} == {"token:writer", "token:ops"}
    assert items[1]["details"]["note"] == "limit raised by finance"
    assert items[0]["details"]["external_ref"] == "HOLD-A1"
    assert "Jane" not in page.text and "jane.doe" not in page.text
    forbidden = await observed.client.get("/v1/audit", headers=observed.auth("writer"))
    assert forbidden.status_code == 403
    configs = (
        await observed.client.get(
            "/v1/audit", params={"subject": "config"}, headers=observed.auth("viewer")
        )
    ).json()["items"]
    assert (
        len(configs) == 2 and configs[1]["details"]["previous"] == configs[0]["details"]["sha256"]
    )
    assert await engine.db.read(lambda c: verify_chain(c).ok)


def test_token_and_replay_commands_write_entries(db_url: str, tmp_path: Path) -> None:
    from tests.cli.test_engine_cli import make_dead_letter

    config = _config(tmp_path, db_url)
    make_dead_letter(db_url)
    created = runner.invoke(
        app, ["tokens", "create", "--name", "grafana", "--scopes", "ops:read", "-c", str(config)]
    )
    assert created.exit_code == 0, created.output
    revoked = runner.invoke(app, ["tokens", "revoke", "grafana", "-c", str(config)])
    assert revoked.exit_code == 0, revoked.output
    replayed = runner.invoke(app, ["dlq", "replay", "1", "-c", str(config)])
    assert replayed.exit_code == 0, replayed.output
    db = Database(db_url)
    try:
        entries = db.read_sync(lambda c: list_audit(c, limit=10))
    finally:
        db.close()
    assert [(e.action, e.subject) for e in entries] == [
        ("token.created", "token:grafana"),
        ("token.revoked", "token:grafana"),
        ("dead_letter.replayed", "order:WS-7"),
    ]
    assert entries[0].details == {"name": "grafana", "scopes": ["ops:read"], "rate_per_s": None}
    assert created.output.strip() not in str(entries[0].details)
    assert all(e.actor.startswith("cli:") for e in entries)
    assert entries[2].at <= time.time()
    listed = runner.invoke(app, ["audit", "list", "-c", str(config), "--subject", "order:WS-7"])
    assert '"dead_letter.replayed"' in listed.output
