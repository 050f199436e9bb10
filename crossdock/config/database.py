"""The ``database`` section: where the hub keeps its event log and state (SQLite or PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import (
    field_validator,
)
from pydantic_core import PydanticCustomError

from crossdock.config.base import ConfigModel
from crossdock.config.secrets import (
    ENV_REF_IN_TEXT_RE,
    ENV_REF_RE,
    SecretError,
    interpolate_env,
)

DEFAULT_DATABASE_URL = "sqlite:///var/crossdock.db"
_DB_URL_MESSAGE = "must be sqlite:///path or postgresql://…"
_POSTGRES_PREFIXES = ("postgresql://", "postgresql+psycopg://")


def _database_url_problem(url: str) -> str | None:
    """Why ``url`` is not an acceptable database URL (template), or ``None`` if it is."""
    if ENV_REF_RE.match(url):
        return None  # the whole URL comes from the environment; checked when resolved
    if url.startswith("sqlite:///"):
        if url == "sqlite:///" or url.startswith("sqlite:///?"):
            return "sqlite URL needs a path (sqlite:///path/to/file.db)"
        return None
    if url.startswith(_POSTGRES_PREFIXES):
        rest = url.split("://", 1)[1]
        if not rest or rest.startswith("?"):
            return _DB_URL_MESSAGE
        parts = urlsplit(url)
        password = parts.password
        if password is not None and password != "" and not ENV_REF_RE.match(password):
            return "password must be a reference (${ENV_VAR}), not inline"
        for key, values in parse_qs(parts.query).items():
            if key.lower() == "password" and not all(ENV_REF_RE.match(v) for v in values):
                return "password must be a reference (${ENV_VAR}), not inline"
        return None
    return _DB_URL_MESSAGE


class DatabaseConfig(ConfigModel):
    """Where the event log lives.

    ``url`` is kept exactly as written (references unresolved), so printing the configuration never
    shows a password. Relative SQLite paths are relative to the working directory, as in SQLAlchemy
    (``sqlite:///var/crossdock.db`` is ``./var/crossdock.db``; ``sqlite:////srv/x.db`` is absolute).
    """

    url: str = DEFAULT_DATABASE_URL

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        problem = _database_url_problem(value)
        if problem:
            raise PydanticCustomError("database_url", problem)
        return value

    def resolve(self) -> str:
        """The URL with ``${ENV}`` references replaced (it may contain a password: never log it).

        Raises :class:`SecretError` if a variable is unset or the result is not a database URL.
        """
        if ENV_REF_RE.match(self.url):
            resolved = interpolate_env(self.url)
            if ENV_REF_IN_TEXT_RE.search(resolved) or _database_url_problem(resolved):
                name = ENV_REF_RE.match(self.url).group(1)  # type: ignore[union-attr]
                raise SecretError(
                    f"environment variable {name} must hold a sqlite:///path or postgresql://… URL"
                    " with no inline password"
                )
            return resolved
        # Embedded references (user, password, host, database) are percent-encoded for postgres so a
        # password containing '@' or '/' cannot change the URL's structure.
        return interpolate_env(self.url, url_quote=not self.url.startswith("sqlite:"))

    @property
    def backend(self) -> Literal["sqlite", "postgresql"]:
        """``sqlite`` or ``postgresql`` (resolves ``url`` only if it is one whole reference)."""
        url = self.resolve() if ENV_REF_RE.match(self.url) else self.url
        return "sqlite" if url.startswith("sqlite:") else "postgresql"

    def sqlite_path(self) -> Path | None:
        """The SQLite database file, or ``None`` for PostgreSQL and ``:memory:``."""
        if self.backend != "sqlite":
            return None
        path = self.resolve()[len("sqlite:///") :].split("?", 1)[0]
        return None if path == ":memory:" else Path(path)
