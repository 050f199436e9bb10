"""Demand history out: incremental exports since a persisted watermark, to a directory or pushed
to a real HTTP server with a Standard Webhooks signature; the ERP read in batches."""

from __future__ import annotations

import asyncio
import base64
import csv
import hashlib
import hmac
import io
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crossdock.commands.serve import _Server
from crossdock.config.secrets import SecretRef
from crossdock.flows.procurement.demand import directory_sink
from crossdock.flows.procurement.forecasting import Forecasting
from crossdock.webhooks.push import PushFailed, signed_push
from crossdock.webhooks.signing import new_secret
from tests.flows.procurement.conftest import Buying, serve
from tests.support.waiting import until

DAY = 86400.0


def rows(path: Path) -> list[tuple[str, ...]]:
    return [tuple(r) for r in csv.reader(io.StringIO(path.read_text()))]


def at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def day(ts: float) -> str:
    return at(ts).date().isoformat()


async def test_exports_are_incremental_from_a_persisted_watermark(
    db_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    settings = {"export_directory": str(out), "settle_seconds": 60, "first_export_days": 30}
    t0 = time.time()
    async with serve(db_url, {}, forecasting=settings) as b:
        b.erp.add_move("WH", "A", "sale", Decimal(5), at(t0 - 40 * DAY))  # before the first window
        b.erp.add_move("WH", "A", "sale", Decimal(3), at(t0 - 10 * DAY))
        b.erp.add_move("WH", "A", "sale", Decimal(2), at(t0 - 10 * DAY + 60))
        b.erp.add_move("WH", "B", "return", Decimal(1), at(t0 - 2 * DAY))
        b.erp.add_move("WH", "C", "sale", Decimal(4), at(t0 - 30))  # not settled yet
        first = await b.forecasting.export(t0)
        assert first.id is not None and first.location is not None
        assert rows(Path(first.location))[:3] == [
            ("record", "warehouse", "sku", "date", "quantity"),
            ("sale", "WH", "A", day(t0 - 10 * DAY), "5"),
            ("return", "WH", "B", day(t0 - 2 * DAY), "1"),
        ]
        assert ("on_hand", "WH", "D", day(t0 - 60), "100") in rows(Path(first.location))
        assert b.erp.calls["demand_history"] == 1  # one batched read, not one per SKU
        # a new service (as after a restart) starts from the watermark kept in the database
        fresh = Forecasting(b.hub.engine, b.erp, b.hub.config, sink=directory_sink(str(out)))
        b.erp.add_move("WH", "A", "sale", Decimal(7), at(t0 + 100))
        second = await fresh.export(t0 + 3600)
        assert second.since == first.until
        assert second.location is not None
        history = [r for r in rows(Path(second.location)) if r[0] != "on_hand"]
        assert history[1:] == [
            ("sale", "WH", "A", day(t0 + 100), "7"),
            ("sale", "WH", "C", day(t0 - 30), "4"),
        ]
        nothing = await fresh.export(t0 + 3600)
        assert nothing.id is None  # the window is empty
        listed = (await b.client.get("/v1/forecasts/exports", headers=b.auth())).json()["items"]
        assert [e["rows"] for e in listed] == [second.rows, first.rows]
        assert len(list(out.glob("*.csv"))) == 2 and not list(out.glob(".*"))


@asynccontextmanager
async def receiver(
    secret: str, answers: list[int]
) -> AsyncIterator[tuple[str, list[tuple[str, bytes]]]]:
    got: list[tuple[str, bytes]] = []
    key = base64.b64decode(secret.removeprefix("whsec_"))

    async def receive(request: Request) -> Response:
        body = await request.body()
        h = request.headers
        # the Standard Webhooks signature, computed here from its specification
        signed = f"{h['webhook-id']}.{h['webhook-timestamp']}.".encode() + body
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        if f"v1,{expected}" not in h["webhook-signature"].split():
            return Response(status_code=401)
        got.append((request.headers["webhook-id"], body))
        return Response(status_code=answers.pop(0) if answers else 200)

    app = Starlette(routes=[Route("/history", receive, methods=["POST"])])
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/history", got
    finally:
        server.should_exit = True
        await task


async def test_push_is_signed_and_a_refused_push_keeps_the_window(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = new_secret()
    monkeypatch.setenv("FORECAST_PUSH_SECRET", secret)
    t0 = time.time()
    async with receiver(secret, [503]) as (url, got):
        sink = signed_push(url, SecretRef("${FORECAST_PUSH_SECRET}"))
        async with serve(db_url, {}, sink=sink, forecasting={"settle_seconds": 0}) as b:
            b.erp.add_move("WH", "A", "sale", Decimal(3), at(t0 - DAY))
            with pytest.raises(PushFailed):
                await b.forecasting.export(t0)
            again = await b.forecasting.export(t0)  # the same window, the same id
            assert len(got) == 2 and got[0] == got[1] and got[1][0] == again.id
            assert b"sale,WH,A," in got[1][1]
            exports = (await b.client.get("/v1/forecasts/exports", headers=b.auth())).json()
            assert len(exports["items"]) == 1


async def test_an_export_on_request_runs_in_the_consumer(buying: Buying) -> None:
    buying.erp.add_move("WH", "A", "sale", Decimal(3), at(time.time() - 8 * DAY))  # last week
    r = await buying.client.post("/v1/forecasts/exports", headers=buying.auth())
    assert r.status_code == 202

    async def exported() -> bool:
        listed = await buying.client.get("/v1/forecasts/exports", headers=buying.auth())
        return bool(listed.json()["items"])

    await until(exported, what="the export")
    [export] = (await buying.client.get("/v1/forecasts/exports", headers=buying.auth())).json()[
        "items"
    ]
    assert export["target"] == "none" and export["rows"] >= 1  # no platform: kept for the baseline

    async def baseline() -> bool:
        listed = await buying.client.get("/v1/forecasts", headers=buying.auth())
        return bool(listed.json()["in_force"])

    await until(baseline, what="the baseline computed after the export")
    [version] = (await buying.client.get("/v1/forecasts", headers=buying.auth())).json()["items"]
    assert version["source"] == "baseline" and version["state"] == "applied"
