"""What every dashboard route shares: the templates and their filters, rendering with security
headers, and the guards — `viewer` (signed in, `ops:read`) and `operator` (also `ops:write`, with
the session's CSRF token) — that routes take as dependencies."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from crossdock.api.auth import Principal
from crossdock.api.running import RunningHub
from crossdock.errors import CrossdockError
from crossdock.ui.overview import OverviewSource
from crossdock.ui.sessions import COOKIE, Session, SessionStore, Tokens, same_secret

__all__ = [
    "PREFIX",
    "Forbidden",
    "SignInRequired",
    "UiState",
    "Viewer",
    "form_of",
    "operator",
    "render",
    "state_of",
    "viewer",
]

PREFIX = "/ui"
HERE = Path(__file__).parent
CSRF_HEADER = "x-csrf-token"
MAX_FORM_BYTES = 16_384

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class SignInRequired(CrossdockError):
    """No valid session: pages redirect to the sign-in form."""


class Forbidden(CrossdockError):
    """Signed in, but the token may not do this (or the request is not the dashboard's own)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class UiState:
    hub: RunningHub
    sessions: SessionStore
    tokens: Tokens
    overview: OverviewSource


def state_of(request: Request) -> UiState:
    state: UiState = request.app.state.ui
    return state


@dataclass(frozen=True, slots=True)
class Viewer:
    principal: Principal
    session: Session

    @property
    def name(self) -> str:
        return self.principal.name

    @property
    def can_act(self) -> bool:
        """May resolve exceptions and replay dead letters."""
        return self.principal.allows("ops:write")

    @property
    def csrf(self) -> str:
        return self.session.csrf

    @property
    def scopes(self) -> list[str]:
        return sorted(self.principal.scopes)


# -- template filters -----------------------------------------------------------------------------


def when(epoch: float | None) -> str:
    if epoch is None:
        return "—"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def when_ms(epoch: float | None) -> str:
    """With milliseconds: the steps of one order are often within the same second."""
    if epoch is None:
        return "—"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = max(0.0, float(seconds))
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def ago(epoch: float | None) -> str:
    return "never" if epoch is None else duration(time.time() - epoch) + " ago"


def pretty(value: Any) -> str:
    return json.dumps(value, indent=1, sort_keys=True, default=str, ensure_ascii=False)


def summary(item: dict[str, Any]) -> str:
    """One line for an ERP reference (a sale order, picking, invoice): its fields but the name."""
    parts = []
    for key, value in item.items():
        if key in ("name",) or value in (None, "", [], {}):
            continue
        if isinstance(value, list):
            parts.append(f"{key}: {len(value)}" if key == "lines" else f"{key}: {value}")
        else:
            parts.append(f"{key}: {value}")
    return " · ".join(parts)


def order_link(subject: str) -> str | None:
    """The dashboard page of a subject when it is an order (`order:<id>`)."""
    kind, _, key = subject.partition(":")
    return f"{PREFIX}/orders/{quote(key, safe='')}" if kind == "order" and key else None


TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))
TEMPLATES.env.filters.update(when=when, when_ms=when_ms, duration=duration, ago=ago, pretty=pretty)
TEMPLATES.env.globals.update(order_link=order_link, summary=summary, prefix=PREFIX)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {"request": request, **(context or {})},
        status_code=status,
        headers={**SECURITY_HEADERS, **(headers or {})},
    )
    return response


# -- guards ---------------------------------------------------------------------------------------


async def _signed_in(request: Request) -> Viewer:
    ui = state_of(request)
    session = ui.sessions.get(request.cookies.get(COOKIE))
    if session is None:
        raise SignInRequired()
    principal = await ui.tokens.principal(session.token_id)
    if principal is None:  # revoked since sign-in
        ui.sessions.close_all(session.token_id)
        raise SignInRequired()
    return Viewer(principal, session)


async def viewer(request: Request) -> Viewer:
    """Dependency of every page: a session whose token holds `ops:read`."""
    found = await _signed_in(request)
    if not found.principal.allows("ops:read"):
        raise Forbidden("the token lacks the scope 'ops:read'")
    return found


def same_origin(request: Request) -> bool:
    """A POST from the dashboard's own pages: no Origin header, or this host's (by host and port
    only: a TLS-terminating proxy makes the scheme differ)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    hosts = {request.url.netloc, request.headers.get("x-forwarded-host", "")}
    return urlsplit(origin).netloc in hosts - {""}


async def form_of(request: Request) -> dict[str, str]:
    """The URL-encoded body of a form (htmx and plain forms send this), size-bounded."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("", "application/x-www-form-urlencoded"):
        return {}
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise Forbidden("the form is too large")
    return dict(parse_qsl(body.decode("utf-8", "replace"), max_num_fields=50))


async def operator(request: Request) -> Viewer:
    """Dependency of every action: a session with `ops:write`, posting its CSRF token from a page
    of this site."""
    found = await viewer(request)
    if not same_origin(request):
        raise Forbidden("the request did not come from the dashboard")
    sent = request.headers.get(CSRF_HEADER) or (await form_of(request)).get("csrf")
    if not same_secret(sent, found.csrf):
        raise Forbidden("the request did not carry this session's CSRF token")
    if not found.can_act:
        raise Forbidden("the token lacks the scope 'ops:write': read-only access")
    return found
