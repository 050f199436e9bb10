"""Signing in to the dashboard with an API token, and out.

The form carries a one-time nonce that must match a cookie set with it (login CSRF: another site
cannot sign a browser in with *its* token). A token without `ops:read` is refused at the door.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from crossdock.ui.sessions import COOKIE, SESSION_TTL_S, SIGNIN_COOKIE, same_secret
from crossdock.ui.web import (
    PREFIX,
    SECURITY_HEADERS,
    Forbidden,
    form_of,
    render,
    same_origin,
    state_of,
)

router = APIRouter(prefix=PREFIX, include_in_schema=False)
SIGNIN_PATH = f"{PREFIX}/sign-in"


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a dashboard path (never another site)."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//"):
        return target
    return PREFIX + "/"


def _secure(request: Request) -> bool:
    proto = request.headers.get("x-forwarded-proto", request.url.scheme)
    return proto.split(",")[0].strip() == "https"


def _form(request: Request, next_url: str, error: str | None, status: int = 200) -> HTMLResponse:
    nonce = secrets.token_urlsafe(24)
    response = render(
        request,
        "sign_in.html",
        {"nonce": nonce, "next": next_url, "error": error, "viewer": None},
        status=status,
    )
    response.set_cookie(
        SIGNIN_COOKIE,
        nonce,
        max_age=900,
        path=SIGNIN_PATH,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    return response


@router.get("/sign-in")
async def sign_in_form(request: Request, next: str | None = None) -> HTMLResponse:
    return _form(request, safe_next(next), None)


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    form = await form_of(request)
    next_url = safe_next(form.get("next"))
    nonce = request.cookies.get(SIGNIN_COOKIE) or ""
    if not same_origin(request) or not same_secret(form.get("nonce"), nonce):
        return _form(request, next_url, "The form expired: please sign in again.", 400)
    ui = state_of(request)
    token = form.get("token", "").strip()
    principal = await ui.tokens.verify(token) if token else None
    if principal is None:
        return _form(request, next_url, "This token is unknown or revoked.", 401)
    if not principal.allows("ops:read"):
        return _form(request, next_url, "This token lacks the scope ops:read needed to view.", 403)
    raw, _ = ui.sessions.open(principal.token_id)
    response = RedirectResponse(next_url, status_code=303, headers=SECURITY_HEADERS)
    response.set_cookie(
        COOKIE,
        raw,
        max_age=int(SESSION_TTL_S),
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    response.delete_cookie(SIGNIN_COOKIE, path=SIGNIN_PATH)
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    ui = state_of(request)
    session = ui.sessions.get(request.cookies.get(COOKIE))
    form = await form_of(request)
    if session is not None:
        if not same_origin(request) or not same_secret(form.get("csrf"), session.csrf):
            raise Forbidden("the request did not carry this session's CSRF token")
        ui.sessions.close(request.cookies.get(COOKIE))
    response = RedirectResponse(SIGNIN_PATH, status_code=303, headers=SECURITY_HEADERS)
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


def sign_in_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"{SIGNIN_PATH}?next={quote(target, safe='')}"
