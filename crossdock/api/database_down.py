"""The hub's own database failing (PostgreSQL restarted, unreachable): a request that could not
be stored is answered ``503`` problem+json with ``Retry-After``, never ``500``. Nothing was
acknowledged, so the caller sends it again (with the same idempotency key) and loses nothing."""

from __future__ import annotations

import psycopg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from crossdock.api.problems import problem_response

RETRY_AFTER_S = 5


def is_disconnect(exc: BaseException) -> bool:
    """The error says the database could not be reached or dropped the connection."""
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated) or isinstance(exc.orig, psycopg.OperationalError)
    return isinstance(exc, psycopg.OperationalError)


def install(app: FastAPI) -> None:
    async def on_database_error(request: Request, exc: Exception) -> JSONResponse:
        if not is_disconnect(exc):
            raise exc
        return problem_response(
            503,
            "Database unavailable",
            "the hub's database cannot be reached: nothing was stored, send the request again",
            kind="database-unavailable",
            instance=request.url.path,
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )

    app.add_exception_handler(DBAPIError, on_database_error)
    app.add_exception_handler(psycopg.OperationalError, on_database_error)
