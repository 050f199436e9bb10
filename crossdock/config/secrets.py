"""Secret references: configuration names where a secret lives, never the secret itself.

A secret is written in the configuration as one of

- ``${ENV_VAR}`` — the value of an environment variable, or
- ``file:/absolute/path`` — the content of a file (a Docker or Kubernetes secret mount), with one
  trailing newline removed.

Anything else (``api_key: hunter2``, a number, an empty string) is an *inline* value and is rejected
when the configuration is validated, so a secret never sits in a file that is committed, copied or
printed. :class:`SecretRef` keeps only the reference: ``repr``, ``str`` and serialisation show the
reference, and :meth:`SecretRef.resolve` reads the value on every call (so rotated secrets are
picked up) and raises :class:`SecretError` naming the reference — never the value — on failure.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from crossdock.errors import CrossdockError

__all__ = ["INLINE_SECRET_MESSAGE", "SecretError", "SecretRef", "interpolate_env"]

INLINE_SECRET_MESSAGE = "secrets must be references (${ENV_VAR} or file:/path), not inline values"

ENV_REF_RE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
"""A whole value that is one environment reference: ``${NAME}``."""

ENV_REF_IN_TEXT_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
"""Environment references inside a longer text, e.g. a database URL."""


class SecretError(CrossdockError):
    """A secret reference cannot be resolved. The message names the reference, never a value."""


class SecretRef:
    """A reference to a secret: ``${ENV_VAR}`` or ``file:/absolute/path``.

    >>> SecretRef("${ODOO_API_KEY}")
    SecretRef('${ODOO_API_KEY}')
    """

    __slots__ = ("_kind", "_ref", "_target")

    def __init__(self, ref: str) -> None:
        kind, target = _parse(ref)
        self._ref = ref
        self._kind: Literal["env", "file"] = kind
        self._target = target

    @property
    def ref(self) -> str:
        """The reference as written, e.g. ``${ODOO_API_KEY}``."""
        return self._ref

    @property
    def kind(self) -> Literal["env", "file"]:
        """``env`` for ``${VAR}``, ``file`` for ``file:/path``."""
        return self._kind

    @property
    def target(self) -> str:
        """The environment variable name or the file path."""
        return self._target

    def resolve(self) -> str:
        """Read the secret now. Raises :class:`SecretError` if it is unset, missing or empty."""
        if self._kind == "env":
            value = os.environ.get(self._target)
            if value is None:
                raise SecretError(f"environment variable {self._target} is not set")
            if value == "":
                raise SecretError(f"environment variable {self._target} is empty")
            return value
        path = Path(self._target)
        try:
            value = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SecretError(f"secret file {self._target} does not exist") from None
        except IsADirectoryError:
            raise SecretError(f"secret file {self._target} is a directory") from None
        except PermissionError:
            raise SecretError(f"secret file {self._target} is not readable") from None
        except (OSError, UnicodeDecodeError) as exc:
            # The exception text may quote file content (UnicodeDecodeError does): name its type.
            raise SecretError(
                f"secret file {self._target} cannot be read ({type(exc).__name__})"
            ) from None
        if value.endswith("\r\n"):
            value = value[:-2]
        elif value.endswith("\n"):
            value = value[:-1]
        if value == "":
            raise SecretError(f"secret file {self._target} is empty")
        return value

    def __repr__(self) -> str:
        return f"SecretRef({self._ref!r})"

    def __str__(self) -> str:
        return self._ref

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SecretRef):
            return self._ref == other._ref
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("SecretRef", self._ref))

    # -- pydantic integration -------------------------------------------------------------------

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                str, return_schema=core_schema.str_schema()
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "pattern": r"^(\$\{[A-Za-z_][A-Za-z0-9_]*\}|file:/.+)$",
            "description": "A secret reference: ${ENV_VAR} or file:/absolute/path.",
        }

    @classmethod
    def _validate(cls, value: Any) -> SecretRef:
        if isinstance(value, SecretRef):
            return value
        if not isinstance(value, str):
            raise PydanticCustomError("secret_inline", INLINE_SECRET_MESSAGE)
        try:
            return cls(value)
        except ValueError as exc:
            raise PydanticCustomError("secret_reference", str(exc)) from None


def _parse(ref: str) -> tuple[Literal["env", "file"], str]:
    """Split a reference into kind and target; ``ValueError`` (without the value) if invalid."""
    if not isinstance(ref, str):
        raise ValueError(INLINE_SECRET_MESSAGE)
    match = ENV_REF_RE.match(ref)
    if match:
        return "env", match.group(1)
    if ref.startswith("${"):
        raise ValueError("invalid environment reference (use ${NAME} with letters, digits and '_')")
    if ref.startswith("file:"):
        path = ref[len("file:") :]
        if not path.startswith("/") or path.strip() != path or path == "/":
            raise ValueError("file references need an absolute path (file:/path)")
        return "file", path
    raise ValueError(INLINE_SECRET_MESSAGE)


def interpolate_env(text: str, *, url_quote: bool = False) -> str:
    """Replace every ``${NAME}`` in ``text`` with its environment value.

    Raises :class:`SecretError` naming the first variable that is unset. Used for values such as
    ``database.url`` that embed a secret (the password) inside a longer, non-secret text. With
    ``url_quote`` the values are percent-encoded, so a password containing ``@`` or ``/`` cannot
    break the URL it is placed in.
    """

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        value = os.environ.get(name)
        if value is None:
            raise SecretError(f"environment variable {name} is not set")
        return quote(value, safe="") if url_quote else value

    return ENV_REF_IN_TEXT_RE.sub(substitute, text)
