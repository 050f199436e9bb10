"""Asynchronous MDNs (RFC 4130 §7.3) against a local partner over real HTTP, both ways.

Inbound: a message asking ``Receipt-Delivery-Option`` is answered a bare 200 once stored, and its
MDN — signed, verified by ``openssl cms`` — is posted to the partner's URL by the
``edi-as2-mdn`` consumer group: after a restart between the two, again after the partner's URL
failed once, and as an exception plus a dead letter when it keeps failing.

Outbound (``mdn: async``): the file waits ``mdn_pending`` until the partner posts the MDN to
``POST /v1/edi/as2/{partner}/mdn``; a positive one with our MIC delivers it, a negative one fails
it with an exception naming the error, a forged one is refused (403) and changes nothing, a late
one counts as a failed attempt (sent again, then failed with an exception).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from crossdock.config import sqlalchemy_url, validate_config
from crossdock.config.edi import EdiPartner
from crossdock.connectors.edi.as2.async_mdn import post_mdn
from crossdock.connectors.edi.transports import open_transport
from crossdock.engine import Database, Engine, EngineSettings, Event, list_dead
from crossdock.engine.tables import events
from crossdock.flows.edi import store
from crossdock.flows.edi.as2_mdns import GROUP, subscription
from crossdock.flows.edi.inbound import Retrying
from crossdock.flows.edi.outbound import ControlNumbers, check_receipts, record_outbound, send_due
from crossdock.flows.exceptions import list_exceptions
from crossdock.retry import Backoff
from tests.api.conftest import serve_api
from tests.catalog.conformance import problems
from tests.connectors.edi.as2.conftest import Keys, profile
from tests.connectors.edi.as2.support import (
    MdnInbox,
    OwedMdn,
    Partner,
    partner_message,
    partner_server,
    read_mdn,
    split_smime,
)
from tests.flows.edi.support import interchange
from tests.support.waiting import until

RETRYING = Retrying(2, Backoff(base_s=10.0, factor=2.0, max_s=100.0, jitter=0.0))


@pytest.fixture
def inbox() -> Iterator[MdnInbox]:
    with partner_server(MdnInbox()) as running:
        yield running


def _config(tmp_path: Path, keys: Keys, partner: Partner) -> dict[str, Any]:
    return {
        "database": {"url": f"sqlite:///{tmp_path / 'hub.db'}"},
        "api": {"port": 0},
        "edi": {
            "max_attempts": 2,
            "retry": {"base_s": 0.05, "factor": 1, "max_s": 0.05},
            "partners": {"acme": profile(keys, partner.url)},
        },
    }


@asynccontextmanager
async def _worker(config: dict[str, Any]) -> AsyncIterator[Engine]:
    """A node running the ``edi-as2-mdn`` group on the hub's database (a restarted hub)."""
    cfg = validate_config(config)
    engine = Engine(sqlalchemy_url(cfg), settings=EngineSettings(poll_interval_s=0.02))
    engine.subscribe(subscription(cfg.edi, post_mdn))
    await engine.start(scheduler=False)
    try:
        yield engine
    finally:
        await engine.stop()


def _async_message(keys: Keys, inbox: MdnInbox, n: int = 1, **options: bool) -> Any:
    message = partner_message(
        interchange(4300 + n), keys.partner, keys.hub, message_id=f"<a{n}@acme.example>", **options
    )
    message.headers["Receipt-Delivery-Option"] = inbox.url
    return message


def _mdn_of(inbox: MdnInbox, keys: Keys, index: int = -1) -> Any:
    headers, body = inbox.received[index]
    assert headers["as2-from"] == "CROSSDOCK"
    assert headers["as2-to"] == '"ACME AS2"'
    return read_mdn(headers["content-type"], body, keys.hub)  # verified by openssl


def _disposition(fields: Any) -> str:
    return " ".join(str(fields["Disposition"]).split())  # unfolded


async def test_an_async_mdn_is_posted_after_a_restart(
    tmp_path: Path, keys: Keys, partner: Partner, inbox: MdnInbox
) -> None:
    config = _config(tmp_path, keys, partner)
    message = _async_message(keys, inbox)
    async with serve_api(config) as api:  # an API node: it stores and owes, sends nothing
        answer = await api.client.post(
            "/v1/edi/as2/acme", content=message.body, headers=message.headers
        )
        assert answer.status_code == 200, answer.text
        assert answer.content == b""
        [file] = await api.hub.engine.db.read(lambda c: store.list_files(c, direction="in"))
        assert file.state == "received"
        owed = await api.hub.engine.db.read(
            lambda c: c.execute(
                select(events.c.type, events.c.data).where(events.c.type == "edi.as2_mdn_due")
            ).all()
        )
    assert inbox.received == []  # the hub stopped before the MDN was sent
    # What it owes is the event the catalog describes.
    [(kind, data)] = owed
    assert (
        problems([Event("e", kind, "crossdock", "as2-mdn", datetime.now(UTC), json.loads(data))])
        == []
    )

    async with _worker(config):
        assert await asyncio.to_thread(inbox.arrived.wait, 60)
    fields = _mdn_of(inbox, keys)
    assert fields["Original-Message-ID"] == message.message_id
    assert fields["Received-Content-MIC"] == message.mic
    assert _disposition(fields).endswith("; processed")
    assert len(inbox.received) == 1


async def test_an_async_mdn_is_retried_when_the_partner_url_fails(
    tmp_path: Path, keys: Keys, partner: Partner, inbox: MdnInbox
) -> None:
    config = _config(tmp_path, keys, partner)
    inbox.statuses = [503]
    async with serve_api(config) as api, _worker(config):
        first = _async_message(keys, inbox)
        answer = await api.client.post(
            "/v1/edi/as2/acme", content=first.body, headers=first.headers
        )
        assert answer.status_code == 200
        assert await asyncio.to_thread(inbox.arrived.wait, 60)
    assert len(inbox.received) == 2  # the 503, then the MDN again
    assert _disposition(_mdn_of(inbox, keys)).endswith("; processed")


async def test_an_async_mdn_that_cannot_be_posted_is_an_exception_and_a_dead_letter(
    tmp_path: Path, keys: Keys, partner: Partner, inbox: MdnInbox
) -> None:
    config = _config(tmp_path, keys, partner)
    inbox.statuses = [500, 500]
    async with serve_api(config) as api, _worker(config) as worker:
        message = _async_message(keys, inbox)
        answer = await api.client.post(
            "/v1/edi/as2/acme", content=message.body, headers=message.headers
        )
        assert answer.status_code == 200

        async def dead() -> bool:
            return bool(await worker.db.read(lambda c: list_dead(c, group=GROUP)))

        await until(dead, what="the MDN's dead letter")
        [opened] = await worker.db.read(lambda c: list_exceptions(c, type="edi_as2_mdn_failed"))
    assert message.message_id in opened.reason
    assert "after 2 attempts" in opened.reason
    assert len(inbox.received) == 2
    [file] = Database(config["database"]["url"]).read_sync(
        lambda c: store.list_files(c, direction="in")
    )
    assert file.state == "received"  # the message itself stays accepted


@pytest.mark.parametrize(
    ("tamper", "disposition"),
    [
        ("undecryptable", "processed/error: decryption-failed"),
        ("duplicate", "processed/warning: duplicate-document"),
    ],
)
async def test_async_error_and_duplicate_mdns(
    tmp_path: Path, keys: Keys, partner: Partner, inbox: MdnInbox, tamper: str, disposition: str
) -> None:
    config = _config(tmp_path, keys, partner)
    message = _async_message(keys, inbox)
    async with serve_api(config) as api, _worker(config):
        if tamper == "duplicate":
            answer = await api.client.post(
                "/v1/edi/as2/acme", content=message.body, headers=message.headers
            )
            assert answer.status_code == 200
            assert await asyncio.to_thread(inbox.arrived.wait, 60)
            inbox.arrived.clear()
            body = message.body
        else:
            body = message.body[:-40] + bytes(40)  # the ciphertext damaged
        answer = await api.client.post("/v1/edi/as2/acme", content=body, headers=message.headers)
        assert answer.status_code == 200, answer.text
        assert await asyncio.to_thread(inbox.arrived.wait, 60)
        files = await api.hub.engine.db.read(lambda c: store.list_files(c, direction="in"))
    fields = _mdn_of(inbox, keys)
    assert fields["Original-Message-ID"] == message.message_id
    assert _disposition(fields).endswith(f"; {disposition}")
    assert len(files) == (1 if tamper == "duplicate" else 0)


async def test_a_receipt_delivery_option_that_is_no_url_is_a_problem(
    tmp_path: Path, keys: Keys, partner: Partner, inbox: MdnInbox
) -> None:
    message = _async_message(keys, inbox)
    message.headers["Receipt-Delivery-Option"] = "http://acme.example/a b"
    async with serve_api(_config(tmp_path, keys, partner)) as api:
        answer = await api.client.post(
            "/v1/edi/as2/acme", content=message.body, headers=message.headers
        )
        files = await api.hub.engine.db.read(lambda c: store.list_files(c, direction="in"))
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["pointer"] == "/headers/Receipt-Delivery-Option"
    assert files == []


# -- outbound: mdn: async -------------------------------------------------------------------------


def _builder(numbers: ControlNumbers) -> bytes:
    return interchange(numbers.interchange, po=f"PO-{numbers.interchange}")


@asynccontextmanager
async def _outbound(
    tmp_path: Path, keys: Keys, partner: Partner
) -> AsyncIterator[tuple[httpx.AsyncClient, Database, EdiPartner]]:
    """The hub's API, and the profile sending to ``partner`` with its MDNs coming back there."""
    async with serve_api(_config(tmp_path, keys, partner)) as api:
        mdn_url = str(api.client.base_url.join("/v1/edi/as2/acme/mdn"))
        acme = EdiPartner.model_validate(
            profile(keys, partner.url, mdn="async", mdn_url=mdn_url, mdn_within_s=600)
        )
        yield api.client, api.hub.engine.db, acme


async def _send(db: Database, acme: EdiPartner, now: float) -> store.EdiFile:
    transport = open_transport("acme", acme)
    try:
        await send_due(
            db, {"acme": transport}, {"acme": acme}, retrying=RETRYING, clock=lambda: now
        )
    finally:
        await transport.aclose()
    [file] = await db.read(lambda c: store.list_files(c, direction="out"))
    return file


async def _queue(db: Database, acme: EdiPartner) -> None:
    await db.write(lambda c: record_outbound(c, "acme", acme, _builder, sets=["855"], now=1000.0))


async def _post_owed(client: httpx.AsyncClient, owed: OwedMdn) -> httpx.Response:
    return await client.post(owed.url, content=owed.body, headers=owed.headers)


async def _file(db: Database) -> store.EdiFile:
    [file] = await db.read(lambda c: store.list_files(c, direction="out"))
    return file


async def test_an_async_mdn_delivers_the_file(tmp_path: Path, keys: Keys, partner: Partner) -> None:
    async with _outbound(tmp_path, keys, partner) as (client, db, acme):
        await _queue(db, acme)
        file = await _send(db, acme, 1000.0)
        assert file.state == "mdn_pending"
        assert file.next_attempt_at == 1600.0
        [owed] = partner.owed
        assert owed.url == acme.transport.mdn_url  # type: ignore[union-attr]
        assert partner.requests[0]["receipt-delivery-option"] == owed.url

        answer = await _post_owed(client, owed)
        assert answer.status_code == 200, answer.text
        file = await _file(db)
        again = await _post_owed(client, owed)  # a repeated MDN changes nothing
    assert file.state == "sent", file.reason
    assert file.detail["mdn"] == "processed"
    assert again.status_code == 404


async def test_a_negative_async_mdn_fails_the_file_with_an_exception(
    tmp_path: Path, keys: Keys, partner: Partner
) -> None:
    partner.answers = ["error"]
    async with _outbound(tmp_path, keys, partner) as (client, db, acme):
        await _queue(db, acme)
        await _send(db, acme, 1000.0)
        answer = await _post_owed(client, partner.owed[0])
        file = await _file(db)
        [opened] = await db.read(lambda c: list_exceptions(c, type="edi_send_failed"))
    assert answer.status_code == 200
    assert file.state == "failed"
    assert "processed/error: decryption-failed" in (file.reason or "")
    assert "processed/error: decryption-failed" in opened.reason


@pytest.mark.parametrize("answer", ["forged", "unsigned"])
async def test_an_mdn_not_signed_by_the_partner_is_refused(
    tmp_path: Path, keys: Keys, partner: Partner, answer: str
) -> None:
    partner.answers = [answer]
    async with _outbound(tmp_path, keys, partner) as (client, db, acme):
        await _queue(db, acme)
        await _send(db, acme, 1000.0)
        refused = await _post_owed(client, partner.owed[0])
        file = await _file(db)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert file.state == "mdn_pending"


async def test_an_mdn_with_another_mic_is_a_failed_attempt(
    tmp_path: Path, keys: Keys, partner: Partner
) -> None:
    partner.answers = ["bad_mic"]
    async with _outbound(tmp_path, keys, partner) as (client, db, acme):
        await _queue(db, acme)
        await _send(db, acme, 1000.0)
        answer = await _post_owed(client, partner.owed[0])
        file = await _file(db)
    assert answer.status_code == 200
    assert file.state == "queued"
    assert "MIC" in (file.reason or "")


async def test_no_async_mdn_in_time_is_retried_then_an_exception(
    tmp_path: Path, keys: Keys, partner: Partner
) -> None:
    async with _outbound(tmp_path, keys, partner) as (client, db, acme):
        await _queue(db, acme)
        await _send(db, acme, 1000.0)
        assert await check_receipts(db, retrying=RETRYING, clock=lambda: 1599.0) == 0
        assert await check_receipts(db, retrying=RETRYING, clock=lambda: 1600.0) == 1
        file = await _file(db)
        assert (file.state, file.attempts) == ("queued", 1)
        assert "no MDN for message" in (file.reason or "")

        file = await _send(db, acme, 1610.0)  # the back-off (10 s) has passed
        assert file.state == "mdn_pending"
        await check_receipts(db, retrying=RETRYING, clock=lambda: 2300.0)
        file = await _file(db)
        [opened] = await db.read(lambda c: list_exceptions(c, type="edi_send_failed"))
        late = await _post_owed(client, partner.owed[-1])  # too late: the file has failed
    assert file.state == "failed"
    assert "gave up after 2 attempts: no MDN for message" in opened.reason
    assert len(partner.received) == 2
    assert partner.requests[0]["message-id"] == partner.requests[1]["message-id"]
    assert late.status_code == 404


async def test_a_late_mdn_still_delivers_a_file_queued_again(
    tmp_path: Path, keys: Keys, partner: Partner
) -> None:
    async with _outbound(tmp_path, keys, partner) as (client, db, acme):
        await _queue(db, acme)
        await _send(db, acme, 1000.0)
        await check_receipts(db, retrying=RETRYING, clock=lambda: 1600.0)
        answer = await _post_owed(client, partner.owed[0])
        file = await _file(db)
    assert answer.status_code == 200
    assert file.state == "sent"


async def test_what_is_no_mdn_of_the_partner_is_a_problem(
    tmp_path: Path, keys: Keys, partner: Partner
) -> None:
    async with _outbound(tmp_path, keys, partner) as (client, db, acme):
        await _queue(db, acme)
        await _send(db, acme, 1000.0)
        owed = partner.owed[0]
        text = OwedMdn(owed.url, *split_smime(b"Content-Type: text/plain\r\n\r\nhello"), "<x>")
        report = OwedMdn(owed.url, "multipart/report; boundary=b", b"--b\r\n\r\nno--", "<x>")
        wrong_type = await _post_owed(client, text)
        garbage = await _post_owed(client, report)
        wrong_sender = await client.post(
            owed.url, content=owed.body, headers={**owed.headers, "AS2-From": "SOMEONE"}
        )
    assert wrong_type.status_code == 415
    assert garbage.status_code == 400
    assert garbage.json()["errors"][0]["pointer"] == "/headers/Content-Type"
    assert wrong_sender.status_code == 403
