"""One cron and time-zone rule for every schedule: the configuration's sync policies, its
reconciliation schedules, the channels' publishing schedules and the engine's `Schedule`."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from crossdock.config.inventory import PublishSync
from crossdock.config.schema import SyncPolicy
from crossdock.engine import Schedule

ACCEPTED = ["0 2 * * *", "*/5 * * * 1-5", "@hourly", "@daily"]
REFUSED = ["every minute", "0 0 * * * 0", "* * * * * * 2030", "61 * * * *"]


@pytest.mark.parametrize("cron", ACCEPTED)
def test_every_schedule_accepts_the_same_crons(cron: str) -> None:
    SyncPolicy(mode="batch", cron=cron)
    PublishSync(mode="batch", cron=cron)
    Schedule("s", cron, "x.y")


@pytest.mark.parametrize("cron", REFUSED)
def test_every_schedule_refuses_the_same_crons(cron: str) -> None:
    with pytest.raises(ValidationError, match="not a valid cron expression"):
        SyncPolicy(mode="batch", cron=cron)
    with pytest.raises(ValidationError, match="not a valid cron expression"):
        PublishSync(mode="batch", cron=cron)
    with pytest.raises(ValueError, match="not a valid cron expression"):
        Schedule("s", cron, "x.y")


def test_every_schedule_refuses_the_same_time_zones() -> None:
    with pytest.raises(ValidationError, match="unknown time zone"):
        SyncPolicy(mode="batch", cron="@daily", timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="unknown time zone"):
        Schedule("s", "@daily", "x.y", timezone="Mars/Olympus")
    Schedule("s", "@daily", "x.y", timezone="Europe/Brussels")
