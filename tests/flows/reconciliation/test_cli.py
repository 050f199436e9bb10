"""`crossdock reconcile` from the command line, against a sandbox ERP that is already served (as by
a running hub): the JSON report's shape, the readable summary, `--strict`, `drift` and `runs`."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

from typer.testing import CliRunner

from crossdock.cli import app
from crossdock.connectors.odoo import OdooClient, OdooOperations
from crossdock.sandbox.odoo import SandboxServer
from tests.contract.odoo.conftest import Target, stocked_products
from tests.flows.reconciliation.test_hub import _unknown_sale_order

runner = CliRunner()


def test_reconcile_from_the_command_line(flow_sandbox: SandboxServer, tmp_path: Path) -> None:
    uid = uuid.uuid4().hex[:8]
    channel = f"r{uid}"
    s = flow_sandbox.settings
    target = Target("sandbox", flow_sandbox.url, s.database, s.login, s.password, None)

    async def setup() -> int:
        ops = OdooOperations(OdooClient(target.settings()))
        try:
            await stocked_products(ops, uid, {"B": 1})
            return await _unknown_sale_order(ops, channel, uid, "CLI", 9.5)
        finally:
            await ops.aclose()

    so = asyncio.run(setup())
    config = tmp_path / "crossdock.yaml"
    config.write_text(
        f"""
database:
  url: sqlite:///{tmp_path / "hub.db"}
systems:
  odoo: {{kind: odoo, url: "{flow_sandbox.url}", sandbox: true}}
  shop: {{kind: shop, url: "http://127.0.0.1:9"}}
channels:
  {channel}: {{}}
"""
    )

    result = runner.invoke(app, ["reconcile", "run", "orders", "--json", "-c", str(config)])

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)  # log lines go to stderr
    assert document["failures"] == []
    [report] = document["reports"]
    assert set(report) == {"run", "items", "closed"}
    run = report["run"]
    assert run["kind"] == "orders" and run["status"] == "ok" and run["trigger"] == "cli"
    assert (run["found"], run["new"], run["exceptions"], run["value"]) == (1, 1, 1, "9.50")
    assert run["by_type"] == {"order_unknown_in_hub": 1} and run["fix"] is False
    [item] = report["items"]
    assert {
        "id",
        "type",
        "subject",
        "state",
        "summary",
        "value",
        "currency",
        "age_s",
        "since",
        "seen",
        "exception_id",
        "details",
    } <= set(item)
    assert item["subject"] == f"sale_order:{so}" and item["value"] == "9.50"
    assert item["since"].endswith("Z") and item["exception_id"]

    strict = runner.invoke(app, ["reconcile", "run", "orders", "--strict", "-c", str(config)])
    assert strict.exit_code == 2, strict.output
    assert "orders: 1 drift item" in strict.output and "order_unknown_in_hub" in strict.output

    drift = runner.invoke(app, ["reconcile", "drift", "--json", "-c", str(config)])
    [line] = drift.stdout.splitlines()
    assert json.loads(line)["seen"] == 2 and json.loads(line)["id"] == item["id"]
    runs = runner.invoke(app, ["reconcile", "runs", "--json", "-c", str(config)])
    assert [json.loads(r)["kind"] for r in runs.stdout.splitlines()] == ["orders", "orders"]

    wrong = runner.invoke(app, ["reconcile", "run", "everything", "-c", str(config)])
    assert wrong.exit_code == 2 and "orders, invoices, stock" in wrong.output
