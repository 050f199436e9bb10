"""The dashboard's actions (scope `ops:write`, CSRF-checked by the `operator` guard): resolve an
exception, replay a dead letter. With htmx the answer is the updated table row; a plain form post
is redirected back to the page it came from."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response

from crossdock.api.views import ExceptionView
from crossdock.flows import exceptions as exq
from crossdock.flows.orders import refs_of_subjects
from crossdock.ui import actions
from crossdock.ui.signin import safe_next
from crossdock.ui.web import (
    PREFIX,
    SECURITY_HEADERS,
    Viewer,
    form_of,
    is_htmx,
    operator,
    render,
    state_of,
)

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Operator = Annotated[Viewer, Depends(operator)]


def _back(request: Request, fallback: str) -> RedirectResponse:
    return RedirectResponse(
        safe_next(request.headers.get("referer", "").partition(request.url.netloc)[2] or fallback),
        status_code=303,
        headers=SECURITY_HEADERS,
    )


@router.post("/exceptions/{exception_id}/resolve")
async def resolve(request: Request, exception_id: str, who: Operator) -> Response:
    form = await form_of(request)
    outcome = await actions.resolve_exception(
        request, who.principal, exception_id, form.get("action", ""), form.get("note")
    )
    if not is_htmx(request):
        return _back(request, f"{PREFIX}/exceptions")
    item = outcome.exception
    if item is None:
        record = await state_of(request).hub.engine.db.read(
            lambda c: exq.get_exception(c, exception_id)
        )
        if record is None:
            return render(request, "_message.html", {"ok": False, "message": outcome.message})
        refs = await state_of(request).hub.engine.db.read(
            lambda c: refs_of_subjects(c, [record.subject])
        )
        item = ExceptionView.of(record, time.time(), refs.get(record.subject))
    return render(
        request,
        "_exception_row.html",
        {
            "viewer": who,
            "item": item,
            "ok": outcome.ok,
            "message": outcome.message,
            "show_subject": form.get("show_subject") == "1",
        },
    )


@router.post("/dead-letters/{dead_id}/replay")
async def replay(
    request: Request, dead_id: Annotated[int, Path(ge=1, le=2**63 - 1)], who: Operator
) -> Response:
    engine = state_of(request).hub.engine
    outcome = await actions.replay_dead_letter(engine, who.principal, dead_id)
    if not is_htmx(request):
        return _back(request, f"{PREFIX}/dead-letters")
    item = await engine.dead_letter(dead_id)
    if item is None:
        return render(request, "_message.html", {"ok": False, "message": outcome.message})
    refs = await engine.db.read(lambda c: refs_of_subjects(c, [item.subject]))
    return render(
        request,
        "_dead_row.html",
        {"viewer": who, "item": item, "refs": refs, "ok": outcome.ok, "message": outcome.message},
    )
