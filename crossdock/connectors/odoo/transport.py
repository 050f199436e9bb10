"""The two wire protocols of Odoo's external API, behind one ``call`` signature.

Every call is ``(model, method, ids, params, context)`` with *named* parameters, which both
protocols can carry:

* :class:`JsonRpcTransport` — ``POST /jsonrpc`` with ``service=object``, ``method=execute_kw`` and
  ``(db, uid, password, model, method, [ids] or [], {**params, "context": ...})`` (Odoo 8-19; the
  only one on 16-18). Errors come back with HTTP 200 and an ``error`` member.
* :class:`Json2Transport` — ``POST /json/2/<model>/<method>`` with the body
  ``{"ids": ..., "context": ..., **params}``, ``Authorization: bearer <api key>`` and the database
  in ``X-Odoo-Database`` (Odoo 19+). Errors come back as 4xx/5xx with the error object as body.

Transport-level failures are turned into :mod:`~crossdock.connectors.odoo.errors` types here, with
``maybe_committed`` telling whether the server may have run the call (a timeout after sending) —
the client only retries a write when it certainly did not.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any, Literal, Protocol

import httpx

from crossdock.connectors.odoo.errors import (
    OdooAccessError,
    OdooError,
    OdooProtocolError,
    OdooServerError,
    OdooTimeoutError,
    OdooTransientError,
    error_from_payload,
)

__all__ = [
    "Json2Transport",
    "JsonRpcTransport",
    "Transport",
    "TransportName",
    "fetch_version",
    "jsonrpc_service_call",
]

TransportName = Literal["json2", "jsonrpc"]
_TRANSIENT_STATUS = frozenset({429, 502, 503, 504})
_ids = itertools.count(1)


class Transport(Protocol):
    name: TransportName

    async def call(
        self,
        model: str,
        method: str,
        ids: list[int] | None,
        params: Mapping[str, Any],
        context: Mapping[str, Any],
        timeout_s: float,
    ) -> Any: ...


def _transient(
    message: str, *, maybe_committed: bool, model: str | None, method: str | None
) -> OdooTransientError:
    error = OdooTransientError(message, model=model, method=method)
    error.maybe_committed = maybe_committed
    return error


async def _post(
    http: httpx.AsyncClient,
    url: str,
    body: Mapping[str, Any],
    *,
    headers: Mapping[str, str] | None,
    timeout_s: float,
    model: str | None,
    method: str | None,
) -> httpx.Response:
    try:
        return await http.post(url, json=body, headers=headers, timeout=timeout_s)
    except httpx.TimeoutException as exc:
        if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
            raise _transient(
                f"connect timeout: {exc}", maybe_committed=False, model=model, method=method
            ) from exc
        raise OdooTimeoutError(
            f"no answer within {timeout_s:g}s", model=model, method=method
        ) from exc
    except httpx.ConnectError as exc:
        raise _transient(
            f"cannot connect: {exc}", maybe_committed=False, model=model, method=method
        ) from exc
    except httpx.TransportError as exc:
        # The server dropped the connection (Odoo's dev server closes every connection; a reused
        # one may be half-closed): whether it ran the call is unknown.
        raise _transient(
            f"connection lost: {exc!r}", maybe_committed=True, model=model, method=method
        ) from exc


def _json(response: httpx.Response, model: str | None, method: str | None) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise OdooProtocolError(
            f"HTTP {response.status_code}: answer is not JSON", model=model, method=method
        ) from exc


def _check_status(response: httpx.Response, model: str | None, method: str | None) -> None:
    status = response.status_code
    if status in _TRANSIENT_STATUS:
        raise _transient(
            f"HTTP {status}", maybe_committed=status == 504, model=model, method=method
        )
    if status in (401, 403):
        raise OdooAccessError(f"HTTP {status}", model=model, method=method)


async def jsonrpc_service_call(
    http: httpx.AsyncClient,
    base_url: str,
    service: str,
    method: str,
    args: list[Any],
    *,
    timeout_s: float,
    model: str | None = None,
) -> Any:
    """One ``/jsonrpc`` call (``common.version``, ``common.authenticate``, ``execute_kw``)."""
    body = {
        "jsonrpc": "2.0",
        "method": "call",
        "params": {"service": service, "method": method, "args": args},
        "id": next(_ids),
    }
    name = method if model is None else args[4]
    response = await _post(
        http,
        f"{base_url}/jsonrpc",
        body,
        headers=None,
        timeout_s=timeout_s,
        model=model,
        method=name,
    )
    _check_status(response, model, name)
    payload = _json(response, model, name)
    if response.status_code != 200 or not isinstance(payload, dict):
        raise OdooServerError(f"HTTP {response.status_code}", model=model, method=name)
    if "error" in payload:
        error = payload["error"]
        data = error.get("data") if isinstance(error, dict) else None
        if not isinstance(data, dict):
            data = {"name": None, "message": str(error.get("message") if error else error)}
        raise error_from_payload(data, model=model, method=name)
    return payload.get("result")  # a method returning None has no `result` member


class JsonRpcTransport:
    """``execute_kw`` over ``/jsonrpc`` with a user id and a password or API key."""

    name: TransportName = "jsonrpc"

    def __init__(
        self, http: httpx.AsyncClient, base_url: str, database: str, uid: int, secret: str
    ) -> None:
        self._http = http
        self._url = base_url
        self._db = database
        self._uid = uid
        self._secret = secret

    async def call(
        self,
        model: str,
        method: str,
        ids: list[int] | None,
        params: Mapping[str, Any],
        context: Mapping[str, Any],
        timeout_s: float,
    ) -> Any:
        kwargs = dict(params)
        if context:
            kwargs["context"] = dict(context)
        args: list[Any] = [ids] if ids is not None else []
        if method == "create" and "vals_list" in kwargs:
            # execute_kw hands `create` its first positional argument only (model_create_multi)
            args.append(kwargs.pop("vals_list"))
        elif method == "write" and "vals" in kwargs:
            # models name write's argument differently (`values` on sale.order in 16-18)
            args.append(kwargs.pop("vals"))
        return await jsonrpc_service_call(
            self._http,
            self._url,
            "object",
            "execute_kw",
            [self._db, self._uid, self._secret, model, method, args, kwargs],
            timeout_s=timeout_s,
            model=model,
        )


class Json2Transport:
    """``/json/2/<model>/<method>`` with a bearer API key (Odoo 19+)."""

    name: TransportName = "json2"

    def __init__(
        self, http: httpx.AsyncClient, base_url: str, database: str | None, api_key: str
    ) -> None:
        self._http = http
        self._url = base_url
        self._headers = {"Authorization": f"bearer {api_key}"}
        if database:
            self._headers["X-Odoo-Database"] = database

    async def call(
        self,
        model: str,
        method: str,
        ids: list[int] | None,
        params: Mapping[str, Any],
        context: Mapping[str, Any],
        timeout_s: float,
    ) -> Any:
        body: dict[str, Any] = dict(params)
        if ids is not None:
            body["ids"] = ids
        if context:
            body["context"] = dict(context)
        response = await _post(
            self._http,
            f"{self._url}/json/2/{model}/{method}",
            body,
            headers=self._headers,
            timeout_s=timeout_s,
            model=model,
            method=method,
        )
        if response.status_code == 200:
            return _json(response, model, method)
        payload: Any = None
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if isinstance(payload, dict) and payload.get("name"):
            error: OdooError = error_from_payload(payload, model=model, method=method)
            if response.status_code in _TRANSIENT_STATUS and not isinstance(
                error, OdooTransientError
            ):
                _check_status(response, model, method)
            raise error
        _check_status(response, model, method)
        raise OdooServerError(f"HTTP {response.status_code}", model=model, method=method)


async def fetch_version(
    http: httpx.AsyncClient, base_url: str, *, timeout_s: float
) -> tuple[int, str]:
    """``(major, server_version)`` from ``common.version`` (every version, no authentication).

    Falls back to ``GET /web/version`` (Odoo 17+), for servers that disable ``/jsonrpc``.
    """
    try:
        info = await jsonrpc_service_call(
            http, base_url, "common", "version", [], timeout_s=timeout_s
        )
        version_info = info["server_version_info"]
        return int(version_info[0]), str(info.get("server_version", version_info[0]))
    except (OdooServerError, OdooProtocolError, KeyError, TypeError):
        pass
    try:
        response = await http.get(f"{base_url}/web/version", timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise _transient(
            f"cannot read version: {exc!r}", maybe_committed=False, model=None, method="version"
        ) from exc
    _check_status(response, None, "version")
    data = _json(response, None, "version")
    try:
        return int(data["version_info"][0]), str(data.get("version"))
    except (KeyError, TypeError, IndexError, ValueError) as exc:
        raise OdooProtocolError("no version in /web/version", method="version") from exc
