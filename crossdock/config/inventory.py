"""The ``inventory`` section of ``crossdock.yaml``: which warehouses send stock, the unit each SKU
is counted in, how stock events are coalesced toward the ERP, and what each sales channel is told
is available (safety buffers, reorder thresholds, real-time or batch publication).

.. code-block:: yaml

    inventory:
      warehouses: [WH, BRU1]        # known warehouse codes (empty: the channels' warehouses)
      categories:                   # SKU glob patterns per category, first match wins
        fragile: ["GLS-*", "VASE-*"]
      units:
        default: unit               # the unit stock is counted in
        skus: {FLOUR-25: kg}
        categories: {bulk: kg}
      snapshot_errors: refuse       # refuse (nothing applied) | apply_valid
      coalescing:
        quiet_ms: 500               # write once the events have paused this long…
        erp_max_delay_s: 30         # …or when a change waited this long for the ERP
        publish_max_delay_s: 30     # …or for the channels
      erp_batch_size: 500           # quants per ERP call
      erp_concurrency: 2            # ERP calls in flight for stock (orders keep the rest)
      erp_locations:                # WMS location -> ERP location id (default: the stock location)
        WH: {"QC-HOLD": 23}
      channels:                     # names from `channels:`; `default` for the others
        default:
          buffer:
            default: {percent: 10}
            skus: {SKU-1: {absolute: 5}}
            categories: {fragile: {absolute: 2}}
          reorder:
            default: 10
          sync: {mode: realtime}
        b2b-portal:
          sync: {mode: batch, cron: "0 * * * *"}

Every key is optional. ERP writes follow ``sync.inventory`` (``realtime``: coalesced as above;
``batch``: at its cron ticks) and happen only when ``ownership.stock`` is not the ERP itself.
"""

from __future__ import annotations

import fnmatch
import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from crossdock.config.base import ConfigModel
from crossdock.config.schedules import TimeZone
from crossdock.engine import cron_problem

__all__ = [
    "Buffer",
    "BufferRules",
    "ChannelInventory",
    "Coalescing",
    "InventoryConfig",
    "PublishSync",
    "ThresholdRules",
    "UnitRules",
]


_WAREHOUSE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$")
_UNIT_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-/]{0,15}$")
_CATEGORY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


def _warehouse(value: str) -> str:
    if not _WAREHOUSE_RE.match(value):
        raise PydanticCustomError(
            "warehouse_code", "invalid warehouse code (letters, digits, '_' or '-', at most 16)"
        )
    return value


def _unit(value: str) -> str:
    if not _UNIT_RE.match(value):
        raise PydanticCustomError("unit", "invalid unit (a short code such as unit, kg, box12)")
    return value


def _category(value: str) -> str:
    if not _CATEGORY_RE.match(value):
        raise PydanticCustomError(
            "category", "invalid category name (lowercase letters, digits, '_' and '-')"
        )
    return value


WarehouseCode = Annotated[str, AfterValidator(_warehouse)]
UnitCode = Annotated[str, AfterValidator(_unit)]
Category = Annotated[str, AfterValidator(_category)]


class Buffer(ConfigModel):
    """A safety buffer: an absolute quantity or a percentage of the free quantity."""

    absolute: Decimal | None = Field(default=None, ge=0)
    percent: Decimal | None = Field(default=None, ge=0, le=100)

    @model_validator(mode="after")
    def _one_of(self) -> Buffer:
        if (self.absolute is None) == (self.percent is None):
            raise PydanticCustomError("buffer", "give exactly one of absolute or percent")
        return self

    def amount(self, free: Decimal) -> Decimal:
        """The quantity held back from ``free``."""
        if self.absolute is not None:
            return self.absolute
        assert self.percent is not None
        return max(free, Decimal(0)) * self.percent / 100


class BufferRules(ConfigModel):
    """Buffers by SKU, then by category, then the default (none: no buffer)."""

    default: Buffer | None = None
    skus: dict[str, Buffer] = Field(default_factory=dict)
    categories: dict[Category, Buffer] = Field(default_factory=dict)


class ThresholdRules(ConfigModel):
    """Reorder thresholds by SKU, then by category, then the default (none: no threshold)."""

    default: Decimal | None = Field(default=None, ge=0)
    skus: dict[str, Annotated[Decimal, Field(ge=0)]] = Field(default_factory=dict)
    categories: dict[Category, Annotated[Decimal, Field(ge=0)]] = Field(default_factory=dict)


class UnitRules(ConfigModel):
    """The unit each SKU is counted in: by SKU, then by category, then the default."""

    default: UnitCode = "unit"
    skus: dict[str, UnitCode] = Field(default_factory=dict)
    categories: dict[Category, UnitCode] = Field(default_factory=dict)


class PublishSync(ConfigModel):
    """When a channel is told: ``realtime`` (coalesced, see ``coalescing``) or ``batch`` on a
    cron schedule (5 fields or an ``@`` macro) read in ``timezone``."""

    mode: Literal["realtime", "batch"] = "realtime"
    cron: str | None = None
    timezone: TimeZone = "UTC"
    """Time zone the cron schedule is read in (IANA name)."""

    @model_validator(mode="after")
    def _cron(self) -> PublishSync:
        if self.mode == "batch":
            cron = (self.cron or "").strip()
            if not cron:
                raise PydanticCustomError("cron_required", "cron: required when mode is batch")
            problem = cron_problem(cron)
            if problem is not None:
                raise PydanticCustomError("cron", f"cron: {problem}")
        elif self.cron is not None:
            raise PydanticCustomError("cron_realtime", "cron: only allowed when mode is batch")
        return self


class ChannelInventory(ConfigModel):
    """What one sales channel is told about availability."""

    publish: bool = True
    """Publish ``inventory.available`` (and threshold events) for this channel."""
    buffer: BufferRules = Field(default_factory=BufferRules)
    reorder: ThresholdRules = Field(default_factory=ThresholdRules)
    sync: PublishSync = Field(default_factory=PublishSync)


class Coalescing(ConfigModel):
    """How stock changes are gathered before they are written or published: once events pause
    for ``quiet_ms``, or when the oldest waiting change reaches the maximum delay. Ordinary
    traffic pauses all the time, so it is told within ``quiet_ms``; the maximum delays only
    bound how long a sustained burst defers the ERP and the channels (publishing thousands of
    numbers costs every consumer of the log, so not more often than that)."""

    quiet_ms: int = Field(default=500, ge=0, le=600_000)
    erp_max_delay_s: float = Field(default=30.0, gt=0)
    publish_max_delay_s: float = Field(default=30.0, gt=0)


class InventoryConfig(ConfigModel):
    """The whole ``inventory`` section (see the module documentation)."""

    warehouses: list[WarehouseCode] = Field(default_factory=list)
    """Warehouses that may send stock. Empty: every warehouse a channel lists, or ``WH`` (the
    ERP's default warehouse code) when no channel lists one."""
    categories: dict[Category, list[str]] = Field(default_factory=dict)
    """SKU glob patterns per category (``GLS-*``); the first category that matches wins."""
    units: UnitRules = Field(default_factory=UnitRules)
    snapshot_errors: Literal["refuse", "apply_valid"] = "refuse"
    """A count with bad lines: ``refuse`` it whole (nothing applied), or ``apply_valid`` lines
    (positions the count does not mention are then left as they are)."""
    coalescing: Coalescing = Field(default_factory=Coalescing)
    erp_batch_size: int = Field(default=500, ge=1, le=10_000)
    erp_concurrency: int = Field(default=2, ge=1, le=16)
    """ERP calls in flight for stock; keep it below the ERP system's ``limits.concurrency`` so
    order traffic always has calls left."""
    erp_locations: dict[WarehouseCode, dict[str, int]] = Field(default_factory=dict)
    """Per warehouse: WMS location -> ERP location id. Unlisted locations are summed into the
    warehouse's stock location."""
    max_events_per_request: int = Field(default=50_000, ge=1, le=1_000_000)
    unknown_sku_recheck_s: float = Field(default=60.0, ge=0)
    """An SKU the ERP did not know is asked about again after this long."""
    journal_retention_days: float = Field(default=7.0, gt=0)
    """Stock events older than this are dropped from the journal (a count replays the events
    after it from the journal, so counts older than this cannot be applied)."""
    channels: dict[str, ChannelInventory] = Field(default_factory=dict)
    """Per channel name (``default`` for channels without an entry)."""

    @field_validator("warehouses")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise PydanticCustomError("duplicate_warehouse", "lists a warehouse twice")
        return value

    @field_validator("categories")
    @classmethod
    def _patterns(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, patterns in value.items():
            if not patterns or any(not p.strip() for p in patterns):
                raise PydanticCustomError(
                    "category_patterns", f"{name}: list at least one non-empty SKU pattern"
                )
        return value

    def channel(self, name: str) -> ChannelInventory:
        """The settings of channel ``name`` (the ``default`` entry, else the defaults)."""
        return self.channels.get(name) or self.channels.get("default") or ChannelInventory()

    def category_of(self, sku: str) -> str | None:
        """The first category whose patterns match ``sku``."""
        for name, patterns in self.categories.items():
            if any(fnmatch.fnmatchcase(sku, p) for p in patterns):
                return name
        return None

    def unit_of(self, sku: str, category: str | None = None) -> str:
        """The unit ``sku`` is counted in."""
        units = self.units
        if sku in units.skus:
            return units.skus[sku]
        category = category if category is not None else self.category_of(sku)
        if category is not None and category in units.categories:
            return units.categories[category]
        return units.default
