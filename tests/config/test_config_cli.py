"""`crossdock config check` and `crossdock config show` through the real command line app."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from crossdock.cli import app
from crossdock.config import CONFIG_ENV_VAR

runner = CliRunner()
SECRET = "s3cr3t-VALUE-do-not-print"

BAD = """\
systems:
  odoo:
    kind: odoo
    url: not a url
ownership:
  customers: crm
lanes:
  orders: {concurrency: 0}
"""

GOOD = """\
systems:
  odoo:
    kind: odoo
    url: https://erp.example.com
    credentials: {api_key: "${ODOO_API_KEY}"}
  shop: {kind: shopify, url: "https://shop.example.com"}
ownership: {orders: shop}
"""


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(CONFIG_ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, text: str, name: str = "hub.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_check_reports_every_problem_and_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, BAD)
    result = runner.invoke(app, ["config", "check", "--config", str(path)])
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert lines[0] == f"invalid configuration {path}: 3 problems"
    assert lines[1:] == [
        "  systems.odoo.url: not a URL  (line 4)",
        "  ownership.customers: unknown system 'crm'  (line 6)",
        "  lanes.orders.concurrency: must be >= 1  (line 8)",
    ]


def test_check_ok_prints_path_and_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ODOO_API_KEY", SECRET)
    path = write(tmp_path, GOOD)
    result = runner.invoke(app, ["config", "check", "--config", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"OK: {path}"
    assert "  systems: odoo (odoo), shop (shopify)" in lines
    assert any(
        line.startswith("  ownership: customers=odoo,") and "orders=shop" in line for line in lines
    )
    assert any(line.startswith("  lanes: orders (priority 10, concurrency 4)") for line in lines)
    assert SECRET not in result.output


def test_check_unresolved_secret_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ODOO_API_KEY", raising=False)
    result = runner.invoke(app, ["config", "check", "-c", str(write(tmp_path, GOOD))])
    assert result.exit_code == 2
    assert (
        "  systems.odoo.credentials.api_key: environment variable ODOO_API_KEY is not set  (line 5)"
        in result.output.splitlines()
    )


def test_check_honours_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, BAD, "from-env.yaml")
    monkeypatch.setenv(CONFIG_ENV_VAR, str(path))
    result = runner.invoke(app, ["config", "check"])
    assert result.exit_code == 2
    assert f"invalid configuration {path}" in result.output
    assert "systems.odoo.url: not a URL" in result.output


def test_check_without_any_file_uses_defaults() -> None:
    result = runner.invoke(app, ["config", "check"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: built-in defaults (crossdock.yaml not found)")


def test_check_missing_explicit_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["config", "check", "--config", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert f"{tmp_path / 'nope.yaml'}: file not found" in result.output


def test_show_prints_references_not_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ODOO_API_KEY", SECRET)
    result = runner.invoke(app, ["config", "show", "--config", str(write(tmp_path, GOOD))])
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    assert "api_key: ${ODOO_API_KEY}" in result.output
    assert "lease_seconds: 8.0" in result.output  # defaults filled in


def test_show_invalid_file_exits_2_without_leaking(tmp_path: Path) -> None:
    shop = f"  shop:\n    kind: shop\n    url: https://x\n    credentials: {{token: {SECRET}}}\n"
    text = BAD.replace("ownership:", shop + "ownership:")
    result = runner.invoke(app, ["config", "show", "--config", str(write(tmp_path, text))])
    assert result.exit_code == 2
    assert "systems.shop.credentials.token: secrets must be references" in result.output
    assert SECRET not in result.output
