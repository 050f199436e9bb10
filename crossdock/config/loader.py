"""Loading ``crossdock.yaml``: finding the file, parsing YAML, validating, and reporting problems.

Which file: the ``path`` argument (``--config``), else ``$CROSSDOCK_CONFIG``, else
``crossdock.yaml`` in the working directory. A file that was named explicitly must exist; when
the default ``crossdock.yaml`` does not exist, the defaults (the embedded demo configuration) are
used.

Every problem is collected — YAML syntax, schema, duplicate keys, references between sections —
and raised together as one :class:`ConfigError`, each problem as ``dotted.path: message`` with the
line it comes from. Secret references are checked separately by :func:`check_config` (they depend
on the environment the process runs in, not on the file); ``load_config(..., check_secrets=True)``
does both, which is what a server should call before starting.

No message ever contains a configuration value: a value in the wrong place may be a secret.
"""

from __future__ import annotations

import difflib
import os
import types
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from crossdock.config.schema import Config, reference_problems
from crossdock.config.secrets import SecretError, SecretRef
from crossdock.errors import CrossdockError

__all__ = [
    "CONFIG_ENV_VAR",
    "DEFAULT_CONFIG_PATH",
    "ConfigError",
    "ConfigProblem",
    "check_config",
    "config_path",
    "dump_config",
    "iter_secrets",
    "load_config",
    "parse_config",
    "validate_config",
]

CONFIG_ENV_VAR = "CROSSDOCK_CONFIG"
DEFAULT_CONFIG_PATH = Path("crossdock.yaml")

Loc = tuple[str, ...]


@dataclass(frozen=True)
class ConfigProblem:
    """One problem in a configuration: where (dotted path, file line) and what."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    def describe(self) -> str:
        """``path: message (line N)`` — the form printed to people."""
        return f"{self}  (line {self.line})" if self.line else str(self)


class ConfigError(CrossdockError):
    """An invalid configuration. ``problems`` holds every problem as ``dotted.path: message``."""

    def __init__(self, details: Sequence[ConfigProblem], source: Path | str | None = None) -> None:
        self.details: list[ConfigProblem] = list(details)
        self.source = str(source) if source is not None else None
        super().__init__(str(self))

    @property
    def problems(self) -> list[str]:
        """Every problem as ``dotted.path: message``."""
        return [str(p) for p in self.details]

    def __str__(self) -> str:
        where = f" {self.source}" if self.source else ""
        count = len(self.details)
        head = f"invalid configuration{where}: {count} problem{'s' if count != 1 else ''}"
        return "\n".join([head, *(f"  {p.describe()}" for p in self.details)])


# --------------------------------------------------------------------------------------------
# Finding and loading


def config_path(path: Path | str | None = None) -> tuple[Path, bool]:
    """The configuration file to use and whether it was named explicitly (argument or env)."""
    if path is not None and str(path) != "":
        return Path(path), True
    from_env = os.environ.get(CONFIG_ENV_VAR, "")
    if from_env:
        return Path(from_env), True
    return DEFAULT_CONFIG_PATH, False


def load_config(path: Path | str | None = None, *, check_secrets: bool = False) -> Config:
    """Load and validate the configuration; raise :class:`ConfigError` with every problem.

    With ``check_secrets`` every secret reference (and ``${ENV}`` in ``database.url``) must also
    resolve — call it that way before starting a server.
    """
    file, explicit = config_path(path)
    if not explicit and not file.exists():
        cfg = Config()
        if check_secrets:
            _raise_secret_problems(cfg, {}, None)
        return cfg
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([ConfigProblem(str(file), "file not found")], file) from None
    except IsADirectoryError:
        raise ConfigError([ConfigProblem(str(file), "is a directory, not a file")], file) from None
    except PermissionError:
        raise ConfigError([ConfigProblem(str(file), "file is not readable")], file) from None
    except (OSError, UnicodeDecodeError) as exc:
        message = f"cannot read file ({type(exc).__name__})"
        raise ConfigError([ConfigProblem(str(file), message)], file) from None
    return parse_config(text, source=file, check_secrets=check_secrets)


def parse_config(
    text: str, *, source: Path | str = "<string>", check_secrets: bool = False
) -> Config:
    """Validate configuration YAML text (empty text gives the defaults)."""
    data, lines, problems = _parse_yaml(text, str(source))
    if data is _UNREADABLE:
        raise ConfigError(problems, source)
    cfg = _validate(data, lines, str(source), extra=problems)
    if check_secrets:
        _raise_secret_problems(cfg, lines, source)
    return cfg


def validate_config(data: Any, *, source: Path | str | None = None) -> Config:
    """Validate parsed data (``None`` gives the defaults); problems as in :func:`load_config`."""
    return _validate(data, {}, str(source) if source is not None else "config", extra=[])


def _validate(data: Any, lines: dict[Loc, int], source: str, extra: list[ConfigProblem]) -> Config:
    if data is None:
        data = {}
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        problems = _problems_from_validation(exc, lines, source)
    else:
        if not extra:
            return cfg
        problems = []
    if isinstance(data, Mapping):
        # Cross-section references are checked after a successful validation; on failure, check
        # them on the raw data so they are reported together with the rest.
        for loc, message in reference_problems(data):
            problems.append(ConfigProblem(_dotted(loc), message, _line_of(loc, lines)))
    raise ConfigError(_ordered(extra + problems), source) from None


def _ordered(problems: list[ConfigProblem]) -> list[ConfigProblem]:
    """Unique problems, in file order (problems without a line keep their place at the top)."""
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: p.line or 0)


# --------------------------------------------------------------------------------------------
# YAML


_UNREADABLE = object()
"""Marks YAML that could not be parsed at all (no data to validate)."""


def _parse_yaml(text: str, source: str) -> tuple[Any, dict[Loc, int], list[ConfigProblem]]:
    """Parse one YAML document; return data, the line of every key path, and problems.

    Duplicate keys are problems but the data is still returned (the later key wins, as in any YAML
    loader) so the rest of the file is validated too; a syntax error returns ``_UNREADABLE``.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}, []
        lines: dict[Loc, int] = {}
        problems: list[ConfigProblem] = []
        # Walk the node tree before constructing: construction flattens merge keys in place.
        _walk(node, (), lines, problems)
        return loader.construct_document(node), lines, problems
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem and exc.problem.startswith("but "):
            what = f"{exc.context}, {exc.problem}"
        if mark is not None:
            what = f"line {mark.line + 1}, column {mark.column + 1}: {what}"
        return _UNREADABLE, {}, [ConfigProblem(source, what)]
    except yaml.YAMLError as exc:
        return _UNREADABLE, {}, [ConfigProblem(source, f"invalid YAML ({type(exc).__name__})")]
    finally:
        loader.dispose()


def _walk(node: yaml.Node, loc: Loc, lines: dict[Loc, int], problems: list[ConfigProblem]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            child = (*loc, key)
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(ConfigProblem(_dotted(child), "duplicate key", line))
            seen.add(key)
            lines[child] = line  # the last duplicate wins, in the data as here
            _walk(value_node, child, lines, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*loc, str(index))
            lines.setdefault(child, item.start_mark.line + 1)
            _walk(item, child, lines, problems)


def _line_of(loc: Sequence[Any], lines: dict[Loc, int]) -> int | None:
    """The line of ``loc`` or of its nearest ancestor present in the file."""
    parts = tuple(str(p) for p in loc)
    while parts:
        if parts in lines:
            return lines[parts]
        parts = parts[:-1]
    return None


def _dotted(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


# --------------------------------------------------------------------------------------------
# pydantic errors → problems

_TYPE_MESSAGES = {
    "missing": "required",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "dict_type": "must be a mapping",
    "mapping_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "list_type": "must be a list",
}
_BOUND_MESSAGES = {
    "greater_than": ("gt", ">"),
    "greater_than_equal": ("ge", ">="),
    "less_than": ("lt", "<"),
    "less_than_equal": ("le", "<="),
}


def _problems_from_validation(
    exc: ValidationError, lines: dict[Loc, int], source: str
) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    for err in exc.errors(include_url=False, include_input=False):
        if err["type"] == "references":
            for loc, message in err.get("ctx", {}).get("problems", []):
                problems.append(ConfigProblem(_dotted(loc), message, _line_of(loc, lines)))
            continue
        loc = tuple(err["loc"])
        is_key = bool(loc) and loc[-1] == "[key]"
        if is_key:
            loc = loc[:-1]
        path = _dotted(loc) or source
        problems.append(ConfigProblem(path, _message(err, loc, is_key), _line_of(loc, lines)))
    return problems


def _message(err: ErrorDetails, loc: tuple[Any, ...], is_key: bool) -> str:
    kind = err["type"]
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    if not loc and kind in ("model_type", "dict_type"):
        return "must be a mapping of sections (database, systems, ownership, …)"
    if is_key and kind in ("string_type", "int_type"):
        return "invalid name (must be a string)"
    if kind == "extra_forbidden":
        hint = _suggest(loc)
        return f"unknown field{hint}"
    if kind in _TYPE_MESSAGES:
        return _TYPE_MESSAGES[kind]
    if kind in _BOUND_MESSAGES:
        key, op = _BOUND_MESSAGES[kind]
        bound = ctx.get(key)
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)
        return f"must be {op} {bound}"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        if loc and loc[-1] == "kind":
            return f"unknown kind (one of: {expected})"
        return f"must be one of: {expected}"
    message = err["msg"]
    if kind == "value_error":
        message = message.removeprefix("Value error, ")
    return message


def _suggest(loc: tuple[Any, ...]) -> str:
    """`` (did you mean 'x'?)`` for a misspelt field, from the fields the schema allows there."""
    allowed = _fields_at(loc[:-1])
    if not allowed or not loc:
        return ""
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.7)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model found at ``loc`` in the schema (``[]`` if not a model)."""
    current: Any = Config
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return []
            current = field.annotation
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(tp: Any) -> Any:
    """Strip ``Annotated`` and ``X | None`` to reach the model or container type."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in get_args(tp) if a is not type(None)]
            if len(members) != 1:
                return tp
            tp = members[0]
        else:
            return tp


# --------------------------------------------------------------------------------------------
# Secrets


def iter_secrets(cfg: Config) -> Iterator[tuple[str, SecretRef]]:
    """Every secret reference in ``cfg`` with its dotted path, in schema order."""
    for loc, ref in _iter_refs(cfg, ()):
        yield _dotted(loc), ref


def _iter_refs(value: Any, loc: Loc) -> Iterator[tuple[Loc, SecretRef]]:
    if isinstance(value, SecretRef):
        yield loc, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _iter_refs(getattr(value, name), (*loc, name))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _iter_refs(item, (*loc, str(key)))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _iter_refs(item, (*loc, str(index)))


def _secret_problems(cfg: Config) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    try:
        cfg.database.resolve()
    except SecretError as exc:
        problems.append((("database", "url"), str(exc)))
    for loc, ref in _iter_refs(cfg, ()):
        try:
            ref.resolve()
        except SecretError as exc:
            problems.append((loc, str(exc)))
    return problems


def check_config(cfg: Config) -> list[str]:
    """Resolve every secret reference now; return the problems (``path: message``), never values.

    ``systems.odoo.credentials.api_key: environment variable ODOO_API_KEY is not set``
    """
    return [f"{_dotted(loc)}: {message}" for loc, message in _secret_problems(cfg)]


def _raise_secret_problems(cfg: Config, lines: dict[Loc, int], source: Path | str | None) -> None:
    problems = [
        ConfigProblem(_dotted(loc), message, _line_of(loc, lines))
        for loc, message in _secret_problems(cfg)
    ]
    if problems:
        raise ConfigError(_ordered(problems), source)


# --------------------------------------------------------------------------------------------
# Output


def dump_config(cfg: Config) -> str:
    """The effective configuration as YAML; secrets appear as their references, never resolved."""
    return yaml.safe_dump(
        cfg.model_dump(mode="json"), sort_keys=False, allow_unicode=True, default_flow_style=False
    )
