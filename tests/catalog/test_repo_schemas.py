"""CI's schema governance: the project's current schemas are backward compatible with the set
stored in `schemas/` (run by `make test`). After a compatible change, refresh the stored set with
`crossdock schema check --against schemas --update`; a breaking one needs a raised version."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from crossdock.catalog.compat import check
from crossdock.catalog.registry import CATALOG
from crossdock.catalog.schemas import current_schemas, read_schemas, write_schemas
from crossdock.cli import app

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def test_current_schemas_are_compatible_with_the_stored_set() -> None:
    stored = read_schemas(SCHEMAS)
    assert stored, "schemas/ must hold the stored schema set"
    breaking = check(stored, current_schemas())
    assert not breaking, "\n".join(map(str, breaking))


def test_every_current_schema_is_stored() -> None:
    missing = sorted(set(current_schemas()) - set(read_schemas(SCHEMAS)))
    assert not missing, f"run `crossdock schema check --against schemas --update`: {missing}"


def test_cli_fails_on_a_breaking_change_and_passes_after_update(tmp_path: Path) -> None:
    runner = CliRunner()
    write_schemas(tmp_path)
    stored = tmp_path / "events" / f"order.accepted.v{CATALOG['order.accepted'].version}.json"
    text = stored.read_text().replace('"order_id"', '"order_id_was"', 1)
    stored.write_text(text)
    failed = runner.invoke(app, ["schema", "check", "--against", str(tmp_path)])
    assert failed.exit_code == 1
    assert "field-removed" in failed.output
    write_schemas(tmp_path)
    passed = runner.invoke(app, ["schema", "check", "--against", str(tmp_path)])
    assert passed.exit_code == 0, passed.output
