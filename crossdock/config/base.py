"""The base of every configuration model: unknown keys refused, values frozen, never quoted."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ConfigModel(BaseModel):
    """A section (or part of one) of the configuration file."""

    # extra="forbid": a misspelt key is a problem, not a silent default.
    # hide_input_in_errors: pydantic's own error text (e.g. when code builds a model directly) must
    # not quote a value either (it may be a secret).
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)
