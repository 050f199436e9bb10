"""What cron schedules in the configuration share: the time zone they are read in."""

from __future__ import annotations

import zoneinfo
from typing import Annotated

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
