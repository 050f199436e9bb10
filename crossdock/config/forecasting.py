"""The ``forecasting`` section of ``crossdock.yaml``: demand history out to a forecasting platform,
forecasts in, and the hub's own baseline forecast when no platform is configured.

.. code-block:: yaml

    forecasting:
      warehouses: []              # warehouse codes whose history is exported (empty: procurement's)
      export_schedule: null       # 5-field cron (UTC) of a history export; null: on request only
      export_directory: null      # write each export as a CSV file into this directory
      export_url: null            # or POST each export (CSV) to this URL, signed like webhooks
      export_secret: null         # whsec_ secret reference signing the push (required with a URL)
      export_format: csv          # csv, or parquet: typed columns, a row group per page
      first_export_days: 365      # the first export reaches this many days back
      settle_seconds: 300         # moves newer than this are left to the next export
      drop_directory: null        # forecast files (CSV) dropped here are imported, then moved
      import_policy: all_or_nothing  # or apply_valid: bad lines rejected, the rest applied
      max_quantity: 1000000       # a forecast quantity above this per period is refused as absurd
      baseline: auto              # auto: baseline when no platform is configured; always; never
      baseline_schedule: null     # 5-field cron (UTC) of a baseline computation
      period_days: 7              # the baseline's period (1: daily, 7: weekly)
      horizon_periods: 13         # how many periods the baseline forecasts
      season_periods: 52          # the season's length in periods (52 weeks: yearly)

Every key is optional. A platform is configured when ``export_directory`` or ``export_url`` is.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import AnyHttpUrl, Field, model_validator
from pydantic_core import PydanticCustomError

from crossdock.config.base import ConfigModel, Cron
from crossdock.config.secrets import SecretRef

__all__ = ["ForecastingConfig"]


class ForecastingConfig(ConfigModel):
    warehouses: list[str] = Field(default_factory=list)
    """Warehouse codes whose history is exported; empty: ``procurement.warehouses``."""
    export_schedule: Cron | None = None
    """5-field cron (UTC) of a history export; absent: on request only."""
    export_directory: str | None = None
    """A directory each export is written into as one file (written whole, then renamed)."""
    export_url: AnyHttpUrl | None = None
    """A URL each export is POSTed to (its file), signed as the hub's webhooks are."""
    export_secret: SecretRef | None = None
    """The ``whsec_…`` secret signing the push (``webhook-signature``)."""
    export_format: Literal["csv", "parquet"] = "csv"
    """The export's file format, to a directory or pushed: CSV, or Parquet (typed columns,
    quantities as ``decimal128(38, 9)``, one row group per page of rows)."""
    first_export_days: int = Field(default=365, ge=1, le=3650)
    """How far back the first export reaches, in days."""
    settle_seconds: int = Field(default=300, ge=0, le=86400)
    """Moves newer than this are left to the next export (a move stamped late is not missed)."""
    drop_directory: str | None = None
    """Forecast files (CSV) dropped here are imported, then moved to ``done/`` or ``rejected/``."""
    import_policy: Literal["all_or_nothing", "apply_valid"] = "all_or_nothing"
    """A forecast with bad lines: rejected whole, or its valid lines applied."""
    max_quantity: Decimal = Field(default=Decimal(1_000_000), gt=0)
    """A forecast quantity above this per period is refused as absurd."""
    baseline: Literal["auto", "always", "never"] = "auto"
    """``auto``: the hub computes a baseline forecast when no platform is configured."""
    baseline_schedule: Cron | None = None
    """5-field cron (UTC) of a baseline computation; absent: on request only."""
    period_days: Literal[1, 7] = 7
    """The baseline's period in days."""
    horizon_periods: int = Field(default=13, ge=1, le=366)
    """How many periods the baseline forecasts."""
    season_periods: int = Field(default=52, ge=2, le=366)
    """The season's length in periods (Holt-Winters needs two seasons of history)."""

    @property
    def platform(self) -> bool:
        """Whether a forecasting platform receives the history."""
        return self.export_directory is not None or self.export_url is not None

    @property
    def baseline_enabled(self) -> bool:
        return self.baseline == "always" or (self.baseline == "auto" and not self.platform)


    @model_validator(mode="after")
    def _push_is_signed(self) -> ForecastingConfig:
        if self.export_url is not None and self.export_secret is None:
            raise PydanticCustomError(
                "export_secret", "export_url needs export_secret (the push is signed)"
            )
        return self
