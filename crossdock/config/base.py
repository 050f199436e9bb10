"""What every configuration section shares: the base model (unknown keys refused, values frozen,
never quoted), the `Name` of entries and references, `Cron` for a schedule's expression, and
`RetryPolicy` for the waits between tries."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from crossdock.engine import cron_problem
from crossdock.retry import Backoff


class ConfigModel(BaseModel):
    """A section (or part of one) of the configuration file."""

    # extra="forbid": a misspelt key is a problem, not a silent default.
    # hide_input_in_errors: pydantic's own error text (e.g. when code builds a model directly) must
    # not quote a value either (it may be a secret).
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


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


def _check_cron(value: str) -> str:
    problem = cron_problem(value)
    if problem is not None:
        raise PydanticCustomError("cron", problem)
    return value.strip()


Cron = Annotated[str, AfterValidator(_check_cron)]
"""A 5-field cron expression, checked by the engine's schedules' own rules."""


class RetryPolicy(ConfigModel):
    """The waits between tries: from ``base_s``, times ``factor`` each try, up to ``max_s``."""

    base_s: float = Field(default=30.0, gt=0)
    factor: float = Field(default=2.0, ge=1)
    max_s: float = Field(default=3600.0, gt=0)

    @property
    def backoff(self) -> Backoff:
        """The project's back-off with these waits."""
        return Backoff(base_s=self.base_s, factor=self.factor, max_s=self.max_s)
