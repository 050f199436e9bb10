"""The dashboard's procurement: recommendations awaiting approval (approve or reject, the second
approver's rule applying as in the API), purchase orders past their promised date, and the
suppliers' on-time and fill rates. Decisions go through the API's own route functions, so they
are audited and evented the same way; they need a session whose token also holds
``purchasing:write``."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from crossdock.api import procurement_routes as pr
from crossdock.api.problems import Problem
from crossdock.flows.procurement.figures import late_orders, order_statuses, supplier_figures
from crossdock.flows.procurement.store import OPEN_STATES, get_recommendation, list_recommendations
from crossdock.ui.operate import _back
from crossdock.ui.web import PREFIX, Viewer, form_of, is_htmx, operator, render, state_of, viewer

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Signed = Annotated[Viewer, Depends(viewer)]
Operator = Annotated[Viewer, Depends(operator)]
PAGE = 100
FIGURE_DAYS = 90


def _can_decide(who: Viewer) -> bool:
    return who.can_act and who.principal.allows("purchasing:write")


@router.get("/procurement")
async def procurement_page(request: Request, who: Signed) -> HTMLResponse:
    since = time.time() - FIGURE_DAYS * 86400

    def read(conn: Any) -> tuple[list[Any], list[Any], list[Any]]:
        waiting = [r for state in OPEN_STATES for r in list_recommendations(conn, state, PAGE)]
        return waiting, order_statuses(conn), order_statuses(conn, since=since)

    waiting, statuses, recent = await state_of(request).hub.engine.db.read(read)
    today = datetime.now(UTC).date()
    return render(
        request,
        "procurement.html",
        {
            "viewer": who,
            "nav": "procurement",
            "recommendations": [
                pr.recommendation_view(r) for r in sorted(waiting, key=lambda r: r.created_at)
            ],
            "late": late_orders(statuses, today),
            "today": today,
            "suppliers": supplier_figures(recent, today),
            "figure_days": FIGURE_DAYS,
            "can_decide": _can_decide(who),
        },
    )


@router.post("/procurement/recommendations/{ref}/{decision}")
async def decide(request: Request, ref: str, decision: str, who: Operator) -> Response:
    form = await form_of(request)
    note = (form.get("note") or "").strip()[:1000] or None
    ok, message, view = False, "", None
    if not who.principal.allows("purchasing:write"):
        message = "the token lacks the scope 'purchasing:write'"
    elif decision not in ("approve", "reject"):
        message = f"unknown decision {decision!r}"
    else:
        try:
            if decision == "approve":
                view = await pr.approve_recommendation(
                    ref, pr.ApproveBody(note=note), request, who.principal
                )
            else:
                view = await pr.reject_recommendation(
                    ref, pr.RejectBody(note=note), request, who.principal
                )
            ok = True
            message = {
                "awaiting_second": "approved once: a second, different approver must approve",
                "approved": "approved: the purchase order is being placed",
                "rejected": "rejected",
            }.get(view.state, view.state)
        except Problem as exc:
            message = exc.detail
    if not is_htmx(request):
        return _back(request, f"{PREFIX}/procurement")
    if view is None:
        found = await state_of(request).hub.engine.db.read(lambda c: get_recommendation(c, ref))
        view = None if found is None else pr.recommendation_view(found)
    if view is None:
        return render(request, "_message.html", {"ok": False, "message": message})
    return render(
        request,
        "_recommendation_row.html",
        {
            "viewer": who,
            "rec": view,
            "ok": ok,
            "message": message,
            "can_decide": _can_decide(who),
        },
    )
