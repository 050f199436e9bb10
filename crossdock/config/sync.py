"""The ``sync`` section: per workflow, ``realtime`` or ``batch`` on a cron schedule."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from crossdock.config.base import ConfigModel, Name
from crossdock.config.schedules import TimeZone
from crossdock.engine import cron_problem


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
