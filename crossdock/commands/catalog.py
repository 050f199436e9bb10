"""`crossdock catalog`: the event catalog as AsyncAPI 3, or the integration catalog as Markdown."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import typer
import yaml

from crossdock.commands.common import ConfigOption, load
from crossdock.config import Config


class _OfflineEngine:
    """An engine that is never started: enough for `create_app` to build its routes."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self.db = SimpleNamespace(read=None, write=None, dialect="sqlite")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


def openapi_document(cfg: Config | None = None) -> dict[str, Any]:
    """The API's OpenAPI document, built without starting the hub."""
    from crossdock.app import create_app
    from crossdock.hub import build_hub

    hub = build_hub(cfg or Config())
    hub.engine = cast(Any, _OfflineEngine(hub.engine))
    document: dict[str, Any] = create_app(hub).openapi()
    return document


def _subscriptions(cfg: Config) -> list[Any] | None:
    """The subscriptions in the configured database, or None when it cannot be read."""
    from sqlalchemy import inspect

    from crossdock.engine import one_shot_engine
    from crossdock.hub import database_url
    from crossdock.webhooks.store import list_endpoints

    path = cfg.database.sqlite_path() if cfg.database.backend == "sqlite" else None
    if path is not None and not path.exists():
        return None
    try:
        engine = one_shot_engine(database_url(cfg))
        try:
            with engine.connect() as conn:
                if not inspect(conn).has_table("webhook_endpoints"):
                    return None
                return list_endpoints(conn)
        finally:
            engine.dispose()
    except Exception:
        return None


def catalog(
    config: ConfigOption = None,
    format: str = typer.Option("markdown", "--format", "-f", help="asyncapi or markdown."),
    output: Path | None = typer.Option(None, "--output", "-o", help="File (default: stdout)."),
    as_json: bool = typer.Option(False, "--json", help="AsyncAPI as JSON instead of YAML."),
) -> None:
    """Write the catalog: AsyncAPI 3 of every event and channel, or a Markdown catalog of systems,
    ownership, flows, event types, APIs, schedules and subscriptions."""
    if format == "asyncapi":
        from crossdock.catalog.asyncapi import asyncapi_document

        document = asyncapi_document()
        text = (
            json.dumps(document, indent=2) + "\n"
            if as_json
            else yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
        )
    elif format == "markdown":
        from crossdock.catalog.markdown import markdown_catalog

        cfg = load(config, check_secrets=False)
        text = markdown_catalog(cfg, openapi_document(cfg), _subscriptions(cfg))
    else:
        raise typer.BadParameter("use asyncapi or markdown", param_hint="--format")
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)
