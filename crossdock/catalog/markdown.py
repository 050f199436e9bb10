"""The integration catalog as Markdown, for operations and auditors: systems and their limits,
ownership of each domain, flows and schedules, event types (producer, consumers, owner, version,
fields), the HTTP API (from OpenAPI) and the webhook subscriptions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from crossdock.catalog.registry import CATALOG
from crossdock.config import Config


class Endpoint(Protocol):
    """What the catalog shows of a webhook subscription (`crossdock.webhooks.store.Endpoint`)."""

    @property
    def id(self) -> str: ...

    @property
    def url(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def event_types(self) -> list[str]: ...

    @property
    def state(self) -> str: ...


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    def cell(value: Any) -> str:
        return str(value if value is not None else "").replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return [*out, ""]


def _fields(schema: dict[str, Any]) -> str:
    required = set(schema.get("required", []))
    names = [f"`{n}`{'*' if n in required else ''}" for n in schema.get("properties", {})]
    return ", ".join(names)


def markdown_catalog(
    cfg: Config, openapi: dict[str, Any], endpoints: Sequence[Endpoint] | None = None
) -> str:
    lines = ["# Crossdock integration catalog", ""]
    lines += ["## Systems", ""]
    lines += _table(
        ["system", "kind", "URL", "rate/s", "concurrency", "sandbox"],
        [
            (n, s.kind, s.url, s.limits.rate_per_s, s.limits.concurrency, s.sandbox)
            for n, s in sorted(cfg.systems.items())
        ],
    )
    lines += ["## Ownership (system of record)", ""]
    lines += _table(["domain", "owner"], sorted(cfg.ownership.owners().items()))
    lines += ["## Flows and schedules", ""]
    lines += _table(
        ["workflow", "mode", "schedule", "time zone", "lane"],
        [
            (n, p.mode, p.cron or "real time", p.timezone, p.lane or "")
            for n, p in sorted(cfg.sync.items())
        ],
    )
    lines += ["## Event types", ""]
    lines += _table(
        ["type", "version", "producer", "consumers", "owner", "description"],
        [
            (f"`{n}`", e.version, e.producer, ", ".join(e.consumers), e.owner, e.description)
            for n, e in CATALOG.items()
        ],
    )
    for name, event_type in CATALOG.items():
        lines += [
            f"### `{name}` v{event_type.version}",
            "",
            event_type.description,
            "",
            f"- producer: {event_type.producer}",
            f"- consumers: {', '.join(event_type.consumers)}",
            f"- owner: {event_type.owner}",
            f"- data fields (* required): {_fields(event_type.schema)}",
            f"- schema: `schemas/events/{name}.v{event_type.version}.json`",
            "",
        ]
    lines += ["## HTTP API", ""]
    rows = []
    for path, operations in sorted(openapi.get("paths", {}).items()):
        for method, operation in operations.items():
            summary = (operation.get("description") or operation.get("summary") or "").strip()
            rows.append(
                (
                    method.upper(),
                    f"`{path}`",
                    ", ".join(operation.get("tags", [])),
                    summary.splitlines()[0] if summary else "",
                )
            )
    lines += _table(["method", "path", "tags", "what"], rows)
    lines += ["## Webhook delivery", ""]
    hooks = cfg.webhooks
    lines += [
        f"- retry schedule (s): {', '.join(f'{d:g}' for d in hooks.retry_schedule_s)} "
        f"(±{hooks.jitter:.0%} jitter), timeout {hooks.timeout_s:g} s",
        f"- endpoints failing for {hooks.failing_days:g} days are disabled; 410 disables at once",
        f"- inbound sources: {', '.join(sorted(hooks.sources)) or 'none'}",
        "",
    ]
    lines += ["## Webhook subscriptions", ""]
    if endpoints is None:
        lines += ["(the database was not read)", ""]
    else:
        lines += _table(
            ["id", "URL", "event types", "state", "description"],
            [(e.id, e.url, ", ".join(e.event_types), e.state, e.description) for e in endpoints],
        )
    return "\n".join(lines).rstrip() + "\n"
