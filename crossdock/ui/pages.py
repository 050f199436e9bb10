"""The dashboard's pages and the fragments htmx refreshes in place (`hx-trigger="every 2s"`):
overview, order search and timeline, exceptions queue, dead letters, reconciliation drift.

Reads go through the functions the JSON API and the CLI use; each page is one database read.
"""

from __future__ import annotations

import time
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import Connection, select

from crossdock.api import routes
from crossdock.api.problems import Problem
from crossdock.api.views import ExceptionView, OrderView
from crossdock.engine import DeadLetter
from crossdock.flows import exceptions as exq
from crossdock.flows.orders import STATES, list_orders, order_subject, refs_of_subjects
from crossdock.flows.tables import exceptions as exceptions_table
from crossdock.ops.audit import list_audit
from crossdock.ui import reads
from crossdock.ui.web import PREFIX, Viewer, render, state_of, viewer

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Signed = Annotated[Viewer, Depends(viewer)]
PAGE = 50


@router.get("")
async def root() -> RedirectResponse:
    return RedirectResponse(PREFIX + "/", status_code=307)


# -- overview -------------------------------------------------------------------------------------


async def _overview_context(request: Request, who: Viewer) -> dict[str, Any]:
    try:
        overview = await state_of(request).overview.get()
    except Exception as exc:  # the page says what is wrong instead of failing whole
        return {"viewer": who, "overview": None, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"viewer": who, "overview": overview, "error": None, "states": STATES}


@router.get("/")
async def overview_page(request: Request, who: Signed) -> HTMLResponse:
    context = await _overview_context(request, who)
    return render(request, "overview.html", {**context, "nav": "overview"})


@router.get("/fragments/overview")
async def overview_fragment(request: Request, who: Signed) -> HTMLResponse:
    return render(request, "_overview.html", await _overview_context(request, who))


# -- orders ---------------------------------------------------------------------------------------


@router.get("/orders")
async def orders_page(
    request: Request,
    who: Signed,
    q: str = "",
    channel: str = "",
    state: str = "",
    before_at: float | None = None,
    before_id: str = "",
) -> HTMLResponse:
    q, channel, state = q.strip()[:255], channel.strip()[:100], state.strip()
    error = None
    if state and state not in STATES:
        error, state = f"unknown state {state!r}", ""
    before = (before_at, before_id) if before_at is not None and before_id else None

    def read(conn: Connection) -> list[Any]:
        if q:
            found = reads.find_order(conn, q, channel or None)
            return [r for r in found if not state or r.state == state]
        return list_orders(
            conn, state=state or None, channel=channel or None, before=before, limit=PAGE
        )

    records = await state_of(request).hub.engine.db.read(read)
    more = None
    if not q and len(records) == PAGE:
        last = records[-1]
        more = {"before_at": repr(last.accepted_at), "before_id": last.id}
    return render(
        request,
        "orders.html",
        {
            "viewer": who,
            "nav": "orders",
            "orders": records,
            "q": q,
            "channel": channel,
            "state": state,
            "states": STATES,
            "more": more,
            "error": error,
        },
    )


async def _order_view(request: Request, who: Viewer, order_id: str) -> OrderView | None:
    try:
        return await routes.get_order_view(order_id, request, who.principal)
    except Problem as exc:
        if exc.status == 404:
            return None
        raise


async def _order_extras(request: Request, order_id: str) -> dict[str, Any]:
    subject = order_subject(order_id)

    def read(conn: Connection) -> dict[str, Any]:
        return {
            "deliveries": reads.messages_of_subject(conn, subject),
            "audit": list_audit(conn, subject=subject, limit=200),
        }

    extras: dict[str, Any] = await state_of(request).hub.engine.db.read(read)
    return extras


@router.get("/orders/{order_id}")
async def order_page(request: Request, order_id: str, who: Signed) -> HTMLResponse:
    view = await _order_view(request, who, order_id)
    if view is None:
        return render(
            request,
            "not_found.html",
            {"viewer": who, "nav": "orders", "what": f"order {order_id}"},
            status=404,
        )
    extras = await _order_extras(request, order_id)
    return render(request, "order.html", {"viewer": who, "nav": "orders", "order": view, **extras})


@router.get("/fragments/orders/{order_id}")
async def order_fragment(request: Request, order_id: str, who: Signed) -> HTMLResponse:
    view = await _order_view(request, who, order_id)
    if view is None:
        return render(
            request, "not_found.html", {"viewer": who, "what": f"order {order_id}"}, status=404
        )
    extras = await _order_extras(request, order_id)
    return render(request, "_order_live.html", {"viewer": who, "order": view, **extras})


# -- exceptions -----------------------------------------------------------------------------------


@router.get("/exceptions")
async def exceptions_page(
    request: Request, who: Signed, type: str = "", state: str = "open", page: int = 1
) -> HTMLResponse:
    type = type.strip()[:50]
    state = state if state in ("open", "resolved", "all") else "open"

    def read(
        conn: Connection,
    ) -> tuple[reads.Page[exq.ExceptionRecord], list[str], dict[str, Any]]:
        found = reads.exception_page(
            conn, type=type or None, state=None if state == "all" else state, number=page
        )
        kinds = conn.execute(
            select(exceptions_table.c.type).distinct().order_by(exceptions_table.c.type)
        ).scalars()
        return (
            found,
            [str(k) for k in kinds],
            refs_of_subjects(conn, (r.subject for r in found.items)),
        )

    found, kinds, refs = await state_of(request).hub.engine.db.read(read)
    now = time.time()
    return render(
        request,
        "exceptions.html",
        {
            "viewer": who,
            "nav": "exceptions",
            "items": [ExceptionView.of(r, now, refs.get(r.subject)) for r in found.items],
            "page": found,
            "link": f"{PREFIX}/exceptions?{urlencode({'type': type, 'state': state})}",
            "type": type,
            "state": state,
            "kinds": kinds,
        },
    )


# -- dead letters ---------------------------------------------------------------------------------


@router.get("/dead-letters")
async def dead_letters_page(
    request: Request, who: Signed, group: str = "", all: bool = False, page: int = 1
) -> HTMLResponse:
    group = group.strip()[:200]
    engine = state_of(request).hub.engine

    def read(conn: Connection) -> tuple[reads.Page[DeadLetter], dict[str, tuple[str, str]]]:
        found = reads.dead_letter_page(
            conn, group=group or None, include_replayed=all, number=page
        )
        return found, refs_of_subjects(conn, (d.subject for d in found.items))

    found, refs = await engine.db.read(read)
    query = {"group": group, **({"all": "true"} if all else {})}
    return render(
        request,
        "dead_letters.html",
        {
            "viewer": who,
            "nav": "dead",
            "items": found.items,
            "refs": refs,
            "page": found,
            "link": f"{PREFIX}/dead-letters?{urlencode(query)}",
            "group": group,
            "all": all,
            "groups": sorted(engine.subscriptions),
        },
    )


# -- reconciliation drift -------------------------------------------------------------------------


@router.get("/drift")
async def drift_page(request: Request, who: Signed, page: int = 1) -> HTMLResponse:
    try:
        drift = await state_of(request).hub.engine.db.read(reads.open_drift)
    except Exception as exc:
        drift = reads.Drift(True, [], [], error=f"{type(exc).__name__}: {exc}"[:300])
    number = reads.page_number(page)
    start = (number - 1) * reads.PAGE
    shown = reads.Page(drift.rows[start : start + reads.PAGE], number, len(drift.rows))
    context = {
        "viewer": who,
        "nav": "drift",
        "drift": drift,
        "rows": shown.items,
        "page": shown,
        "link": f"{PREFIX}/drift?",
        "time_columns": reads.TIME_COLUMNS,
    }
    return render(request, "drift.html", context)
