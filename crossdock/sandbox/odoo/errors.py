"""Odoo's exceptions as the sandbox raises them: the Python path Odoo reports in ``error.data.name``
and the HTTP status JSON-2 answers them with."""

from __future__ import annotations

from crossdock.errors import CrossdockError

__all__ = [
    "AccessDenied",
    "AccessError",
    "MissingError",
    "RpcError",
    "SerializationFailure",
    "UserError",
    "ValidationError",
    "ValueRpcError",
]


class RpcError(CrossdockError):
    """An error answered to the client (``name`` is Odoo's exception path)."""

    name = "builtins.Exception"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UserError(RpcError):
    name = "odoo.exceptions.UserError"
    status = 422


class ValidationError(RpcError):
    name = "odoo.exceptions.ValidationError"
    status = 422


class AccessError(RpcError):
    name = "odoo.exceptions.AccessError"
    status = 403


class AccessDenied(RpcError):
    name = "odoo.exceptions.AccessDenied"
    status = 403

    def __init__(self, message: str = "Access Denied") -> None:
        super().__init__(message)


class MissingError(RpcError):
    name = "odoo.exceptions.MissingError"
    status = 404


class ValueRpcError(RpcError):
    name = "builtins.ValueError"
    status = 422


class AttributeRpcError(RpcError):
    name = "builtins.AttributeError"
    status = 422


class SerializationFailure(RpcError):
    name = "psycopg2.errors.SerializationFailure"
    status = 409

    def __init__(
        self, message: str = "could not serialize access due to concurrent update"
    ) -> None:
        super().__init__(message)


class UnauthorizedKey(RpcError):
    name = "werkzeug.exceptions.Unauthorized"
    status = 401

    def __init__(self) -> None:
        super().__init__("Invalid apikey")


class DatabaseMissing(RpcError):
    name = "psycopg2.OperationalError"
    status = 500
