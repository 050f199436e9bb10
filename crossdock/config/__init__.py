"""Crossdock configuration: one YAML file, validated, with secrets only as references.

>>> from crossdock.config import load_config, check_config
>>> cfg = load_config()             # --config > $CROSSDOCK_CONFIG > ./crossdock.yaml > defaults
>>> problems = check_config(cfg)    # secret references that do not resolve here

See ``crossdock.example.yaml`` at the repository root for a documented example.
"""

from __future__ import annotations

from crossdock.config.loader import (
    CONFIG_ENV_VAR,
    DEFAULT_CONFIG_PATH,
    ConfigError,
    ConfigProblem,
    check_config,
    config_path,
    dump_config,
    iter_secrets,
    load_config,
    parse_config,
    validate_config,
)
from crossdock.config.schema import (
    CORE_DOMAINS,
    DEFAULT_DATABASE_URL,
    DOMAINS,
    SYSTEM_KINDS,
    ApiConfig,
    Config,
    DatabaseConfig,
    EngineConfig,
    LaneConfig,
    Limits,
    Ownership,
    SyncPolicy,
    System,
    SystemKind,
    sqlalchemy_url,
)
from crossdock.config.secrets import SecretError, SecretRef

__all__ = [
    "CONFIG_ENV_VAR",
    "CORE_DOMAINS",
    "DEFAULT_CONFIG_PATH",
    "DEFAULT_DATABASE_URL",
    "DOMAINS",
    "SYSTEM_KINDS",
    "ApiConfig",
    "Config",
    "ConfigError",
    "ConfigProblem",
    "DatabaseConfig",
    "EngineConfig",
    "LaneConfig",
    "Limits",
    "Ownership",
    "SecretError",
    "SecretRef",
    "SyncPolicy",
    "System",
    "SystemKind",
    "check_config",
    "config_path",
    "dump_config",
    "iter_secrets",
    "load_config",
    "parse_config",
    "sqlalchemy_url",
    "validate_config",
]
