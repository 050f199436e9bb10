"""The sandbox's HTTP face: ``/jsonrpc``, ``/json/2/<model>/<method>`` (19+), ``/web/version``.

Every call runs in one transaction (an error rolls everything back), serialised on the database
like Odoo's row locks would mostly do, then waits the configured latency (``latency_call_s`` plus
``latency_record_s`` per created record) while holding one of ``workers`` server slots — so
concurrency helps up to the number of workers, as on a real server.

Failure injection, for tests and demos (``POST /sandbox/faults``, JSON):

* ``fail_next``: kinds for the next calls, in order — ``serialization`` (Odoo's
  ``psycopg2.errors.SerializationFailure`` error), ``502``/``503``/``504`` (gateway statuses),
  ``timeout`` (answer after ``slow_s``), ``user`` (a ``UserError``);
* ``outage_s``: answer 503 to everything for that many seconds;
* ``error_rate``: probability that a model call (``execute_kw``, JSON-2) fails with a serialisation
  failure — the service calls (``common.version``, ``authenticate``) touch no records and never do;
* ``slow_next`` / ``slow_s``: delay the next calls by that many seconds.

``GET /sandbox/stats`` counts calls by ``model.method``; ``POST /sandbox/stats/reset`` clears it.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from crossdock.errors import CrossdockError
from crossdock.sandbox.odoo.errors import (
    AccessDenied,
    AccessError,
    AttributeRpcError,
    DatabaseMissing,
    RpcError,
    SerializationFailure,
    UnauthorizedKey,
    UserError,
    ValueRpcError,
)
from crossdock.sandbox.odoo.landed_costs import with_landed_costs
from crossdock.sandbox.odoo.models import build_specs, seed
from crossdock.sandbox.odoo.orm import GENERIC_METHODS, POSITIONAL, Env, Registry
from crossdock.sandbox.odoo.payments import with_payments
from crossdock.sandbox.odoo.returns import extend as with_returns
from crossdock.sandbox.odoo.store import Store, Transaction

__all__ = ["OdooSandbox", "SandboxSettings", "create_app"]

_VERSIONS = {16: "16.0", 17: "17.0", 18: "18.0", 19: "19.0"}
_RECORD_METHODS = {"read", "write", "unlink"}


@dataclass
class SandboxSettings:
    version: int = 18
    database: str = "crossdock"
    login: str = "admin"
    password: str = "admin"
    api_key: str = "sandbox-api-key"
    path: str | Path | None = None
    """SQLite file the data persists in (memory only when None)."""
    latency_call_s: float = 0.015
    latency_record_s: float = 0.003
    workers: int = 2
    error_rate: float = 0.0
    seed: int | None = None
    connection_close: bool | None = None
    """Answer ``Connection: close`` like Odoo's built-in server (default: on 16-18)."""

    def __post_init__(self) -> None:
        if self.version not in _VERSIONS:
            raise ValueError("version must be 16, 17, 18 or 19")


@dataclass
class Faults:
    fail_next: list[str] = field(default_factory=list)
    slow_next: list[float] = field(default_factory=list)
    outage_until: float = 0.0
    error_rate: float = 0.0
    slow_s: float = 5.0


class OdooSandbox:
    """State of one simulated Odoo server (registry, store, faults, statistics)."""

    def __init__(self, settings: SandboxSettings | None = None) -> None:
        self.settings = settings or SandboxSettings()
        self.registry = Registry(
            with_landed_costs(with_payments(with_returns(build_specs()))), self.settings.version
        )
        self.store = Store(self.settings.path)
        self.faults = Faults(error_rate=self.settings.error_rate)
        self.random = random.Random(self.settings.seed)
        self.calls: dict[str, int] = {}
        self._lock = asyncio.Lock()
        self._workers = asyncio.Semaphore(max(1, self.settings.workers))
        if self.store.empty:
            tx = self.store.begin()
            seed(Env(self.registry, tx, 2, {}), login=self.settings.login)
            tx.commit()

    @property
    def uid(self) -> int:
        return 2

    @property
    def version_info(self) -> dict[str, Any]:
        major = self.settings.version
        return {
            "server_version": _VERSIONS[major],
            "server_version_info": [major, 0, 0, "final", 0, ""],
            "server_serie": _VERSIONS[major],
            "protocol_version": 1,
        }

    # ------------------------------------------------------------------ running calls

    def env(self, tx: Transaction, context: dict[str, Any] | None) -> Env:
        return Env(self.registry, tx, self.uid, context)

    def execute(
        self,
        model: str,
        method: str,
        ids: list[int] | None,
        params: dict[str, Any],
        context: dict[str, Any] | None,
    ) -> tuple[Any, int]:
        """Run one call in a transaction; ``(result, records created)``."""
        self.calls[f"{model}.{method}"] = self.calls.get(f"{model}.{method}", 0) + 1
        tx = self.store.begin()
        try:
            result = self.env(tx, context).call(model, method, ids, params)
        except BaseException:
            tx.rollback()
            raise
        tx.commit()
        return result, tx.created

    async def run(self, work: Callable[[], tuple[Any, int]], *, records: bool = True) -> Any:
        """Faults, then the work under the database lock, then the latency in a worker slot.

        ``records``: the call works on records (a model call), so it may meet a serialisation
        failure at ``error_rate``.
        """
        async with self._workers:
            await self._inject(records)
            async with self._lock:
                result, created = work()
            delay = self.settings.latency_call_s + created * self.settings.latency_record_s
            if delay > 0:
                await asyncio.sleep(delay)
            return result

    async def _inject(self, records: bool) -> None:
        faults = self.faults
        if faults.slow_next:
            await asyncio.sleep(faults.slow_next.pop(0))
        if time.monotonic() < faults.outage_until:
            raise _HttpFault(503)
        if faults.fail_next:
            kind = faults.fail_next.pop(0)
            if kind == "serialization":
                raise SerializationFailure()
            if kind == "user":
                raise UserError("Injected user error")
            if kind == "timeout":
                await asyncio.sleep(faults.slow_s)
            elif kind.isdigit():
                raise _HttpFault(int(kind))
        if records and faults.error_rate and self.random.random() < faults.error_rate:
            raise SerializationFailure()

    # ------------------------------------------------------------------ protocols

    def jsonrpc(self, service: str, method: str, args: list[Any]) -> Callable[[], tuple[Any, int]]:
        s = self.settings
        if service == "common":
            if method == "version":
                return lambda: (self.version_info, 0)
            if method in ("authenticate", "login"):
                db, login, password = args[0], args[1], args[2]
                self._check_db(db)
                ok = login == s.login and password in (s.password, s.api_key)
                return lambda: (self.uid if ok else False, 0)
            raise ValueRpcError(f"unknown method {method!r} of service common")
        if service == "db":
            raise AccessDenied()
        if service != "object" or method not in ("execute_kw", "execute"):
            raise ValueRpcError(f"unknown service method {service}.{method}")
        db, uid, password, model, name = args[0], args[1], args[2], args[3], args[4]
        self._check_db(db)
        if uid != self.uid or password not in (s.password, s.api_key):
            raise AccessDenied()
        # checked in Odoo's order (odoo.service.model): the model, then the method
        spec = self.registry.specs.get(model)
        if spec is None:
            raise UserError(f"Object {model} doesn't exist")
        if str(name).startswith("_"):
            raise AccessError(
                f"Private methods (such as '{model}.{name}') cannot be called remotely."
            )
        if name not in GENERIC_METHODS and name not in spec.methods | spec.model_methods:
            raise AttributeRpcError(f"The method '{model}.{name}' does not exist")
        if method == "execute_kw":
            positional = list(args[5]) if len(args) > 5 and args[5] else []
            kwargs = dict(args[6]) if len(args) > 6 and args[6] else {}
        else:
            positional, kwargs = list(args[5:]), {}
        context = kwargs.pop("context", None)
        ids, params = self._bind(model, name, positional, kwargs)
        return lambda: self.execute(model, name, ids, params, context)

    def _check_db(self, db: Any) -> None:
        if db != self.settings.database:
            raise DatabaseMissing(
                'connection to server at "127.0.0.1", port 5432 failed: FATAL:  database '
                f'"{db}" does not exist\n'
            )

    def _bind(
        self, model: str, method: str, positional: list[Any], kwargs: dict[str, Any]
    ) -> tuple[list[int] | None, dict[str, Any]]:
        spec = self.registry.specs.get(model)
        record_method = method in _RECORD_METHODS or (spec is not None and method in spec.methods)
        ids: list[int] | None = None
        if record_method:
            if not positional:
                raise ValueRpcError(f"{model}.{method}() needs record ids as first argument")
            first = positional.pop(0)
            ids = [first] if isinstance(first, int) else [int(i) for i in first]
        names = POSITIONAL.get(method, ())
        if spec is not None and method in spec.model_methods and method == "create":
            names = ("vals_list",)
        params = dict(kwargs)
        for index, value in enumerate(positional):
            if index >= len(names):
                raise ValueRpcError(f"{model}.{method}() takes fewer positional arguments")
            params[names[index]] = value
        return ids, params


class _HttpFault(CrossdockError):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


def _error_data(error: RpcError, context: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": error.name,
        "debug": "Traceback (most recent call last):\n"
        + "".join(traceback.format_exception_only(type(error), error))
        + f"{error.name}: {error.message}\n",
        "message": error.message,
        "arguments": [error.message],
        "context": context or {},
    }


def create_app(
    settings: SandboxSettings | None = None, sandbox: OdooSandbox | None = None
) -> Starlette:
    """The ASGI application of one sandbox (``app.state.sandbox`` is its :class:`OdooSandbox`)."""
    box = sandbox or OdooSandbox(settings)
    close = box.settings.connection_close
    if close is None:
        close = box.settings.version <= 18
    headers = {"Connection": "close"} if close else {}

    def answer(payload: Any, status: int = 200) -> Response:
        return JSONResponse(payload, status_code=status, headers=headers)

    async def jsonrpc(request: Request) -> Response:
        request_id: Any = None
        try:
            body = json.loads(await request.body())
            request_id = body.get("id")
            params = body.get("params") or {}
            service = str(params.get("service"))
            work = box.jsonrpc(service, str(params.get("method")), list(params.get("args") or []))
            result = await box.run(work, records=service == "object")
        except _HttpFault as fault:
            return PlainTextResponse(
                f"HTTP {fault.status}", status_code=fault.status, headers=headers
            )
        except RpcError as error:
            return answer(
                {
                    "jsonrpc": "2.0",
                    "id": request_id,
                    "error": {
                        "code": 200,
                        "message": "Odoo Server Error",
                        "data": _error_data(error),
                    },
                }
            )
        except Exception as exc:  # an unexpected failure is answered like Odoo answers one
            unexpected = RpcError(str(exc))
            unexpected.name = f"builtins.{type(exc).__name__}"
            return answer(
                {
                    "jsonrpc": "2.0",
                    "id": request_id,
                    "error": {
                        "code": 200,
                        "message": "Odoo Server Error",
                        "data": _error_data(unexpected),
                    },
                }
            )
        payload: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id}
        if result is not None:  # a method returning None has no `result` member
            payload["result"] = result
        return answer(payload)

    async def json2(request: Request) -> Response:
        if box.settings.version < 19:
            return PlainTextResponse("Not Found", status_code=404, headers=headers)
        model = request.path_params["model"]
        method = request.path_params["method"]
        try:
            auth = request.headers.get("authorization", "")
            if not auth.lower().startswith("bearer ") or auth[7:].strip() != box.settings.api_key:
                raise UnauthorizedKey()
            database = request.headers.get("x-odoo-database")
            if database is not None:
                box._check_db(database)
            body = json.loads(await request.body() or b"{}")
            if not isinstance(body, dict):
                raise ValueRpcError("the body must be a JSON object")
            context = body.pop("context", None)
            ids = body.pop("ids", None)
            result = await box.run(lambda: box.execute(model, method, ids, body, context))
        except _HttpFault as fault:
            return PlainTextResponse(
                f"HTTP {fault.status}", status_code=fault.status, headers=headers
            )
        except RpcError as error:
            return answer(_error_data(error), error.status)
        return answer(result)

    async def version(request: Request) -> Response:
        info = box.version_info
        return answer(
            {"version": info["server_version"], "version_info": info["server_version_info"]}
        )

    async def faults(request: Request) -> Response:
        body = json.loads(await request.body() or b"{}")
        f = box.faults
        f.fail_next.extend(str(k) for k in body.get("fail_next", []))
        f.slow_next.extend(float(s) for s in body.get("slow_next", []))
        if "outage_s" in body:
            f.outage_until = time.monotonic() + float(body["outage_s"])
        if "error_rate" in body:
            f.error_rate = float(body["error_rate"])
        if "slow_s" in body:
            f.slow_s = float(body["slow_s"])
        if body.get("clear"):
            box.faults = Faults()
        return answer({"ok": True})

    async def stats(request: Request) -> Response:
        if request.method == "POST":
            box.calls.clear()
        return answer({"calls": sum(box.calls.values()), "by_method": dict(box.calls)})

    app = Starlette(
        routes=[
            Route("/jsonrpc", jsonrpc, methods=["POST"]),
            Route("/json/2/{model}/{method}", json2, methods=["POST"]),
            Route("/web/version", version, methods=["GET", "POST"]),
            Route("/sandbox/faults", faults, methods=["POST"]),
            Route("/sandbox/stats", stats, methods=["GET"]),
            Route("/sandbox/stats/reset", stats, methods=["POST"]),
        ]
    )
    app.state.sandbox = box
    return app
