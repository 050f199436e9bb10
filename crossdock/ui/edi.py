"""The dashboard's EDI page: files exchanged with trading partners, their state and reason,
filtered by partner, direction and state, newest first."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Connection

from crossdock.flows.edi import store
from crossdock.ui import reads
from crossdock.ui.web import PREFIX, Viewer, render, state_of, viewer

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Signed = Annotated[Viewer, Depends(viewer)]


@router.get("/edi")
async def edi_files_page(
    request: Request,
    who: Signed,
    partner: str = "",
    state: str = "",
    direction: str = "",
    page: int = 1,
) -> HTMLResponse:
    partner = partner.strip()[:63]
    state = state if state in store.STATES else ""
    direction = direction if direction in ("in", "out") else ""
    number = reads.page_number(page)
    filters: dict[str, Any] = {
        "partner": partner or None,
        "state": state or None,
        "direction": direction or None,
    }

    def read(conn: Connection) -> reads.Page[store.EdiFile]:
        total = store.count_files(conn, **filters)
        items = store.page_of_files(
            conn, **filters, limit=reads.PAGE, offset=(number - 1) * reads.PAGE
        )
        return reads.Page(items, number, total)

    found = await state_of(request).hub.engine.db.read(read)
    partners = sorted(state_of(request).hub.config.edi.partners)
    query = {"partner": partner, "state": state, "direction": direction}
    return render(
        request,
        "edi_files.html",
        {
            "viewer": who,
            "nav": "edi",
            "items": found.items,
            "page": found,
            "link": f"{PREFIX}/edi?{urlencode(query)}",
            "partner": partner,
            "state": state,
            "direction": direction,
            "partners": partners,
            "states": store.STATES,
        },
    )
