"""The operations dashboard at `/ui`: server-rendered pages (Jinja2) refreshed in place by htmx,
which is vendored in `static/` (no CDN). Sign in with an API token holding `ops:read`; `ops:write`
adds the actions (resolve an exception, replay a dead letter).

    app = create_app(hub)
    mount_ui(app)        # routers, static files, the session store; hidden from /openapi.json
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from crossdock.api.running import RunningHub
from crossdock.ui import edi, operate, pages, procurement_pages, returns_pages, signin
from crossdock.ui.overview import OverviewSource
from crossdock.ui.sessions import SessionStore, Tokens
from crossdock.ui.web import (
    HERE,
    PREFIX,
    SECURITY_HEADERS,
    Forbidden,
    SignInRequired,
    UiState,
    is_htmx,
    render,
)

__all__ = ["mount_ui"]


def mount_ui(app: FastAPI) -> None:
    """Serve the dashboard from `app` (whose `state.hub` is the running hub)."""
    hub: RunningHub = app.state.hub
    app.state.ui = UiState(
        hub=hub,
        sessions=SessionStore(),
        tokens=Tokens(lambda fn: hub.engine.db.read(fn)),
        overview=OverviewSource(hub),
    )
    app.include_router(signin.router)
    app.include_router(pages.router)
    app.include_router(operate.router)
    app.include_router(edi.router)
    app.include_router(returns_pages.router)
    app.include_router(procurement_pages.router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="ui-static")
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(Forbidden, _forbidden)


async def _sign_in_required(request: Request, exc: Exception) -> Response:
    target = signin.sign_in_url(request)
    if is_htmx(request):  # htmx follows HX-Redirect with a full page load
        return Response(status_code=401, headers={**SECURITY_HEADERS, "HX-Redirect": target})
    return RedirectResponse(target, status_code=303, headers=SECURITY_HEADERS)


async def _forbidden(request: Request, exc: Exception) -> HTMLResponse:
    assert isinstance(exc, Forbidden)
    context = {"ok": False, "message": exc.reason, "viewer": None}
    if is_htmx(request):  # shown in the page's message area, whatever the request targeted
        headers = {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"}
        return render(request, "_message.html", context, status=403, headers=headers)
    return render(request, "forbidden.html", context, status=403)
