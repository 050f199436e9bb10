"""Invalid configurations: every problem is reported, with its dotted path and a short message."""

from __future__ import annotations

from pathlib import Path

import pytest

from crossdock.config import ConfigError, load_config, parse_config


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    return info.value.problems


def only_problem(text: str) -> str:
    found = problems(text)
    assert len(found) == 1, found
    return found[0]


ODOO = "systems:\n  odoo: {kind: odoo, url: 'http://odoo:8069'}\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # systems
        ("systems:\n  odoo: {kind: odoo, url: nope}", "systems.odoo.url: not a URL"),
        ("systems:\n  odoo: {kind: odoo, url: 'http://'}", "systems.odoo.url: not a URL"),
        (
            "systems:\n  odoo: {kind: odoo, url: 'ftp://x'}",
            "systems.odoo.url: unsupported URL scheme (use http, https or sftp)",
        ),
        (
            "systems:\n  odoo: {kind: odoo, url: 'https://u:p@x'}",
            "systems.odoo.url: must not contain credentials (use username and credentials)",
        ),
        ("systems:\n  odoo: {kind: odoo}", "systems.odoo.url: required"),
        ("systems:\n  odoo: {url: 'http://x'}", "systems.odoo.kind: required"),
        (
            "systems:\n  odoo: {kind: odoo, url: 'http://x', limits: {concurrency: 0}}",
            "systems.odoo.limits.concurrency: must be >= 1",
        ),
        (
            "systems:\n  odoo: {kind: odoo, url: 'http://x', limits: {rate_per_s: 0}}",
            "systems.odoo.limits.rate_per_s: must be > 0",
        ),
        (
            "systems:\n  odoo: {kind: odoo, url: 'http://x', limits: {timeout_s: fast}}",
            "systems.odoo.limits.timeout_s: must be a number",
        ),
        (
            "systems:\n  odoo: {kind: odoo, url: 'http://x', urll: 'http://y'}",
            "systems.odoo.urll: unknown field (did you mean 'url'?)",
        ),
        (
            "systems:\n  odoo: {kind: odoo, url: 'http://x', options: {api_key: k}}",
            "systems.odoo.options.api_key: looks like a secret: put it in credentials as a "
            "reference (${ENV_VAR} or file:/path)",
        ),
        (
            ODOO + "  Odoo Prod: {kind: odoo, url: 'http://x'}",
            "systems.Odoo Prod: invalid name (lowercase letters, digits, '_' and '-', "
            "starting with a letter)",
        ),
        ("systems: [odoo]", "systems: must be a mapping"),
        # ownership
        (ODOO + "ownership: {customers: crm}", "ownership.customers: unknown system 'crm'"),
        (ODOO + "ownership: {weather: odoo}", "ownership.weather: unknown field"),
        # sync
        (
            ODOO + "sync:\n  inventory: {mode: batch, cron: '61 * * * *'}",
            "sync.inventory.cron: not a valid cron expression",
        ),
        (
            ODOO + "sync:\n  inventory: {mode: batch, cron: '0 0 * * * 30'}",  # seconds: refused
            "sync.inventory.cron: not a valid cron expression",
        ),
        (
            ODOO + "sync:\n  inventory: {mode: batch}",
            "sync.inventory.cron: required when mode is batch",
        ),
        (
            ODOO + "sync:\n  inventory: {mode: realtime, cron: '* * * * *'}",
            "sync.inventory.cron: only allowed when mode is batch",
        ),
        (
            ODOO + "sync:\n  inventory: {mode: sometimes}",
            "sync.inventory.mode: must be one of: realtime, batch",
        ),
        (
            ODOO + "sync:\n  inventory: {mode: batch, cron: '@daily', timezone: Mars/Base}",
            "sync.inventory.timezone: unknown time zone (use an IANA name such as Europe/Brussels)",
        ),
        (
            ODOO
            + "inventory:\n  channels:\n    web:\n      sync: {mode: batch, cron: '0 * * * *',"
            " timezone: Europe/Atlantis}",
            "inventory.channels.web.sync.timezone: unknown time zone (use an IANA name such as"
            " Europe/Brussels)",
        ),
        (
            ODOO + "sync:\n  inventory: {mode: realtime, lane: fast}",
            "sync.inventory.lane: unknown lane 'fast'",
        ),
        # lanes
        (ODOO + "lanes:\n  orders: {concurrency: 0}", "lanes.orders.concurrency: must be >= 1"),
        (ODOO + "lanes:\n  orders: {priority: high}", "lanes.orders.priority: must be an integer"),
        # engine, api, database, top level
        (ODOO + "engine: {partitions: 2000}", "engine.partitions: must be <= 1024"),
        (
            ODOO + "engine: {sqlite_synchronous: OFF}",
            "engine.sqlite_synchronous: must be one of: FULL, NORMAL",
        ),
        (
            ODOO + "engine: {backoff_base_s: 10, backoff_max_s: 5}",
            "engine.backoff_max_s: must be >= backoff_base_s",
        ),
        (ODOO + "api: {port: 70000}", "api.port: must be <= 65535"),
        (
            ODOO + "database: {url: 'mysql://db/x'}",
            "database.url: must be sqlite:///path or postgresql://…",
        ),
        (
            ODOO + "database: {url: 'sqlite:///'}",
            "database.url: sqlite URL needs a path (sqlite:///path/to/file.db)",
        ),
        (
            ODOO + "database: {url: 'postgresql://app:pw@db/x'}",
            "database.url: password must be a reference (${ENV_VAR}), not inline",
        ),
        (ODOO + "sytems: {}", "sytems: unknown field (did you mean 'systems'?)"),
        (ODOO + "version: 2", "version: must be one of: 1"),
    ],
)
def test_each_problem_has_its_path(text: str, expected: str) -> None:
    assert only_problem(text) == expected


def test_several_problems_reported_together(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        """\
systems:
  odoo:
    kind: odoo
    url: not-a-url
  shop:
    kind: shopfy
    url: https://shop.example.com
ownership:
  customers: crm
sync:
  inventory: {mode: batch, cron: "every five minutes"}
lanes:
  orders: {priority: 10, concurrency: 0}
engine:
  partitions: 0
""",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    err = info.value
    assert err.problems[0] == "systems.odoo.url: not a URL"
    assert err.problems[1].startswith("systems.shop.kind: unknown kind (one of: odoo, shopify,")
    assert err.problems[2:] == [
        "ownership.customers: unknown system 'crm'",
        "sync.inventory.cron: not a valid cron expression",
        "lanes.orders.concurrency: must be >= 1",
        "engine.partitions: must be >= 1",
    ]
    # lines point into the file, and the message lists everything
    assert [p.line for p in err.details] == [4, 6, 9, 11, 13, 15]
    text = str(err)
    assert text.startswith(f"invalid configuration {path}: 6 problems")
    assert "  systems.odoo.url: not a URL  (line 4)" in text.splitlines()


def test_yaml_syntax_error_has_line_and_column() -> None:
    assert only_problem("systems:\n  odoo: {kind: odoo\n") == (
        "<string>: line 3, column 1: expected ',' or '}', but got '<stream end>'"
    )
    assert only_problem("a: b: c\n") == (
        "<string>: line 1, column 5: mapping values are not allowed here"
    )


def test_top_level_must_be_a_mapping() -> None:
    assert only_problem("- a\n- b\n") == (
        "<string>: must be a mapping of sections (database, systems, ownership, …)"
    )


def test_duplicate_keys_are_reported_with_the_rest() -> None:
    found = problems(
        "systems:\n"
        "  odoo: {kind: odoo, url: 'http://a'}\n"
        "  odoo: {kind: odoo, url: 'http://b'}\n"
        "api: {port: -1}\n"
    )
    assert found == ["systems.odoo: duplicate key", "api.port: must be >= 0"]


def test_reference_problems_reported_with_schema_problems() -> None:
    # ownership and lanes are checked even when other parts of the file are invalid
    found = problems(
        ODOO + "ownership: {stock: wms}\nsync:\n  x: {mode: realtime, lane: nope}\napi: {port: x}\n"
    )
    assert found == [
        "ownership.stock: unknown system 'wms'",
        "sync.x.lane: unknown lane 'nope'",
        "api.port: must be an integer",
    ]


def test_messages_never_quote_values() -> None:
    found = problems(ODOO + "api: {host: 12345678, port: ninety-nine-bottles}")
    assert found == ["api.host: must be a string", "api.port: must be an integer"]
    assert not any("12345678" in p or "bottles" in p for p in found)
