"""The configuration schema: pydantic models for every section of ``crossdock.yaml``.

Every section is optional; an empty file gives the embedded demo configuration (SQLite, sandbox
systems, Odoo owning every domain). Every model forbids unknown keys, so a typo is reported rather
than silently ignored — except ``systems.<name>.options``, which is free for connector settings.

Validation messages are short and written for people (``not a URL``, ``must be >= 1``); the loader
turns them into ``dotted.path: message`` lines. Messages never quote the offending value, because
it may be a secret typed in the wrong place.

Sections:

- ``database``  — ``sqlite:///path`` (default) or ``postgresql://…``; ``${ENV}`` references inside
  the URL are kept as written and interpolated only by :meth:`DatabaseConfig.resolve`.
- ``systems``   — one entry per connected system: kind, URL, credentials (secret references only),
  limits, options.
- ``ownership`` — the system of record of each business domain.
- ``sync``      — per workflow: ``realtime`` or ``batch`` on a cron schedule.
- ``lanes``     — priority lanes of the engine (higher priority is served first).
- ``channels``  — per sales channel: pricing, warehouses, fulfilment fallbacks, short-pick policy,
  company; the ``default`` entry applies to channels not listed.
- ``engine``    — event log and dispatch tuning.
- ``api``       — where the HTTP API listens.
- ``observability`` — log level, tracing (on/off, sampling) and the OTLP exporter (off by default).
- ``webhooks``  — outbound delivery (retries, SSRF allow-list) and inbound sources
  (``crossdock/config/webhooks.py``).

Top-level keys starting with ``x-`` are ignored, so YAML anchors shared by several entries can live
there (``x-limits: &limits {…}`` then ``limits: *limits``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import parse_qs, urlsplit

from pydantic import (
    AfterValidator,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from crossdock.config.base import ConfigModel
from crossdock.config.inventory import InventoryConfig
from crossdock.config.reconciliation import ReconciliationConfig
from crossdock.config.schedules import TimeZone
from crossdock.config.secrets import (
    ENV_REF_IN_TEXT_RE,
    ENV_REF_RE,
    SecretError,
    SecretRef,
    interpolate_env,
)
from crossdock.config.webhooks import WebhooksConfig
from crossdock.engine import cron_problem
from crossdock.model.types import CurrencyCode

__all__ = [
    "CORE_DOMAINS",
    "DEFAULT_DATABASE_URL",
    "DOMAINS",
    "SYSTEM_KINDS",
    "ApiConfig",
    "ChannelPolicy",
    "Config",
    "DatabaseConfig",
    "EngineConfig",
    "FulfilmentStep",
    "Lane",
    "Limits",
    "ObservabilityConfig",
    "Ownership",
    "SyncPolicy",
    "System",
    "SystemKind",
    "sqlalchemy_url",
]

# --------------------------------------------------------------------------------------------
# Names


_NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


def _check_name(value: str) -> str:
    if not _NAME_RE.match(value):
        raise PydanticCustomError(
            "invalid_name",
            "invalid name (lowercase letters, digits, '_' and '-', starting with a letter)",
        )
    return value


Name = Annotated[str, AfterValidator(_check_name)]
"""A name used as a key and as a reference: systems, lanes, workflows, credentials."""


# --------------------------------------------------------------------------------------------
# database

DEFAULT_DATABASE_URL = "sqlite:///var/crossdock.db"
_DB_URL_MESSAGE = "must be sqlite:///path or postgresql://…"
_POSTGRES_PREFIXES = ("postgresql://", "postgresql+psycopg://")


def _database_url_problem(url: str) -> str | None:
    """Why ``url`` is not an acceptable database URL (template), or ``None`` if it is."""
    if ENV_REF_RE.match(url):
        return None  # the whole URL comes from the environment; checked when resolved
    if url.startswith("sqlite:///"):
        if url == "sqlite:///" or url.startswith("sqlite:///?"):
            return "sqlite URL needs a path (sqlite:///path/to/file.db)"
        return None
    if url.startswith(_POSTGRES_PREFIXES):
        rest = url.split("://", 1)[1]
        if not rest or rest.startswith("?"):
            return _DB_URL_MESSAGE
        parts = urlsplit(url)
        password = parts.password
        if password is not None and password != "" and not ENV_REF_RE.match(password):
            return "password must be a reference (${ENV_VAR}), not inline"
        for key, values in parse_qs(parts.query).items():
            if key.lower() == "password" and not all(ENV_REF_RE.match(v) for v in values):
                return "password must be a reference (${ENV_VAR}), not inline"
        return None
    return _DB_URL_MESSAGE


class DatabaseConfig(ConfigModel):
    """Where the event log lives.

    ``url`` is kept exactly as written (references unresolved), so printing the configuration never
    shows a password. Relative SQLite paths are relative to the working directory, as in SQLAlchemy
    (``sqlite:///var/crossdock.db`` is ``./var/crossdock.db``; ``sqlite:////srv/x.db`` is absolute).
    """

    url: str = DEFAULT_DATABASE_URL

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        problem = _database_url_problem(value)
        if problem:
            raise PydanticCustomError("database_url", problem)
        return value

    def resolve(self) -> str:
        """The URL with ``${ENV}`` references replaced (it may contain a password: never log it).

        Raises :class:`SecretError` if a variable is unset or the result is not a database URL.
        """
        if ENV_REF_RE.match(self.url):
            resolved = interpolate_env(self.url)
            if ENV_REF_IN_TEXT_RE.search(resolved) or _database_url_problem(resolved):
                name = ENV_REF_RE.match(self.url).group(1)  # type: ignore[union-attr]
                raise SecretError(
                    f"environment variable {name} must hold a sqlite:///path or postgresql://… URL"
                    " with no inline password"
                )
            return resolved
        # Embedded references (user, password, host, database) are percent-encoded for postgres so a
        # password containing '@' or '/' cannot change the URL's structure.
        return interpolate_env(self.url, url_quote=not self.url.startswith("sqlite:"))

    @property
    def backend(self) -> Literal["sqlite", "postgresql"]:
        """``sqlite`` or ``postgresql`` (resolves ``url`` only if it is one whole reference)."""
        url = self.resolve() if ENV_REF_RE.match(self.url) else self.url
        return "sqlite" if url.startswith("sqlite:") else "postgresql"

    def sqlite_path(self) -> Path | None:
        """The SQLite database file, or ``None`` for PostgreSQL and ``:memory:``."""
        if self.backend != "sqlite":
            return None
        path = self.resolve()[len("sqlite:///") :].split("?", 1)[0]
        return None if path == ":memory:" else Path(path)


def sqlalchemy_url(cfg: Config | DatabaseConfig) -> str:
    """The resolved database URL for SQLAlchemy: ``postgresql://`` becomes ``postgresql+psycopg://``.

    Contains the password if there is one: never log it. Raises :class:`SecretError` if a
    referenced environment variable is unset.
    """
    db = cfg.database if isinstance(cfg, Config) else cfg
    url = db.resolve()
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


# --------------------------------------------------------------------------------------------
# systems

SystemKind = Literal[
    "odoo",
    "shopify",
    "shop",
    "marketplace",
    "b2b_portal",
    "salesforce",
    "crm",
    "edi",
    "wms",
    "3pl",
    "carrier",
    "tms",
    "supplier",
    "forecasting",
    "payments",
    "finance",
    "pim",
    "analytics",
    "webhook",
]
"""The connector families Crossdock knows. A closed list so a typo (``kind: shopfy``) fails the
check instead of failing at runtime; adding a connector adds its kind here. Generic kinds (``shop``,
``crm``, ``wms``, ``carrier``, ``supplier``…) are the configurable HTTP/file adapters; named kinds
(``odoo``, ``shopify``, ``salesforce``) are dedicated connectors."""

SYSTEM_KINDS: tuple[str, ...] = get_args(SystemKind)

_URL_SCHEMES = ("http", "https", "sftp")
_SECRET_OPTION_KEYS = frozenset(
    {
        "password",
        "passwd",
        "secret",
        "client_secret",
        "token",
        "access_token",
        "refresh_token",
        "api_key",
        "apikey",
        "private_key",
    }
)


def _check_option_key(key: str) -> str:
    if key.lower() in _SECRET_OPTION_KEYS:
        raise PydanticCustomError(
            "secret_in_options",
            "looks like a secret: put it in credentials as a reference (${ENV_VAR} or file:/path)",
        )
    return key


OptionKey = Annotated[str, AfterValidator(_check_option_key)]


class Limits(ConfigModel):
    """How hard Crossdock may push one system (principle 3: protect every target)."""

    rate_per_s: float = Field(default=10.0, gt=0)
    """Sustained requests per second (token bucket refill rate)."""
    burst: int = Field(default=20, ge=1)
    """Requests allowed at once above the sustained rate (token bucket size)."""
    concurrency: int = Field(default=4, ge=1)
    """Requests in flight at the same time, per hub process."""
    timeout_s: float = Field(default=30.0, gt=0)
    """Timeout of one request."""


class System(ConfigModel):
    """One connected external system."""

    kind: SystemKind
    url: str
    """Base URL: ``http``, ``https`` or ``sftp`` (file partners); a trailing ``/`` is removed."""
    username: str | None = None
    """A non-secret login (Odoo ``login``, API user); secrets go in ``credentials``."""
    credentials: dict[Name, SecretRef] = Field(default_factory=dict)
    """Secret references by name, e.g. ``api_key: ${ODOO_API_KEY}``."""
    webhook_secret: SecretRef | None = None
    """Secret that signs webhooks this system sends us (Standard Webhooks), if it sends any."""
    sandbox: bool = False
    """Served by the ``crossdock.sandbox`` simulator instead of the network (demo and tests)."""
    limits: Limits = Field(default_factory=Limits)
    options: dict[OptionKey, Any] = Field(default_factory=dict)
    """Connector-specific settings, e.g. Odoo ``database``, ``transport: auto|json2|jsonrpc``,
    company routing. Not validated here (each connector validates its own), except that keys that
    look like secrets (``password``, ``token``, ``api_key``…) are refused: they belong in
    ``credentials``."""

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.strip()
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError:
            raise PydanticCustomError("url", "not a URL") from None
        if not parts.scheme or not parts.hostname or any(c.isspace() for c in value):
            raise PydanticCustomError("url", "not a URL")
        if parts.scheme not in _URL_SCHEMES:
            raise PydanticCustomError(
                "url_scheme", "unsupported URL scheme (use http, https or sftp)"
            )
        if parts.username is not None or parts.password is not None:
            raise PydanticCustomError(
                "url_userinfo", "must not contain credentials (use username and credentials)"
            )
        return value.rstrip("/")

    @field_validator("credentials", "options", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value


def default_systems() -> dict[str, System]:
    """The demo's systems, all served by the sandbox simulators."""
    return {
        "odoo": System(
            kind="odoo",
            url="http://127.0.0.1:8070",  # not 8069: a real Odoo may listen there
            sandbox=True,
            username="admin",
            options={"database": "crossdock_demo", "transport": "auto"},
        ),
        "shop": System(kind="shop", url="http://127.0.0.1:8081", sandbox=True),
        "wms": System(kind="wms", url="http://127.0.0.1:8082", sandbox=True),
        "carrier": System(kind="carrier", url="http://127.0.0.1:8083", sandbox=True),
    }


# --------------------------------------------------------------------------------------------
# ownership

CORE_DOMAINS = ("customers", "products", "prices", "stock", "orders", "shipments", "invoices")
"""Domains that always have a system of record (default: ``odoo``)."""
OPTIONAL_DOMAINS = ("returns", "purchases", "payments")
"""Domains that have one only when configured."""
DOMAINS = CORE_DOMAINS + OPTIONAL_DOMAINS

DEFAULT_OWNER = "odoo"


class Ownership(ConfigModel):
    """The system of record of each domain (principle 4). Values are names from ``systems``.

    Every core domain defaults to ``odoo``, the ERP, so a configuration whose Odoo system is named
    ``odoo`` needs no ownership section.
    """

    customers: Name = DEFAULT_OWNER
    products: Name = DEFAULT_OWNER
    prices: Name = DEFAULT_OWNER
    stock: Name = DEFAULT_OWNER
    orders: Name = DEFAULT_OWNER
    shipments: Name = DEFAULT_OWNER
    invoices: Name = DEFAULT_OWNER
    returns: Name | None = None
    purchases: Name | None = None
    payments: Name | None = None

    def owner_of(self, domain: str) -> str | None:
        """The system of record of ``domain`` (``None``: unowned); ``KeyError`` if unknown."""
        if domain not in DOMAINS:
            raise KeyError(domain)
        owner: str | None = getattr(self, domain)
        return owner

    def owners(self) -> dict[str, str]:
        """Every owned domain and its system, in the order of :data:`DOMAINS`."""
        return {d: o for d in DOMAINS if (o := getattr(self, d)) is not None}


# --------------------------------------------------------------------------------------------
# sync

class SyncPolicy(ConfigModel):
    """How a workflow is synchronised: ``{mode: realtime}`` or ``{mode: batch, cron: "…"}``."""

    mode: Literal["realtime", "batch"]
    cron: str | None = Field(default=None, validate_default=True)
    """Schedule of a batch workflow (5-field cron or ``@hourly``-style macro); batch only."""
    timezone: TimeZone = "UTC"
    """Time zone the cron schedule is read in (IANA name)."""
    lane: Name | None = None
    """Lane the workflow's work runs in; by default the engine picks (see ``lanes``)."""

    @field_validator("cron")
    @classmethod
    def _check_cron(cls, value: str | None, info: ValidationInfo) -> str | None:
        mode = info.data.get("mode")
        if mode is None:  # mode itself is invalid: reported there
            return value
        if mode == "batch":
            if value is None:
                raise PydanticCustomError("cron_required", "required when mode is batch")
            problem = cron_problem(value)
            if problem is not None:
                raise PydanticCustomError("cron", problem)
            return value.strip()
        if value is not None:
            raise PydanticCustomError("cron_realtime", "only allowed when mode is batch")
        return value



def default_sync() -> dict[str, SyncPolicy]:
    """Orders and stock move in real time; reconciliation runs nightly."""
    return {
        "order_to_cash": SyncPolicy(mode="realtime"),
        "inventory": SyncPolicy(mode="realtime"),
        "reconciliation": SyncPolicy(mode="batch", cron="0 2 * * *"),
    }


# --------------------------------------------------------------------------------------------
# lanes

DEFAULT_LANE = "default"


class Lane(ConfigModel):
    """A priority lane: the engine serves higher ``priority`` first and runs at most
    ``concurrency`` of the lane's batches at once per hub process, so one lane cannot take every
    worker."""

    priority: int = Field(default=0, ge=-1000, le=1000)
    concurrency: int = Field(default=1, ge=1, le=1024)


def default_lanes() -> dict[str, Lane]:
    """Orders first, inventory next, everything else, then scheduled batch jobs last."""
    return {
        "orders": Lane(priority=10, concurrency=4),
        "inventory": Lane(priority=5, concurrency=2),
        DEFAULT_LANE: Lane(priority=0, concurrency=2),
        "batch": Lane(priority=-10, concurrency=1),
    }


# --------------------------------------------------------------------------------------------
# channels

DEFAULT_CHANNEL = "default"

FulfilmentStep = Literal["preferred", "any_warehouse", "split", "backorder", "reject"]
"""One fallback of a channel's fulfilment, tried in the order listed:

- ``preferred``     — the whole order from the first warehouse of ``warehouses``;
- ``any_warehouse`` — the whole order from the first warehouse (in preference order) that has it;
- ``split``         — lines (and quantities) spread over warehouses, in preference order;
- ``backorder``     — ship what is free now, the rest waits as a backorder (always succeeds);
- ``reject``        — stop here: the order goes to the exceptions queue (``out_of_stock``).

Running out of steps is the same as ``reject``."""

_WAREHOUSE_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$")


def _check_warehouse_code(value: str) -> str:
    if not _WAREHOUSE_CODE_RE.match(value):
        raise PydanticCustomError(
            "warehouse_code", "invalid warehouse code (letters, digits, '_' or '-', at most 16)"
        )
    return value


WarehouseCode = Annotated[str, AfterValidator(_check_warehouse_code)]


def _default_fulfilment() -> list[FulfilmentStep]:
    return ["preferred", "any_warehouse", "split", "backorder"]


class ChannelPolicy(ConfigModel):
    """How orders of one sales channel are priced, fulfilled and routed."""

    pricing: Literal["channel", "pricelist"] = "channel"
    """``channel``: keep the price the channel sent; ``pricelist``: the ERP's pricelist price.
    Taxes are always computed by the ERP."""
    pricelist_id: int | None = Field(default=None, ge=1)
    """ERP pricelist used with ``pricing: pricelist`` for orders in its currency (orders in
    another currency take the pricelist of theirs, see ``pricelists``)."""
    pricelists: dict[CurrencyCode, Annotated[int, Field(ge=1)]] = Field(default_factory=dict)
    """ERP pricelist by order currency (``{EUR: 3}``). An order's currency decides the sale
    order's pricelist, so its currency: this map first, else the ERP's first active pricelist of
    that currency; a currency with neither is an exception ``currency_unsupported``."""
    warehouses: list[WarehouseCode] = Field(default_factory=list)
    """Warehouse codes in order of preference; empty: the company's first warehouse."""
    fulfilment: list[FulfilmentStep] = Field(default_factory=_default_fulfilment)
    """Fallbacks tried in order when stock is short (see :data:`FulfilmentStep`)."""
    short_pick: Literal["backorder", "cancel"] = "backorder"
    """What a shipment short of the picking becomes: a backorder for the rest, or the rest is
    cancelled."""
    company: int | str | None = None
    """The ERP company of this channel's orders (id or name); overrides the ERP's own routing
    (``systems.<erp>.options.companies_by_channel`` / ``companies_by_country``)."""

    @field_validator("pricelist_id")
    @classmethod
    def _pricelist_needs_pricing(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and info.data.get("pricing") == "channel":
            raise PydanticCustomError("pricelist_channel", "only allowed with pricing: pricelist")
        return value

    @field_validator("warehouses")
    @classmethod
    def _unique_warehouses(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise PydanticCustomError("duplicate_warehouse", "lists a warehouse twice")
        return value

    @field_validator("fulfilment")
    @classmethod
    def _reachable_steps(cls, value: list[str]) -> list[str]:
        if not value:
            raise PydanticCustomError("fulfilment_empty", "list at least one step")
        if len(set(value)) != len(value):
            raise PydanticCustomError("fulfilment_duplicate", "lists a step twice")
        for final in ("backorder", "reject"):
            if final in value and value.index(final) != len(value) - 1:
                raise PydanticCustomError(
                    "fulfilment_unreachable", f"{final} must be the last step (it always decides)"
                )
        return value

    @field_validator("company")
    @classmethod
    def _company(cls, value: int | str | None) -> int | str | None:
        if isinstance(value, bool) or (isinstance(value, int) and value < 1):
            raise PydanticCustomError("company", "must be a company id (>= 1) or name")
        if isinstance(value, str) and not value.strip():
            raise PydanticCustomError("company", "must be a company id (>= 1) or name")
        return value


def default_channels() -> dict[str, ChannelPolicy]:
    """Only the ``default`` entry: channel prices, one warehouse, every fallback up to
    backorder."""
    return {DEFAULT_CHANNEL: ChannelPolicy()}


# --------------------------------------------------------------------------------------------
# engine, api


class EngineConfig(ConfigModel):
    """Event log and dispatch tuning."""

    partitions: int | None = Field(default=None, ge=1, le=1024)
    """Partitions of the log; events of one business key always land in the same one. Unset:
    16 on SQLite, 32 on PostgreSQL. Fixed when the database is first used."""
    lease_seconds: float = Field(default=30.0, gt=0)
    """How long a worker owns a batch before another may take it over."""
    poll_interval_ms: int = Field(default=100, ge=1)
    """Idle polling interval when no notification arrives."""
    batch_size: int = Field(default=200, ge=1, le=10_000)
    """Events handed to a handler at once."""
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    """SQLite ``PRAGMA synchronous``: ``FULL`` survives power loss; ``NORMAL`` is faster in WAL
    mode but may lose the last commits on power loss."""
    max_attempts: int = Field(default=8, ge=1)
    """Attempts before an event is dead-lettered."""
    backoff_base_s: float = Field(default=1.0, gt=0)
    """First retry delay; doubled on each attempt (with jitter)."""
    backoff_max_s: float = Field(default=3600.0, gt=0)
    """Longest retry delay."""

    @field_validator("sqlite_synchronous", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("backoff_max_s")
    @classmethod
    def _max_above_base(cls, value: float, info: ValidationInfo) -> float:
        base = info.data.get("backoff_base_s")
        if base is not None and value < base:
            raise PydanticCustomError("backoff", "must be >= backoff_base_s")
        return value


_MIB = 1024 * 1024


class ApiLimits(ConfigModel):
    """What one request may carry: larger bodies are refused with 413, more order lines or deeper
    JSON with 422 (``crossdock/api/limits.py``), before anything is parsed or stored."""

    body_bytes: int = Field(default=1 * _MIB, ge=1024)
    """Any request body not named below: orders, shipments, webhooks, subscriptions, forms."""
    stock_events_bytes: int = Field(default=32 * _MIB, ge=1024)
    """``POST /v1/inventory/events``: a batch of up to ``inventory.max_events_per_request``."""
    snapshot_bytes: int = Field(default=256 * _MIB, ge=1024)
    """``PUT /v1/inventory/snapshots/{warehouse}``: a full count, streamed line by line."""
    order_lines: int = Field(default=1000, ge=1, le=100_000)
    """Lines of one order (``POST /v1/orders``)."""
    json_depth: int = Field(default=64, ge=2, le=200)
    """Nesting of arrays and objects in a JSON body."""


class ApiConfig(ConfigModel):
    """Where the HTTP API listens. Port 0 picks a free port (tests)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    limits: ApiLimits = Field(default_factory=ApiLimits)


class ObservabilityConfig(ConfigModel):
    """Logs, metrics and tracing (``crossdock/ops``). Metrics are always on at ``/metrics``."""

    service_name: str = Field(default="crossdock", min_length=1, max_length=100)
    """``service.name`` of the spans."""
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    tracing: bool = True
    """Create spans (request, handler batch, connector call) and carry W3C ``traceparent``
    through events; trace ids appear in the logs. ``false``: no spans at all."""
    sample_ratio: float = Field(default=1.0, ge=0, le=1)
    """Share of new traces recorded (a trace started elsewhere follows its parent's decision)."""
    otlp_endpoint: str | None = None
    """OTLP/HTTP traces endpoint, e.g. ``http://collector:4318/v1/traces``; none: spans are
    not exported."""

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("otlp_endpoint")
    @classmethod
    def _check_endpoint(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parts = urlsplit(value.strip())
        except ValueError:
            raise PydanticCustomError("url", "not a URL") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PydanticCustomError("url", "not an http(s) URL")
        return value.strip()


# --------------------------------------------------------------------------------------------
# the whole file

_MAPPING_SECTIONS = ("systems", "sync", "lanes", "channels")
_MODEL_SECTIONS = ("database", "ownership", "engine", "api", "webhooks", "observability")


class Config(ConfigModel):
    """The whole configuration. ``Config()`` is the embedded demo configuration."""

    version: Literal[1] = 1
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    systems: dict[Name, System] = Field(default_factory=default_systems)
    ownership: Ownership = Field(default_factory=Ownership)
    sync: dict[Name, SyncPolicy] = Field(default_factory=default_sync)
    lanes: dict[Name, Lane] = Field(default_factory=default_lanes)
    channels: dict[Name, ChannelPolicy] = Field(default_factory=default_channels)
    inventory: InventoryConfig = Field(default_factory=InventoryConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)
    webhooks: WebhooksConfig = Field(default_factory=WebhooksConfig)
    observability: ObservabilityConfig = Field(default_factory=ObservabilityConfig)
    reconciliation: ReconciliationConfig = Field(default_factory=ReconciliationConfig)

    @model_validator(mode="before")
    @classmethod
    def _empty_sections(cls, data: Any) -> Any:
        # `systems:` with every entry commented out is an empty mapping, not "use the defaults";
        # `engine:` with nothing under it means the defaults.
        if isinstance(data, Mapping):
            # Top-level keys starting with `x-` are free, to hold YAML anchors shared by entries.
            data = {
                k: v for k, v in data.items() if not (isinstance(k, str) and k.startswith("x-"))
            }
            for key in _MAPPING_SECTIONS:
                if key in data and data[key] is None:
                    data[key] = {}
            for key in _MODEL_SECTIONS:
                if key in data and data[key] is None:
                    del data[key]
        return data

    @field_validator("lanes")
    @classmethod
    def _default_lane(cls, value: dict[str, Lane]) -> dict[str, Lane]:
        # Work that names no lane of its own runs in `default`; it always exists.
        if DEFAULT_LANE not in value:
            return {**value, DEFAULT_LANE: default_lanes()[DEFAULT_LANE]}
        return value

    @field_validator("channels")
    @classmethod
    def _default_channel(cls, value: dict[str, ChannelPolicy]) -> dict[str, ChannelPolicy]:
        # Orders of a channel not listed follow `default`; it always exists.
        if DEFAULT_CHANNEL not in value:
            return {**value, DEFAULT_CHANNEL: ChannelPolicy()}
        return value

    def channel(self, name: str) -> ChannelPolicy:
        """The policy of channel ``name`` (the ``default`` entry for a channel not listed)."""
        return self.channels.get(name) or self.channels[DEFAULT_CHANNEL]

    @model_validator(mode="after")
    def _check_references(self) -> Config:
        problems = reference_problems(
            self.model_dump(mode="json"), explicit_owners=self.ownership.model_fields_set
        )
        if problems:
            raise PydanticCustomError(
                "references",
                "{summary}",
                {
                    "summary": "; ".join(f"{'.'.join(p)}: {m}" for p, m in problems),
                    "problems": problems,
                },
            )
        return self


def reference_problems(
    data: Mapping[str, Any], *, explicit_owners: set[str] | None = None
) -> list[tuple[tuple[str, ...], str]]:
    """Names that refer to nothing: owners not in ``systems``, sync lanes not in ``lanes``.

    Works on plain (possibly invalid) data, so the loader can report these together with schema
    problems. ``explicit_owners`` are the ownership domains written in the file (``None``: read them
    from ``data``); a missing default owner gets a hint.
    """
    problems: list[tuple[tuple[str, ...], str]] = []
    systems = data["systems"] if "systems" in data else default_systems()
    ownership = data.get("ownership")
    ownership = ownership if isinstance(ownership, Mapping) else {}
    if explicit_owners is None:
        explicit_owners = {k for k in ownership if isinstance(k, str)}
    if isinstance(systems, Mapping):
        names = {str(k) for k in systems}
        for domain in DOMAINS:
            owner = ownership.get(domain, DEFAULT_OWNER if domain in CORE_DOMAINS else None)
            if not isinstance(owner, str) or owner in names:
                continue
            message = f"unknown system '{owner}'"
            if domain not in explicit_owners:
                message += f" (the default owner; set ownership.{domain})"
            problems.append((("ownership", domain), message))
    lanes = data["lanes"] if "lanes" in data else default_lanes()
    sync = data["sync"] if "sync" in data else default_sync()
    if isinstance(lanes, Mapping) and isinstance(sync, Mapping):
        lane_names = {str(k) for k in lanes} | {DEFAULT_LANE}
        for workflow, policy in sync.items():
            lane = policy.get("lane") if isinstance(policy, Mapping) else None
            if isinstance(lane, str) and lane not in lane_names:
                problems.append((("sync", str(workflow), "lane"), f"unknown lane '{lane}'"))
    return problems
