"""The ``systems`` section: one entry per connected system (kind, URL, credentials as secret
references, limits, options)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    Field,
    field_validator,
)
from pydantic_core import PydanticCustomError

from crossdock.config.base import ConfigModel, Name
from crossdock.config.secrets import (
    SecretRef,
)

SystemKind = Literal[
    "odoo",
    "shopify",
    "stripe",
    "shop",
    "marketplace",
    "b2b_portal",
    "salesforce",
    "crm",
    "edi",
    "wms",
    "3pl",
    "carrier",
    "tms",
    "supplier",
    "forecasting",
    "payments",
    "finance",
    "pim",
    "analytics",
    "webhook",
]
"""The connector families Crossdock knows. A closed list so a typo (``kind: shopfy``) fails the
check instead of failing at runtime; adding a connector adds its kind here. Generic kinds (``shop``,
``crm``, ``wms``, ``carrier``, ``supplier``…) are the configurable HTTP/file adapters; named kinds
(``odoo``, ``shopify``, ``salesforce``) are dedicated connectors."""

SYSTEM_KINDS: tuple[str, ...] = get_args(SystemKind)

_URL_SCHEMES = ("http", "https", "sftp")
_SECRET_OPTION_KEYS = frozenset(
    {
        "password",
        "passwd",
        "secret",
        "client_secret",
        "token",
        "access_token",
        "refresh_token",
        "api_key",
        "apikey",
        "private_key",
    }
)


def _check_option_key(key: str) -> str:
    if key.lower() in _SECRET_OPTION_KEYS:
        raise PydanticCustomError(
            "secret_in_options",
            "looks like a secret: put it in credentials as a reference (${ENV_VAR} or file:/path)",
        )
    return key


OptionKey = Annotated[str, AfterValidator(_check_option_key)]


class Limits(ConfigModel):
    """How hard Crossdock may push one system (principle 3: protect every target)."""

    rate_per_s: float = Field(default=10.0, gt=0)
    """Sustained requests per second (token bucket refill rate)."""
    burst: int = Field(default=20, ge=1)
    """Requests allowed at once above the sustained rate (token bucket size)."""
    concurrency: int = Field(default=4, ge=1)
    """Requests in flight at the same time, per hub process."""
    timeout_s: float = Field(default=30.0, gt=0)
    """Timeout of one request."""


class System(ConfigModel):
    """One connected external system."""

    kind: SystemKind
    url: str
    """Base URL: ``http``, ``https`` or ``sftp`` (file partners); a trailing ``/`` is removed."""
    username: str | None = None
    """A non-secret login (Odoo ``login``, API user); secrets go in ``credentials``."""
    credentials: dict[Name, SecretRef] = Field(default_factory=dict)
    """Secret references by name, e.g. ``api_key: ${ODOO_API_KEY}``."""
    webhook_secret: SecretRef | None = None
    """Secret that signs webhooks this system sends us (Standard Webhooks), if it sends any."""
    sandbox: bool = False
    """Served by the ``crossdock.sandbox`` simulator instead of the network (demo and tests)."""
    limits: Limits = Field(default_factory=Limits)
    options: dict[OptionKey, Any] = Field(default_factory=dict)
    """Connector-specific settings, e.g. Odoo ``database``, ``transport: auto|json2|jsonrpc``,
    company routing. Not validated here (each connector validates its own), except that keys that
    look like secrets (``password``, ``token``, ``api_key``…) are refused: they belong in
    ``credentials``."""

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.strip()
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError:
            raise PydanticCustomError("url", "not a URL") from None
        if not parts.scheme or not parts.hostname or any(c.isspace() for c in value):
            raise PydanticCustomError("url", "not a URL")
        if parts.scheme not in _URL_SCHEMES:
            raise PydanticCustomError(
                "url_scheme", "unsupported URL scheme (use http, https or sftp)"
            )
        if parts.username is not None or parts.password is not None:
            raise PydanticCustomError(
                "url_userinfo", "must not contain credentials (use username and credentials)"
            )
        return value.rstrip("/")

    @field_validator("credentials", "options", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value


def default_systems() -> dict[str, System]:
    """The demo's systems, all served by the sandbox simulators."""
    return {
        "odoo": System(
            kind="odoo",
            url="http://127.0.0.1:8070",  # not 8069: a real Odoo may listen there
            sandbox=True,
            username="admin",
            options={"database": "crossdock_demo", "transport": "auto"},
        ),
        "shop": System(kind="shop", url="http://127.0.0.1:8081", sandbox=True),
        "wms": System(kind="wms", url="http://127.0.0.1:8082", sandbox=True),
        "carrier": System(kind="carrier", url="http://127.0.0.1:8083", sandbox=True),
    }
