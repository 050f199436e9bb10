"""What cron schedules in the configuration share: the cron expressions accepted and the time zone
they are read in."""

from __future__ import annotations

import zoneinfo
from typing import Annotated

from croniter import croniter
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError


def check_timezone(value: str) -> str:
    """An IANA time zone name (``UTC``, ``Europe/Brussels``)."""
    if value == "UTC":
        return value
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise PydanticCustomError(
            "timezone", "unknown time zone (use an IANA name such as Europe/Brussels)"
        ) from None
    return value


TimeZone = Annotated[str, AfterValidator(check_timezone)]

_CRON_MACROS = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)


def is_valid_cron(expr: str) -> bool:
    """A standard 5-field cron expression (minute hour day month weekday) or an ``@`` macro.

    croniter also accepts 6 and 7 fields (seconds and years at the *end*), which reads like a
    different standard and surprises people; those are refused.
    """
    expr = expr.strip()
    if expr in _CRON_MACROS:
        return True
    if len(expr.split()) != 5:
        return False
    return bool(croniter.is_valid(expr))
