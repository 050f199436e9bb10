"""EDI files over HTTP (a real server on 127.0.0.1): listed newest first with filters and pages,
one by id, its bytes streamed, and bad queries answered with problems naming the parameter."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from crossdock.flows.edi import store
from crossdock.ops.audit import list_audit
from tests.api.conftest import Api, serve_api
from tests.flows.edi.support import interchange


@pytest.fixture
async def sqlite_api(tmp_path: Path) -> AsyncIterator[Api]:
    config = {"database": {"url": f"sqlite:///{tmp_path / 'hub.db'}"}, "api": {"port": 0}}
    async with serve_api(config) as running:
        yield running


def _keep(api: Api, partner: str, control: int, at: float, state: str = "received") -> str:
    data = interchange(control) + b"\n" * (store.CHUNK + 10)  # two chunks
    record, _ = api.hub.engine.db.write_sync(
        lambda c: store.store_file(
            c,
            partner=partner,
            direction="in",
            name=f"{control}.x12",
            spool=data,
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            state=state,
            now=at,
        )
    )
    return record.id


async def test_files_listed_paged_filtered_and_read(sqlite_api: Api) -> None:
    api = sqlite_api
    first = _keep(api, "acme", 1, 100.0)
    second = _keep(api, "acme", 2, 200.0, state="rejected")
    third = _keep(api, "globex", 3, 300.0)
    auth = api.auth("viewer")

    page = await api.client.get("/v1/edi/files", params={"limit": 2}, headers=auth)
    assert page.status_code == 200
    body = page.json()
    assert [f["id"] for f in body["items"]] == [third, second]
    rest = await api.client.get(
        "/v1/edi/files", params={"limit": 2, "cursor": body["next"]}, headers=auth
    )
    assert [f["id"] for f in rest.json()["items"]] == [first]
    assert rest.json()["next"] is None

    acme = await api.client.get(
        "/v1/edi/files", params={"partner": "acme", "state": "rejected"}, headers=auth
    )
    assert [f["id"] for f in acme.json()["items"]] == [second]

    one = await api.client.get(f"/v1/edi/files/{first}", headers=auth)
    assert one.status_code == 200
    view = one.json()
    assert (view["partner"], view["state"], view["name"]) == ("acme", "received", "1.x12")
    assert view["received_at"].startswith("1970-01-01T00:01:40")

    raw = await api.client.get(f"/v1/edi/files/{first}/content", headers=auth)
    assert raw.status_code == 200
    assert raw.headers["content-type"] == "application/edi-x12"
    assert raw.content == interchange(1) + b"\n" * (store.CHUNK + 10)


async def test_bad_queries_are_problems(sqlite_api: Api) -> None:
    api = sqlite_api
    auth = api.auth("viewer")
    missing = await api.client.get("/v1/edi/files/nope", headers=auth)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    state = await api.client.get("/v1/edi/files", params={"state": "pending"}, headers=auth)
    assert state.status_code == 400 and "state: must be one of" in state.json()["detail"]
    cursor = await api.client.get("/v1/edi/files", params={"cursor": "zzz"}, headers=auth)
    assert cursor.status_code == 400 and cursor.json()["detail"].startswith("cursor:")
    unknown = await api.client.get("/v1/edi/files", params={"partners": "acme"}, headers=auth)
    assert unknown.status_code == 400
    anonymous = await api.client.get("/v1/edi/files")
    assert anonymous.status_code == 401
    writer = await api.client.get("/v1/edi/files", headers=api.auth("reader"))
    assert writer.status_code == 403


async def test_dashboard_page_lists_files_with_state_and_reason(sqlite_api: Api) -> None:
    api = sqlite_api
    _keep(api, "acme", 1, 100.0)
    rejected = _keep(api, "acme", 2, 200.0, state="rejected")
    api.hub.engine.db.write_sync(
        lambda c: store.set_state(
            c, rejected, "rejected", now=201.0, reason="ISA13: duplicate interchange"
        )
    )
    form = await api.client.get("/ui/sign-in")
    nonce = re.search(r'name="nonce" value="([^"]+)"', form.text)
    assert nonce is not None
    signed = await api.client.post(
        "/ui/sign-in",
        data={"token": api.tokens["viewer"], "nonce": nonce.group(1), "next": "/ui/edi"},
    )
    assert signed.status_code == 303
    page = await api.client.get("/ui/edi", params={"state": "rejected"})
    assert page.status_code == 200
    assert 'data-testid="edi-files"' in page.text
    assert "ISA13: duplicate interchange" in page.text
    assert "1.x12" not in page.text  # filtered out
    everything = await api.client.get("/ui/edi")
    assert "1.x12" in everything.text and "2.x12" in everything.text


async def test_retry_puts_a_rejected_file_back_and_is_audited(sqlite_api: Api) -> None:
    api = sqlite_api
    rejected = _keep(api, "acme", 1, 100.0, state="rejected")
    received = _keep(api, "acme", 2, 200.0)
    ops = api.auth("ops")
    again = await api.client.post(f"/v1/edi/files/{rejected}/retry", headers=ops)
    assert again.status_code == 202
    assert (again.json()["state"], again.json()["attempts"]) == ("received", 0)
    refused = await api.client.post(f"/v1/edi/files/{received}/retry", headers=ops)
    assert refused.status_code == 409 and "only a rejected inbound" in refused.json()["detail"]
    missing = await api.client.post("/v1/edi/files/nope/retry", headers=ops)
    assert missing.status_code == 404
    viewer = await api.client.post(f"/v1/edi/files/{rejected}/retry", headers=api.auth("viewer"))
    assert viewer.status_code == 403
    entries = api.hub.engine.db.read_sync(lambda c: list_audit(c, subject=f"edi-file:{rejected}"))
    assert [(e.action, e.actor) for e in entries] == [("edi.file_retried", "token:ops")]
