"""Typed errors of the Odoo connector, and the mapping from Odoo's error payloads to them.

Odoo's ``/jsonrpc`` answers errors with HTTP 200 and ``{"error": {"data": {"name": ..., "message":
...}}}``; JSON-2 answers them with a 4xx/5xx status and the same ``name``/``message`` object as the
body. Both go through :func:`error_from_payload`, which decides on the Python exception name:

======================================================  ===========================
``odoo.exceptions.AccessDenied`` / ``AccessError``      :class:`OdooAccessError`
``odoo.exceptions.MissingError``                        :class:`OdooMissingError`
``ValidationError``, ``UserError``, ``builtins.ValueError``  :class:`OdooBusinessError`
serialisation failures, lock errors, concurrent update  :class:`OdooTransientError`
anything else                                           :class:`OdooServerError`
======================================================  ===========================

Only :class:`OdooTransientError` (and its subclasses) is retried. A business error is the record's
fault, not Odoo's: it is never retried and carries Odoo's message plus the model and the record it
concerns, so an exceptions queue can show it to a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crossdock.errors import CrossdockError

__all__ = [
    "ArchivedProductError",
    "CompanyMismatchError",
    "CurrencyUnsupportedError",
    "OdooAccessError",
    "OdooBusinessError",
    "OdooError",
    "OdooMissingError",
    "OdooProtocolError",
    "OdooServerError",
    "OdooTimeoutError",
    "OdooTransientError",
    "UnknownCustomerError",
    "UnknownSkuError",
    "error_from_payload",
    "is_transient",
]


class OdooError(CrossdockError):
    """Any error of the Odoo connector."""

    def __init__(
        self,
        message: str,
        *,
        odoo_name: str | None = None,
        model: str | None = None,
        method: str | None = None,
        record: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.odoo_name = odoo_name
        self.model = model
        self.method = method
        self.record = record

    def __str__(self) -> str:
        where = f"{self.model}.{self.method}" if self.model and self.method else self.model
        parts = [self.message]
        if self.record:
            parts.insert(0, f"[{self.record}]")
        if where:
            parts.append(f"({where})")
        return " ".join(parts)

    def for_record(self, record: str) -> OdooError:
        """A copy of this error naming the record (``sale.order client_order_ref=web:1001``)."""
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        Exception.__init__(clone, self.message)
        clone.record = record
        return clone


class OdooAccessError(OdooError):
    """Authentication failed or the user may not do this (``AccessDenied``/``AccessError``)."""


class OdooMissingError(OdooError):
    """A referenced record does not exist or was deleted (``MissingError``)."""


class OdooBusinessError(OdooError):
    """Odoo refused the data (``ValidationError``, ``UserError``, ``ValueError``): not retried."""


class UnknownCustomerError(OdooBusinessError):
    """A customer is unknown to Odoo and another system owns customers, so it is not created."""


class UnknownSkuError(OdooBusinessError):
    """No product has this SKU (``default_code``) in the company."""


class ArchivedProductError(OdooBusinessError):
    """The product of this SKU exists but is archived."""


class CompanyMismatchError(OdooBusinessError):
    """A record belongs to another company than the one the document is created in."""


class CurrencyUnsupportedError(OdooBusinessError):
    """No usable pricelist in the order's currency: the currency is inactive or has no active
    pricelist in the company, or the configured pricelist is in another currency."""

    def __init__(self, message: str, *, currency: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.currency = currency


class OdooTransientError(OdooError):
    """A failure that may pass: connection error, 502/503/504, timeout, database conflict.

    ``maybe_committed`` is true when Odoo may have run the call anyway (a timeout after the
    request was sent, a dropped connection, a 504): only idempotent calls are retried then.
    """

    maybe_committed: bool = False


class OdooTimeoutError(OdooTransientError):
    """The call did not answer within its timeout (it may still have been committed)."""

    maybe_committed = True


class OdooServerError(OdooError):
    """Any other server-side error (a bug, an unexpected exception): not retried."""


class OdooProtocolError(OdooError):
    """The answer was not what the protocol promises (not JSON, wrong envelope)."""


_ACCESS = frozenset(
    {
        "odoo.exceptions.AccessDenied",
        "odoo.exceptions.AccessError",
        "werkzeug.exceptions.Unauthorized",
        "werkzeug.exceptions.Forbidden",
    }
)
_MISSING = frozenset({"odoo.exceptions.MissingError"})
_BUSINESS = frozenset(
    {
        "odoo.exceptions.ValidationError",
        "odoo.exceptions.UserError",
        "odoo.exceptions.RedirectWarning",
        "odoo.exceptions.except_orm",
        "builtins.ValueError",
        "builtins.TypeError",
        "builtins.KeyError",
    }
)
_TRANSIENT_NAMES = frozenset(
    {
        "psycopg2.errors.SerializationFailure",
        "psycopg2.errors.LockNotAvailable",
        "psycopg2.errors.DeadlockDetected",
        "psycopg2.extensions.TransactionRollbackError",
        "psycopg2.errors.TransactionRollbackError",
        "psycopg2.OperationalError",
        "odoo.addons.base.models.ir_cron.CronLockError",
        "werkzeug.exceptions.ServiceUnavailable",
        "werkzeug.exceptions.TooManyRequests",
    }
)
_TRANSIENT_TEXT = (
    "could not serialize access",
    "concurrent update",
    "could not obtain lock",
    "deadlock detected",
    "lock not available",
)


def error_from_payload(
    data: Mapping[str, Any], *, model: str | None = None, method: str | None = None
) -> OdooError:
    """The typed error for an Odoo error object (``error.data`` of JSON-RPC, a JSON-2 body)."""
    name = str(data.get("name") or "")
    message = str(data.get("message") or data.get("arguments") or name or "Odoo error").strip()
    kwargs: dict[str, Any] = {"odoo_name": name or None, "model": model, "method": method}
    lowered = message.lower()
    if name in _TRANSIENT_NAMES or any(text in lowered for text in _TRANSIENT_TEXT):
        if name == "psycopg2.OperationalError" and "does not exist" in lowered:
            return OdooAccessError(
                "database does not exist or cannot be reached", **kwargs
            )  # Odoo leaks the connection string here: never repeat it
        return OdooTransientError(message, **kwargs)
    if name in _ACCESS:
        return OdooAccessError(message, **kwargs)
    if name in _MISSING:
        return OdooMissingError(message, **kwargs)
    if name in _BUSINESS:
        return OdooBusinessError(message, **kwargs)
    return OdooServerError(message, **kwargs)


def is_transient(exc: BaseException) -> bool:
    """Whether a retry may succeed (the retry predicate of the client)."""
    return isinstance(exc, OdooTransientError)
