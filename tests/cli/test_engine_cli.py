"""`crossdock dlq`, `crossdock events tail`, `crossdock db` and `crossdock demo` from the CLI."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner

from crossdock.cli import app
from crossdock.engine import Backoff, Batch, Engine, NewEvent, Subscription
from crossdock.migrations import heads, upgrade
from tests.support.waiting import until

runner = CliRunner()


def make_dead_letter(url: str) -> None:
    async def handle(batch: Batch) -> None:
        raise ValueError("price list missing for channel webshop")

    async def main() -> None:
        engine = Engine(url)
        engine.subscribe(
            Subscription("flows.orders", ["order.*"], handle, max_attempts=2,
                         backoff=Backoff(base_s=0.01, max_s=0.02))
        )
        async with engine:
            await engine.append([NewEvent("order.accepted", "webshop", "order:WS-7", {"n": 7})])
            await engine.append(
                [NewEvent("stock.adjusted", "wms", f"sku:{i}", {"q": i}) for i in range(5)]
            )

            async def dead() -> bool:
                return bool(await engine.dead_letters())

            await until(dead, what="a dead letter")

    asyncio.run(main())


def test_dead_letters_and_events_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    config = tmp_path / "crossdock.yaml"
    config.write_text(f"database:\n  url: {url}\n")
    upgrade(url)
    make_dead_letter(url)

    listed = runner.invoke(app, ["dlq", "list", "-c", str(config)])
    assert listed.exit_code == 0, listed.output
    assert "flows.orders" in listed.output and "ValueError" in listed.output

    shown = runner.invoke(app, ["dlq", "show", "1", "-c", str(config)])
    detail = json.loads(shown.output)
    assert [e["attempt"] for e in detail["errors"]] == [1, 2]
    assert detail["event"]["subject"] == "order:WS-7"

    assert runner.invoke(app, ["dlq", "replay", "1", "-c", str(config)]).exit_code == 0
    again = runner.invoke(app, ["dlq", "replay", "1", "-c", str(config)])
    assert again.exit_code == 1 and "already replayed" in again.output
    assert "no dead letters" in runner.invoke(app, ["dlq", "list", "-c", str(config)]).output

    tail = runner.invoke(app, ["events", "tail", "-n", "3", "--json", "-c", str(config)])
    lines = [json.loads(line) for line in tail.output.strip().splitlines()]
    assert [e["type"] for e in lines] == ["stock.adjusted"] * 3
    assert all(e["specversion"] == "1.0" for e in lines)


def test_db_upgrade_and_current(tmp_path: Path) -> None:
    config = tmp_path / "crossdock.yaml"
    config.write_text(f"database:\n  url: sqlite:///{tmp_path / 'hub.db'}\n")
    assert runner.invoke(app, ["db", "upgrade", "-c", str(config)]).exit_code == 0
    current = runner.invoke(app, ["db", "current", "-c", str(config)])
    assert f"database: {', '.join(heads())}" in current.output


def test_demo_runs_orders_to_invoices_and_reports(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--dir", str(tmp_path), "--orders", "30"])
    assert result.exit_code == 0, result.output
    assert "invoiced" in result.output and "credit_hold" in result.output
    assert "rejected requests: {422: 3}" in result.output
    invoices = int(result.output.split("invoices posted: ")[1].split()[0])
    assert invoices >= 25
    assert (tmp_path / "demo.yaml").exists()
    # The EDI customer's five 850s were each answered by a 997 and an 855, and billed.
    received = " ".join(result.output.split("received ")[1].split("Look closer")[0].split())
    assert "5 997" in received and "5 855" in received and "810" in received
