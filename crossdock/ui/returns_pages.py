"""The dashboard's returns: the list (filtered by state and channel) and a return's timeline
(steps, exceptions with their actions, Odoo documents), refreshed in place by htmx. Reads go
through the functions of the returns API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from crossdock.api.returns_routes import ReturnSummary, return_view
from crossdock.flows.returns.store import STATES, list_returns
from crossdock.ui.web import PREFIX, Viewer, render, state_of, viewer

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Signed = Annotated[Viewer, Depends(viewer)]
PAGE = 50


@router.get("/returns")
async def returns_page(
    request: Request, who: Signed, channel: str = "", state: str = ""
) -> HTMLResponse:
    channel, state = channel.strip()[:100], state.strip()
    error = None
    if state and state not in STATES:
        error, state = f"unknown state {state!r}", ""
    records = await state_of(request).hub.engine.db.read(
        lambda c: list_returns(c, state=state or None, channel=channel or None, limit=PAGE)
    )
    return render(
        request,
        "returns.html",
        {
            "viewer": who,
            "nav": "returns",
            "returns": [ReturnSummary.of(r) for r in records],
            "channel": channel,
            "state": state,
            "states": STATES,
            "error": error,
        },
    )


async def _page(request: Request, who: Viewer, rma: str, template: str) -> HTMLResponse:
    view = await state_of(request).hub.engine.db.read(lambda c: return_view(c, rma))
    if view is None:
        return render(
            request,
            "not_found.html",
            {"viewer": who, "nav": "returns", "what": f"return {rma}"},
            status=404,
        )
    return render(request, template, {"viewer": who, "nav": "returns", "ret": view})


@router.get("/returns/{rma}")
async def return_page(request: Request, rma: str, who: Signed) -> HTMLResponse:
    return await _page(request, who, rma, "return.html")


@router.get("/fragments/returns/{rma}")
async def return_fragment(request: Request, rma: str, who: Signed) -> HTMLResponse:
    return await _page(request, who, rma, "_return_live.html")
