"""What cron schedules in the configuration share: the time zone they are read in, by the
engine's one rule (`crossdock.engine.timezone_problem`; crons: `cron_problem`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from crossdock.engine import timezone_problem


def check_timezone(value: str) -> str:
    """An IANA time zone name (``UTC``, ``Europe/Brussels``)."""
    problem = timezone_problem(value)
    if problem is not None:
        raise PydanticCustomError("timezone", problem)
    return value


TimeZone = Annotated[str, AfterValidator(check_timezone)]
