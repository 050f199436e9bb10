"""`crossdock catalog`: AsyncAPI 3 of every event and channel; the Markdown integration catalog."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from crossdock.catalog.registry import CATALOG
from crossdock.cli import app


def test_asyncapi_document(tmp_path: Path) -> None:
    out = tmp_path / "asyncapi.yaml"
    result = CliRunner().invoke(app, ["catalog", "--format", "asyncapi", "--output", str(out)])
    assert result.exit_code == 0, result.output
    document = yaml.safe_load(out.read_text())
    assert document["asyncapi"] == "3.0.0"
    addresses = {c["address"] for c in document["channels"].values()}
    assert addresses == set(CATALOG)
    message = document["components"]["messages"]["order_accepted"]
    payload = message["payload"]["schema"]
    assert payload["properties"]["type"] == {"const": "order.accepted"}
    assert "order" in payload["properties"]["data"]["properties"]
    ops = document["operations"]
    assert ops["publish_order_accepted"]["action"] == "send"
    assert ops["consume_order_accepted"]["channel"] == {"$ref": "#/channels/order_accepted"}


def test_every_event_type_is_fully_described() -> None:
    for name, event_type in CATALOG.items():
        assert event_type.version >= 1 and event_type.producer and event_type.consumers
        assert event_type.owner and event_type.description, name
        assert event_type.schema["type"] == "object"


def test_markdown_catalog(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["catalog", "--format", "markdown"])
    assert result.exit_code == 0, result.output
    text = result.output
    for heading in (
        "## Systems",
        "## Ownership",
        "## Flows and schedules",
        "## Event types",
        "## HTTP API",
        "## Webhook subscriptions",
    ):
        assert heading in text
    assert "`/v1/subscriptions`" in text and "`/v1/orders`" in text
    assert "`order.accepted`" in text and "0 2 * * *" in text
