"""The configuration schema: the whole of ``crossdock.yaml`` (`Config`), made of its sections.

Every section is optional; an empty file gives the embedded demo configuration (SQLite, sandbox
systems, Odoo owning every domain). Every model forbids unknown keys, so a typo is reported rather
than silently ignored — except ``systems.<name>.options``, which is free for connector settings.

Validation messages are short and written for people (``not a URL``, ``must be >= 1``); the loader
turns them into ``dotted.path: message`` lines. Messages never quote the offending value, because
it may be a secret typed in the wrong place.

Sections, each in its module of ``crossdock/config/`` (this module re-exports their models):

- ``database``  — ``sqlite:///path`` (default) or ``postgresql://…``; ``${ENV}`` references inside
  the URL are kept as written and interpolated only by :meth:`DatabaseConfig.resolve`.
- ``systems``   — one entry per connected system: kind, URL, credentials (secret references only),
  limits, options.
- ``ownership`` — the system of record of each business domain.
- ``sync``      — per workflow: ``realtime`` or ``batch`` on a cron schedule.
- ``lanes``     — priority lanes of the engine (higher priority is served first).
- ``channels``  — per sales channel: pricing, warehouses, fulfilment fallbacks, short-pick policy,
  company; the ``default`` entry applies to channels not listed.
- ``engine``    — event log and dispatch tuning (in ``runtime.py`` with the next two).
- ``api``       — where the HTTP API listens.
- ``observability`` — log level, tracing (on/off, sampling) and the OTLP exporter (off by default).
- ``webhooks``  — outbound delivery (retries, SSRF allow-list) and inbound sources
  (``crossdock/config/webhooks.py``).

Top-level keys starting with ``x-`` are ignored, so YAML anchors shared by several entries can live
there (``x-limits: &limits {…}`` then ``limits: *limits``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from crossdock.config.base import ConfigModel, Name
from crossdock.config.channels import (
    DEFAULT_CHANNEL,
    ChannelPolicy,
    FulfilmentStep,
    default_channels,
)
from crossdock.config.database import DEFAULT_DATABASE_URL, DatabaseConfig
from crossdock.config.edi import EdiConfig
from crossdock.config.forecasting import ForecastingConfig
from crossdock.config.inventory import InventoryConfig
from crossdock.config.lanes import DEFAULT_LANE, LaneConfig, default_lanes
from crossdock.config.ownership import CORE_DOMAINS, DEFAULT_OWNER, DOMAINS, Ownership
from crossdock.config.payments import PaymentsConfig
from crossdock.config.procurement import ProcurementConfig
from crossdock.config.reconciliation import ReconciliationConfig
from crossdock.config.returns import ReturnsConfig
from crossdock.config.runtime import ApiConfig, ApiLimits, EngineConfig, ObservabilityConfig
from crossdock.config.sync import SyncPolicy, default_sync
from crossdock.config.systems import SYSTEM_KINDS, Limits, System, SystemKind, default_systems
from crossdock.config.webhooks import WebhooksConfig

__all__ = [
    "CORE_DOMAINS",
    "DEFAULT_DATABASE_URL",
    "DOMAINS",
    "SYSTEM_KINDS",
    "ApiConfig",
    "ApiLimits",
    "ChannelPolicy",
    "Config",
    "DatabaseConfig",
    "EngineConfig",
    "FulfilmentStep",
    "LaneConfig",
    "Limits",
    "ObservabilityConfig",
    "Ownership",
    "SyncPolicy",
    "System",
    "SystemKind",
    "sqlalchemy_url",
]


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
    lanes: dict[Name, LaneConfig] = Field(default_factory=default_lanes)
    channels: dict[Name, ChannelPolicy] = Field(default_factory=default_channels)
    inventory: InventoryConfig = Field(default_factory=InventoryConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)
    webhooks: WebhooksConfig = Field(default_factory=WebhooksConfig)
    observability: ObservabilityConfig = Field(default_factory=ObservabilityConfig)
    reconciliation: ReconciliationConfig = Field(default_factory=ReconciliationConfig)
    edi: EdiConfig = Field(default_factory=EdiConfig)
    returns: ReturnsConfig = Field(default_factory=ReturnsConfig)
    procurement: ProcurementConfig = Field(default_factory=ProcurementConfig)
    forecasting: ForecastingConfig = Field(default_factory=ForecastingConfig)
    payments: PaymentsConfig = Field(default_factory=PaymentsConfig)

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
    def _default_lane(cls, value: dict[str, LaneConfig]) -> dict[str, LaneConfig]:
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
