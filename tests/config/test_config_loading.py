"""Loading valid configurations: files, defaults, which file is chosen, helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from crossdock.config import (
    CONFIG_ENV_VAR,
    DEFAULT_DATABASE_URL,
    Config,
    ConfigError,
    SecretRef,
    config_path,
    dump_config,
    load_config,
    parse_config,
    sqlalchemy_url,
    validate_config,
)
from crossdock.config.secrets import SecretError

REPO_ROOT = Path(__file__).resolve().parents[2]

VALID = """
database:
  url: postgresql://crossdock:${PGPASSWORD}@db.internal:5432/crossdock
systems:
  odoo:
    kind: odoo
    url: https://erp.example.com/
    username: integration
    credentials:
      api_key: ${ODOO_API_KEY}
    limits: {rate_per_s: 20, burst: 40, concurrency: 4, timeout_s: 60}
    options: {database: prod, transport: json2}
  shop:
    kind: shopify
    url: https://store.example.com
    credentials: {access_token: file:/run/secrets/shop}
    webhook_secret: ${SHOP_WEBHOOK_SECRET}
  wms:
    kind: wms
    url: sftp://files.3pl.example.com/inbox
ownership:
  stock: wms
  shipments: wms
  returns: odoo
sync:
  order_to_cash: {mode: realtime}
  inventory: {mode: batch, cron: "*/5 * * * *", lane: inventory}
  nightly: {mode: batch, cron: "@daily", timezone: Europe/Brussels}
lanes:
  orders: {priority: 10, concurrency: 4}
  inventory: {priority: 5, concurrency: 2}
engine:
  partitions: 64
  sqlite_synchronous: normal
api:
  port: 9000
"""


@pytest.fixture(autouse=True)
def _no_config_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(CONFIG_ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray ./crossdock.yaml


def write(tmp_path: Path, text: str, name: str = "crossdock.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_file_loads(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, VALID, "hub.yaml"))

    odoo = cfg.systems["odoo"]
    assert odoo.kind == "odoo"
    assert odoo.url == "https://erp.example.com"  # trailing slash removed
    assert odoo.username == "integration"
    assert odoo.credentials == {"api_key": SecretRef("${ODOO_API_KEY}")}
    assert odoo.limits.rate_per_s == 20 and odoo.limits.burst == 40
    assert odoo.options == {"database": "prod", "transport": "json2"}
    assert cfg.systems["shop"].webhook_secret == SecretRef("${SHOP_WEBHOOK_SECRET}")
    assert cfg.systems["shop"].credentials["access_token"].kind == "file"
    assert cfg.systems["wms"].limits.concurrency == 4  # default limits

    assert cfg.ownership.owner_of("stock") == "wms"
    assert cfg.ownership.owner_of("customers") == "odoo"  # default owner
    assert cfg.ownership.owner_of("returns") == "odoo"
    assert cfg.ownership.owner_of("payments") is None
    with pytest.raises(KeyError):
        cfg.ownership.owner_of("weather")

    assert cfg.sync["inventory"].mode == "batch"
    assert cfg.sync["inventory"].cron == "*/5 * * * *"
    assert cfg.sync["order_to_cash"].cron is None
    assert cfg.lanes["orders"].priority == 10
    assert cfg.lanes["default"].concurrency == 2  # always present
    assert cfg.engine.partitions == 64
    assert cfg.engine.sqlite_synchronous == "NORMAL"
    assert cfg.engine.batch_size == 200
    assert cfg.api.port == 9000 and cfg.api.host == "127.0.0.1"
    assert cfg.database.backend == "postgresql"


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "# nothing configured\n"))
    assert cfg == Config()
    assert cfg.database.url == DEFAULT_DATABASE_URL == "sqlite:///var/crossdock.db"
    assert cfg.database.sqlite_path() == Path("var/crossdock.db")
    assert set(cfg.systems) == {"odoo", "shop", "wms", "carrier"}
    assert all(system.sandbox for system in cfg.systems.values())
    assert set(cfg.ownership.owners().values()) == {"odoo"}
    assert {name: (lane.priority, lane.concurrency) for name, lane in cfg.lanes.items()} == {
        "orders": (10, 4),
        "inventory": (5, 2),
        "default": (0, 2),
        "batch": (-10, 1),
    }
    e = cfg.engine
    assert (e.partitions, e.lease_seconds, e.poll_interval_ms, e.batch_size) == (None, 8, 100, 200)
    assert (e.sqlite_synchronous, e.max_attempts, e.backoff_base_s, e.backoff_max_s) == (
        "FULL",
        8,
        1.0,
        3600.0,
    )
    assert (cfg.api.host, cfg.api.port) == ("127.0.0.1", 8080)


def test_empty_sections_mean_defaults_or_nothing() -> None:
    cfg = parse_config("engine:\napi:\nsystems:\n  odoo: {kind: odoo, url: http://odoo:8069}\n")
    assert cfg.engine.partitions is None  # the engine's default for the database
    assert list(cfg.systems) == ["odoo"]
    with pytest.raises(ConfigError) as info:
        parse_config("systems:\n")  # no systems at all: the default owner `odoo` is missing
    hint = "(the default owner; set ownership.customers)"
    assert f"ownership.customers: unknown system 'odoo' {hint}" in info.value.problems


def test_missing_default_file_gives_defaults(tmp_path: Path) -> None:
    assert config_path(None) == (Path("crossdock.yaml"), False)
    assert load_config() == Config()


def test_default_file_is_read_when_present(tmp_path: Path) -> None:
    write(tmp_path, "api: {port: 9999}\n")
    assert load_config().api.port == 9999


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as info:
        load_config(missing)
    assert info.value.problems == [f"{missing}: file not found"]


def test_env_var_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "api: {port: 7001}\n", "from-env.yaml")
    monkeypatch.setenv(CONFIG_ENV_VAR, str(path))
    assert config_path(None) == (path, True)
    assert load_config().api.port == 7001
    # An explicit path beats the environment.
    other = write(tmp_path, "api: {port: 7002}\n", "explicit.yaml")
    assert load_config(other).api.port == 7002
    # A file named by the environment must exist.
    monkeypatch.setenv(CONFIG_ENV_VAR, str(tmp_path / "gone.yaml"))
    with pytest.raises(ConfigError, match="file not found"):
        load_config()


def test_example_file_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_config(REPO_ROOT / "crossdock.example.yaml")
    assert cfg.systems["odoo"].credentials["api_key"] == SecretRef("${ODOO_API_KEY}")
    assert {s.kind for s in cfg.systems.values()} >= {"odoo", "wms"}
    assert cfg.ownership.stock == "wms"
    assert cfg.sync["inventory"].cron == "*/5 * * * *"


def test_yaml_anchors_under_x_keys() -> None:
    text = """
x-limits: &limits {rate_per_s: 2, burst: 3, concurrency: 1, timeout_s: 5}
systems:
  odoo: {kind: odoo, url: "http://odoo", limits: *limits}
  wms: {kind: wms, url: "http://wms", limits: *limits}
"""
    cfg = parse_config(text)
    assert cfg.systems["wms"].limits.burst == 3


def test_validate_config_accepts_mappings() -> None:
    cfg = validate_config({"api": {"port": 0}})
    assert cfg.api.port == 0
    assert validate_config(None) == Config()


def test_sqlalchemy_url(monkeypatch: pytest.MonkeyPatch) -> None:
    assert sqlalchemy_url(Config()) == "sqlite:///var/crossdock.db"
    monkeypatch.setenv("PGPASSWORD", "p@ss/word")
    cfg = parse_config("database: {url: 'postgresql://app:${PGPASSWORD}@db:5432/hub'}")
    # the template stays as written; the password is interpolated (and URL-quoted) only on demand
    assert cfg.database.url == "postgresql://app:${PGPASSWORD}@db:5432/hub"
    assert sqlalchemy_url(cfg) == "postgresql+psycopg://app:p%40ss%2Fword@db:5432/hub"
    cfg = parse_config("database: {url: 'postgresql+psycopg://db/hub'}")
    assert sqlalchemy_url(cfg) == "postgresql+psycopg://db/hub"
    assert sqlalchemy_url(cfg.database) == "postgresql+psycopg://db/hub"


def test_database_url_whole_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = parse_config("database: {url: '${DATABASE_URL}'}")
    with pytest.raises(SecretError, match="DATABASE_URL is not set"):
        sqlalchemy_url(cfg)
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/hub")
    assert sqlalchemy_url(cfg) == "postgresql+psycopg://db/hub"
    assert cfg.database.backend == "postgresql"
    monkeypatch.setenv("DATABASE_URL", "mysql://secret-host/db")
    with pytest.raises(SecretError) as info:
        sqlalchemy_url(cfg)
    assert "secret-host" not in str(info.value)
    assert "DATABASE_URL must hold" in str(info.value)


def test_sqlite_paths() -> None:
    assert parse_config("database: {url: 'sqlite:////srv/hub.db'}").database.sqlite_path() == Path(
        "/srv/hub.db"
    )
    assert parse_config("database: {url: 'sqlite:///:memory:'}").database.sqlite_path() is None
    assert parse_config("database: {url: 'postgresql://h/d'}").database.sqlite_path() is None


def test_dump_round_trips() -> None:
    cfg = parse_config(VALID)
    assert parse_config(dump_config(cfg)) == cfg
