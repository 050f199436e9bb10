"""The Odoo client: one instance per Odoo server, async over one keep-alive ``httpx`` client.

On first use it reads the server version (``common.version``), picks the transport (JSON-2 on
19+ when an API key is configured, ``/jsonrpc`` otherwise, or what ``transport`` forces) and
authenticates (``common.authenticate`` for JSON-RPC). Every call then goes through, in order:

1. the circuit breaker (rejects at once while open),
2. the engine's :class:`~crossdock.engine.limits.Limiter` (rate and concurrency per instance),
3. the per-call timeout,
4. retries with backoff and jitter for transient errors — for reads always, for writes only when
   Odoo certainly did not run the call (connection refused, serialisation failure, 502/503).

Odoo 18's built-in server answers ``Connection: close`` on every response; httpx then opens a new
connection per call, which is cheap on a LAN and needs nothing special here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import httpx

from crossdock.connectors.observer import CallObserver
from crossdock.connectors.odoo.dialect import OdooDialect, dialect_for
from crossdock.connectors.odoo.errors import (
    OdooAccessError,
    OdooError,
    OdooTransientError,
    is_transient,
)
from crossdock.connectors.odoo.settings import CompanyRef, OdooSettings
from crossdock.connectors.odoo.transport import (
    Json2Transport,
    JsonRpcTransport,
    Transport,
    TransportName,
    fetch_version,
    jsonrpc_service_call,
)
from crossdock.connectors.resilience import (
    CONNECTOR_BACKOFF,
    CircuitBreaker,
    retry_async,
)
from crossdock.engine import Limiter
from crossdock.retry import Backoff

__all__ = ["READ_METHODS", "CallStats", "OdooClient", "ServerInfo"]

READ_METHODS = frozenset(
    {
        "search",
        "search_read",
        "search_count",
        "read",
        "fields_get",
        "name_search",
        "default_get",
        "read_group",
        "check_access_rights",
        "has_group",
    }
)
"""Methods without side effects: always safe to retry."""


@dataclass(frozen=True)
class ServerInfo:
    major: int
    server_version: str
    transport: TransportName
    uid: int | None
    company_id: int
    company_ids: tuple[int, ...]


@dataclass
class CallStats:
    """Calls sent to Odoo (attempts, retries included), by ``model.method``."""

    calls: int = 0
    retries: int = 0
    by_method: dict[str, int] | None = None

    def count(self, model: str, method: str) -> None:
        self.calls += 1
        if self.by_method is None:
            self.by_method = {}
        key = f"{model}.{method}"
        self.by_method[key] = self.by_method.get(key, 0) + 1


class OdooClient:
    """A connection to one Odoo instance (see the module docstring)."""

    def __init__(
        self,
        settings: OdooSettings,
        *,
        name: str = "odoo",
        http: httpx.AsyncClient | None = None,
        limiter: Limiter | None = None,
        breaker: CircuitBreaker | None = None,
        retry_attempts: int | None = None,
        backoff: Backoff | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        observer: CallObserver | None = None,
    ) -> None:
        self.settings = settings
        self.name = name
        self._own_http = http is None
        self._http = http or httpx.AsyncClient(
            limits=httpx.Limits(
                max_connections=settings.concurrency * 2,
                max_keepalive_connections=settings.concurrency,
            ),
            headers={"User-Agent": "crossdock-odoo/0.1"},
        )
        self.limiter = limiter or Limiter(
            name, settings.rate_per_s, settings.burst, settings.concurrency
        )
        self.breaker = breaker or CircuitBreaker(
            name,
            failure_threshold=settings.breaker_failures,
            reset_timeout_s=settings.breaker_reset_s,
        )
        self.retry_attempts = retry_attempts or settings.retry_attempts
        self.backoff = backoff or replace(CONNECTOR_BACKOFF, base_s=settings.retry_base_s)
        self._sleep = sleep
        self._transport: Transport | None = None
        self._info: ServerInfo | None = None
        self._dialect: OdooDialect | None = None
        self._connect_lock = asyncio.Lock()
        self._company_ids: dict[str, int] = {}
        self.stats = CallStats()
        self._observer = observer
        if observer is not None:
            observer.watch_circuit(name, lambda: self.breaker.state)

            async def add_headers(request: httpx.Request) -> None:
                request.headers.update(observer.outgoing_headers())

            self._http.event_hooks["request"].append(add_headers)

    # ------------------------------------------------------------------ connection

    async def __aenter__(self) -> OdooClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own_http:
            await self._http.aclose()

    @property
    def info(self) -> ServerInfo:
        if self._info is None:
            raise RuntimeError("not connected: await client.connect() first")
        return self._info

    @property
    def dialect(self) -> OdooDialect:
        if self._dialect is None:
            raise RuntimeError("not connected: await client.connect() first")
        return self._dialect

    async def probe(self, timeout_s: float) -> str:
        """`ok` when the server tells its version (no authentication, outside the limiter and
        the circuit breaker): the cheap reachability check of readiness."""
        await fetch_version(self._http, self.settings.url, timeout_s=timeout_s)
        return "ok"

    async def connect(self) -> ServerInfo:
        """Detect the version, pick the transport and authenticate (once)."""
        async with self._connect_lock:
            if self._info is not None:
                return self._info
            s = self.settings
            major, version = await self._guarded(
                "common", "version", lambda: fetch_version(self._http, s.url, timeout_s=s.timeout_s)
            )
            dialect = dialect_for(major)
            choice = s.transport
            if choice == "auto":
                choice = "json2" if dialect.has_json2 and s.api_key else "jsonrpc"
            if choice == "json2":
                if not dialect.has_json2:
                    raise OdooAccessError(f"JSON-2 needs Odoo 19 or later; server is {version}")
                if not s.api_key:
                    raise OdooAccessError("JSON-2 needs an api_key credential")
                self._transport = Json2Transport(self._http, s.url, s.database, s.api_key)
                uid = None
            else:
                secret = s.password or s.api_key
                if not (s.database and s.login and secret):
                    raise OdooAccessError(
                        "JSON-RPC needs options.database, username and a password"
                    )
                uid_value = await self._guarded(
                    "common",
                    "authenticate",
                    lambda: jsonrpc_service_call(
                        self._http,
                        s.url,
                        "common",
                        "authenticate",
                        [s.database, s.login, secret, {}],
                        timeout_s=s.timeout_s,
                    ),
                )
                if not isinstance(uid_value, int) or isinstance(uid_value, bool):
                    raise OdooAccessError("Access Denied", method="authenticate")
                uid = uid_value
                self._transport = JsonRpcTransport(self._http, s.url, s.database, uid, secret)
            self._dialect = dialect
            domain = [["id", "=", uid]] if uid else [["login", "=", s.login]]
            user_rows: list[dict[str, Any]] = []
            if uid or s.login:
                user_rows = await self._call(
                    "res.users",
                    "search_read",
                    None,
                    {"domain": domain, "fields": ["company_id", "company_ids"], "limit": 1},
                    {},
                    idempotent=True,
                )
            company_id = user_rows[0]["company_id"][0] if user_rows else 1
            company_ids = tuple(user_rows[0]["company_ids"]) if user_rows else (company_id,)
            self._info = ServerInfo(
                major=major,
                server_version=version,
                transport=choice,
                uid=uid,
                company_id=company_id,
                company_ids=company_ids,
            )
            return self._info

    # ------------------------------------------------------------------ calls

    async def call(
        self,
        model: str,
        method: str,
        ids: Sequence[int] | None = None,
        *,
        context: Mapping[str, Any] | None = None,
        company: CompanyRef | None = None,
        idempotent: bool | None = None,
        **params: Any,
    ) -> Any:
        """Call ``model.method`` (on ``ids`` when given) with named ``params``.

        ``company`` (an id or name) sets ``allowed_company_ids`` so that the call runs in that
        company. ``idempotent`` defaults to true for :data:`READ_METHODS`.
        """
        await self.connect()
        ctx = dict(context or {})
        if company is not None and "allowed_company_ids" not in ctx:
            ctx["allowed_company_ids"] = [await self.company_id(company)]
        safe = method in READ_METHODS if idempotent is None else idempotent
        return await self._call(
            model, method, list(ids) if ids is not None else None, params, ctx, idempotent=safe
        )

    async def _call(
        self,
        model: str,
        method: str,
        ids: list[int] | None,
        params: Mapping[str, Any],
        context: Mapping[str, Any],
        *,
        idempotent: bool,
    ) -> Any:
        transport = self._transport
        assert transport is not None
        timeout = self.settings.timeout_s

        async def attempt() -> Any:
            return await self._guarded(
                model,
                method,
                lambda: transport.call(model, method, ids, params, context, timeout),
            )

        def retryable(exc: BaseException) -> bool:
            if not is_transient(exc):
                return False
            assert isinstance(exc, OdooTransientError)
            return idempotent or not exc.maybe_committed

        def count_retry(attempt_no: int, exc: BaseException, wait: float) -> None:
            self.stats.retries += 1
            if self._observer is not None:
                self._observer.retrying(self.name, exc)

        return await retry_async(
            attempt,
            attempts=self.retry_attempts,
            backoff=self.backoff,
            retryable=retryable,
            sleep=self._sleep,
            on_retry=count_retry,
        )

    async def _guarded(self, model: str, method: str, send: Callable[[], Awaitable[Any]]) -> Any:
        """One attempt: breaker, limiter, timeout, outcome recorded on the breaker."""
        observed = (
            self._observer.calling(
                self.name, f"{model}.{method}", {"odoo.model": model, "odoo.method": method}
            )
            if self._observer is not None
            else contextlib.nullcontext()
        )
        with observed:
            return await self._attempt(model, method, send)

    async def _attempt(self, model: str, method: str, send: Callable[[], Awaitable[Any]]) -> Any:
        self.breaker.before_call()  # raises Unavailable while the circuit is open
        async with self.limiter.slot():
            self.stats.count(model, method)
            try:
                async with asyncio.timeout(self.settings.timeout_s + 1.0):
                    result = await send()
            except TimeoutError as exc:
                self.breaker.record_failure()
                raise OdooTransientError("call timed out", model=model, method=method) from exc
            except OdooTransientError:
                self.breaker.record_failure()
                raise
            except OdooError:
                self.breaker.record_neutral()
                raise
            self.breaker.record_success()
            return result

    # ------------------------------------------------------------------ companies

    async def company_id(self, company: CompanyRef) -> int:
        """The id of a company given by id or name (names resolved once)."""
        if isinstance(company, int):
            return company
        if company not in self._company_ids:
            rows = await self.call(
                "res.company",
                "search_read",
                domain=[["name", "=", company]],
                fields=["id"],
                limit=1,
                context={"allowed_company_ids": list(self.info.company_ids)},
            )
            if not rows:
                raise OdooAccessError(f"unknown company {company!r} (or not allowed for the user)")
            self._company_ids[company] = int(rows[0]["id"])
        return self._company_ids[company]

    def forget_companies(self) -> None:
        self._company_ids.clear()

    async def refresh_user_companies(self) -> None:
        """Re-read the companies the user may use (after a company was added)."""
        info = self.info
        rows = (
            await self.call(
                "res.users", "read", [info.uid] if info.uid else [], fields=["company_ids"]
            )
            if info.uid
            else []
        )
        if rows:
            self._info = ServerInfo(
                major=info.major,
                server_version=info.server_version,
                transport=info.transport,
                uid=info.uid,
                company_id=info.company_id,
                company_ids=tuple(rows[0]["company_ids"]),
            )

    # ------------------------------------------------------------------ conveniences

    async def search_read(
        self,
        model: str,
        domain: Sequence[Any],
        fields: Sequence[str],
        *,
        limit: int | None = None,
        order: str | None = None,
        context: Mapping[str, Any] | None = None,
        company: CompanyRef | None = None,
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"domain": list(domain), "fields": list(fields)}
        if limit is not None:
            params["limit"] = limit
        if order is not None:
            params["order"] = order
        rows = await self.call(model, "search_read", context=context, company=company, **params)
        return list(rows)

    async def read(
        self,
        model: str,
        ids: Sequence[int],
        fields: Sequence[str],
        *,
        context: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        if not ids:
            return []
        return list(await self.call(model, "read", list(ids), fields=list(fields), context=context))

    async def create(
        self,
        model: str,
        vals_list: Sequence[Mapping[str, Any]],
        *,
        context: Mapping[str, Any] | None = None,
        company: CompanyRef | None = None,
    ) -> list[int]:
        """Create records in one call; returns their ids in order."""
        if not vals_list:
            return []
        result = await self.call(
            model,
            "create",
            vals_list=[dict(v) for v in vals_list],
            context=context,
            company=company,
        )
        return [int(result)] if isinstance(result, int) else [int(i) for i in result]

    async def write(
        self,
        model: str,
        ids: Sequence[int],
        vals: Mapping[str, Any],
        *,
        context: Mapping[str, Any] | None = None,
    ) -> bool:
        return bool(await self.call(model, "write", list(ids), vals=dict(vals), context=context))
