"""The ``lanes`` section: the engine's priority lanes (higher priority is served first)."""

from __future__ import annotations

from pydantic import (
    Field,
)

from crossdock.config.base import ConfigModel

DEFAULT_LANE = "default"


class LaneConfig(ConfigModel):
    """A priority lane: the engine serves higher ``priority`` first and runs at most
    ``concurrency`` of the lane's batches at once per hub process, so one lane cannot take every
    worker."""

    priority: int = Field(default=0, ge=-1000, le=1000)
    concurrency: int = Field(default=1, ge=1, le=1024)


def default_lanes() -> dict[str, LaneConfig]:
    """Orders first, inventory next, everything else, then scheduled batch jobs last."""
    return {
        "orders": LaneConfig(priority=10, concurrency=4),
        "inventory": LaneConfig(priority=5, concurrency=2),
        DEFAULT_LANE: LaneConfig(priority=0, concurrency=2),
        "batch": LaneConfig(priority=-10, concurrency=1),
    }
