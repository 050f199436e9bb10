"""The FastAPI application, built around a running hub: the API's routers and the dashboard
mounted together (the composition of the two, so neither imports the other)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from crossdock import __version__
from crossdock.api import database_down, openapi, problems
from crossdock.api.as2_routes import router as as2_router
from crossdock.api.auth import Authenticator
from crossdock.api.docs import mount_docs
from crossdock.api.edi_routes import router as edi_router
from crossdock.api.forecast_routes import router as forecast_router
from crossdock.api.inventory_routes import router as inventory_router
from crossdock.api.limits import BodyLimitMiddleware
from crossdock.api.ops_routes import router as ops_router
from crossdock.api.payment_routes import router as payments_router
from crossdock.api.procurement_routes import router as procurement_router
from crossdock.api.purchase_order_routes import router as purchase_order_router
from crossdock.api.query import StrictQueryRoute
from crossdock.api.readiness import PROBE_TIMEOUT_S, Probe
from crossdock.api.reconciliation_routes import router as reconciliation_router
from crossdock.api.returns_routes import router as returns_router
from crossdock.api.routes import router
from crossdock.api.shopify_routes import router as shopify_router
from crossdock.api.supplier_routes import router as supplier_router
from crossdock.api.webhook_routes import router as webhook_router
from crossdock.engine import SHARED_DIR_ENV
from crossdock.hub import Hub
from crossdock.ops.http import ObservabilityMiddleware
from crossdock.ui import mount_ui


def create_app(hub: Hub) -> FastAPI:
    app = FastAPI(
        title="Crossdock",
        version=__version__,
        description=(
            "Integration hub between Odoo and the systems around a distributor. Authenticate "
            "with `Authorization: Bearer <token>` (`crossdock tokens create`). Errors are "
            "RFC 9457 `application/problem+json` documents."
        ),
        docs_url=None,  # served from packaged assets by `mount_docs`
        redoc_url=None,
        dependencies=[Depends(openapi.check_media_type)],
    )
    app.router.route_class = StrictQueryRoute  # an unknown query parameter is a 400
    app.state.hub = hub
    shared = os.environ.get(SHARED_DIR_ENV)  # set for the processes of `serve --processes`
    app.state.auth = Authenticator(hub.engine.db.read, Path(shared) if shared else None)
    problems.install(app)
    database_down.install(app)
    openapi.install(app)
    mount_docs(app)
    app.include_router(router)
    app.include_router(webhook_router)
    app.include_router(ops_router)
    app.include_router(inventory_router)
    app.include_router(reconciliation_router)
    app.include_router(edi_router)
    app.include_router(as2_router)
    app.include_router(returns_router)
    app.include_router(shopify_router)
    app.include_router(procurement_router)
    app.include_router(forecast_router)
    app.include_router(supplier_router)
    app.include_router(purchase_order_router)
    app.include_router(payments_router)
    mount_ui(app)  # the operations dashboard at /ui (not in the OpenAPI document)
    app.add_middleware(BodyLimitMiddleware, limits=hub.config.api.limits)
    app.add_middleware(ObservabilityMiddleware, tracing=hub.ops.tracing)

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """The process is up (liveness)."""
        return {"status": "ok"}

    probes: dict[str, Probe] = {}
    if hub.erp is not None:
        client = hub.erp.operations.client
        probes[hub.erp.name] = Probe(lambda: client.probe(PROBE_TIMEOUT_S))
    readiness = {
        "type": "object",
        "required": ["status", "checks"],
        "properties": {
            "status": {"type": "string"},
            "checks": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }

    @app.get(
        "/readyz",
        tags=["operations"],
        responses={
            200: {"content": {"application/json": {"schema": readiness}}},
            503: {
                "description": "A check is failing (named in `checks`).",
                "content": {"application/json": {"schema": readiness}},
            },
        },
    )
    async def readyz() -> JSONResponse:
        """The database and the ERP answer (readiness); 503 otherwise, naming the failing check.
        The ERP is asked for its version, at most every few seconds."""
        checks: dict[str, Any] = {}
        try:
            await hub.engine.db.read(lambda c: c.execute(text("SELECT 1")).scalar_one())
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"failing: {type(exc).__name__}"
        for name, probe in probes.items():
            checks[name] = await probe.result()
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )

    return app
