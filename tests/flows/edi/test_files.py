"""The EDI file loop over a real SFTP server (asyncssh on 127.0.0.1) and a real SQLite file:
files picked up are stored raw before the partner's copy goes, processed once, duplicates of an
interchange recognised, failures retried then rejected with a reason and an exception, outbound
files sent with their control numbers and watched for their 997."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection

from crossdock.config.edi import EdiConfig, EdiPartner
from crossdock.connectors.edi.envelope import IsaHeader
from crossdock.connectors.edi.port import EdiTransport
from crossdock.connectors.edi.transports import open_transport
from crossdock.engine import Database
from crossdock.flows.edi import store
from crossdock.flows.edi.inbound import (
    Documents,
    FileOutcome,
    Retrying,
    TransportGaveUp,
    envelope_processor,
    poll_partner,
    process_due,
)
from crossdock.flows.edi.outbound import (
    ControlNumbers,
    acknowledge,
    check_acknowledgements,
    record_outbound,
    send_due,
)
from crossdock.flows.edi.service import EdiService
from crossdock.flows.exceptions import list_exceptions
from crossdock.retry import Backoff
from tests.flows.edi.support import PASSWORD, PASSWORD_ENV, interchange, partner, sftp_server

RETRYING = Retrying(3, Backoff(base_s=10.0, factor=2.0, max_s=100.0, jitter=0.0))


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)


def _files(db: Database, **filters: Any) -> list[store.EdiFile]:
    return db.read_sync(lambda c: store.list_files(c, **filters))


async def test_files_are_stored_then_removed_then_processed_once(
    db: Database, tmp_path: Path
) -> None:
    async with sftp_server(tmp_path / "server") as server:
        acme = partner(server.transport(archive="/archive"))
        out = server.root / "out"
        (out / "1.x12").write_bytes(interchange(1, po="PO-1"))
        (out / "2.x12").write_bytes(interchange(2, po="PO-2"))
        (out / "3.x12").write_bytes(interchange(1, po="PO-1-again"))  # ISA13 reused by them
        transport = open_transport("acme", acme)
        clock = Clock()
        try:
            stored = await poll_partner(db, "acme", transport, retrying=RETRYING, clock=clock)
            assert [f.name for f in stored] == ["1.x12", "2.x12", "3.x12"]
            assert all(f.state == "received" for f in stored)
            assert list(out.iterdir()) == []
            assert sorted(p.name for p in (server.root / "archive").iterdir()) == [
                "1.x12",
                "2.x12",
                "3.x12",
            ]
            raw = db.read_sync(lambda c: store.read_bytes(c, stored[1].id))
            assert raw == interchange(2, po="PO-2")

            # The same bytes left again (a crash before the archive): the file already stored.
            (out / "1-again.x12").write_bytes(interchange(1, po="PO-1"))
            assert await poll_partner(db, "acme", transport, retrying=RETRYING, clock=clock) == []
            assert len(_files(db)) == 3

            processor = envelope_processor({"acme": acme})
            assert await process_due(db, processor, retrying=RETRYING, clock=clock) == 3
            assert await process_due(db, processor, retrying=RETRYING, clock=clock) == 0
        finally:
            await transport.aclose()
    by_name = {f.name: f for f in _files(db)}
    assert by_name["1.x12"].state == "processed"
    assert by_name["1.x12"].interchange == "000000001"
    assert by_name["2.x12"].state == "processed"
    duplicate = by_name["3.x12"]
    assert duplicate.state == "rejected"
    assert duplicate.reason is not None
    assert "ISA13: duplicate interchange control number 000000001" in duplicate.reason
    assert by_name["1.x12"].id in duplicate.reason
    [opened] = db.read_sync(lambda c: list_exceptions(c, type="edi_file_rejected"))
    assert opened.subject == f"edi-file:{duplicate.id}"
    assert _files(db, partner="acme", state="rejected") == [duplicate]


async def test_envelope_of_another_party_is_rejected_with_the_element(
    db: Database, tmp_path: Path
) -> None:
    folders = {k: tmp_path / k for k in ("in", "out")}
    for folder in folders.values():
        folder.mkdir()
    acme = partner(
        {"kind": "directory", "inbound": str(folders["in"]), "outbound": str(folders["out"])}
    )
    (folders["in"] / "a").write_bytes(interchange(5, sender="999999999"))
    (folders["in"] / "b").write_bytes(interchange(6, usage="T"))
    (folders["in"] / "c").write_bytes(b"GS*PO*not an interchange~")
    clock = Clock()
    await poll_partner(db, "acme", open_transport("acme", acme), retrying=RETRYING, clock=clock)
    await process_due(db, envelope_processor({"acme": acme}), retrying=RETRYING, clock=clock)
    reasons = {f.name: (f.state, f.reason) for f in _files(db)}
    assert reasons["a"][0] == "rejected"
    assert (reasons["a"][1] or "").startswith("ISA05/ISA06: sender 01/999999999")
    assert (reasons["b"][1] or "").startswith("ISA15: usage indicator T")
    assert (reasons["c"][1] or "").startswith("ISA: the file does not start")


async def test_a_failing_processor_is_retried_then_rejected(db: Database, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    acme = partner(
        {"kind": "directory", "inbound": str(tmp_path / "in"), "outbound": str(tmp_path / "out")}
    )
    (tmp_path / "in" / "a").write_bytes(interchange(9))
    clock = Clock()
    await poll_partner(db, "acme", open_transport("acme", acme), retrying=RETRYING, clock=clock)
    calls: list[str] = []

    def sets(conn: Connection, file: store.EdiFile, isa: IsaHeader, now: float) -> FileOutcome:
        calls.append(isa.control)
        raise RuntimeError("mapping table locked")

    processor = envelope_processor({"acme": acme}, Documents(sets, _applied))
    assert await process_due(db, processor, retrying=RETRYING, clock=clock) == 1
    [file] = _files(db)
    assert (file.state, file.attempts) == ("received", 1)
    assert file.reason == "attempt 1 failed: RuntimeError: mapping table locked"
    assert file.next_attempt_at == clock.now + 10.0
    # Not due before its back-off has passed.
    assert await process_due(db, processor, retrying=RETRYING, clock=clock) == 0
    clock.now += 10.0
    await process_due(db, processor, retrying=RETRYING, clock=clock)
    clock.now += 20.0
    await process_due(db, processor, retrying=RETRYING, clock=clock)
    [file] = _files(db)
    assert file.state == "rejected"
    assert file.reason == "gave up after 3 attempts: RuntimeError: mapping table locked"
    assert file.next_attempt_at is None
    assert calls == ["000000009"] * 3
    # The failed attempts' effects were rolled back: the interchange may come again.
    [opened] = db.read_sync(lambda c: list_exceptions(c, type="edi_file_rejected"))
    assert "gave up after 3 attempts" in opened.reason

    # The cause fixed, an operator retries it: the same file, fresh attempts, processed once.
    calls.clear()
    db.write_sync(lambda c: store.retry(c, file.id, now=clock.now))
    working = envelope_processor({"acme": acme}, Documents(_parsed, _applied))
    while await process_due(db, working, retrying=RETRYING, clock=clock):
        pass
    [file] = _files(db)
    assert (file.state, file.attempts) == ("processed", 1)
    with pytest.raises(store.RetryRefused, match="is processed"):
        db.write_sync(lambda c: store.retry(c, file.id, now=clock.now))


async def test_server_down_is_retried_then_an_exception_nothing_received(
    db: Database, tmp_path: Path
) -> None:
    async with sftp_server(tmp_path / "server") as server:
        acme = partner(server.transport())
    # The server is gone: its port refuses connections.
    transport = open_transport("acme", acme)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    with pytest.raises(TransportGaveUp, match="listing"):
        await poll_partner(db, "acme", transport, retrying=RETRYING, sleep=sleep)
    assert waits == [10.0, 20.0]
    assert _files(db) == []
    [opened] = db.read_sync(lambda c: list_exceptions(c, type="edi_transport"))
    assert opened.subject == "edi-partner:acme"
    assert "after 3 attempts" in opened.reason


def _applied(conn: Connection, file: store.EdiFile, now: float) -> FileOutcome:
    return FileOutcome("processed")


def _parsed(conn: Connection, file: store.EdiFile, isa: IsaHeader, now: float) -> FileOutcome:
    return FileOutcome("parsed", detail={"sets": 1})


def _builder(numbers: ControlNumbers) -> bytes:
    return interchange(numbers.interchange, po=f"ST{numbers.sets[0]}")


async def test_outbound_sent_then_acknowledged_or_overdue(db: Database, tmp_path: Path) -> None:
    async with sftp_server(tmp_path / "server") as server:
        acme = partner(server.transport(), acknowledgement={"required": True, "within_h": 2})
        transport = open_transport("acme", acme)
        clock = Clock()
        try:
            records = [
                db.write_sync(
                    lambda c: record_outbound(
                        c, "acme", acme, _builder, sets=["855"], now=clock.now
                    )
                )
                for _ in range(3)
            ]
            assert [r.interchange for r in records] == ["000000001", "000000002", "000000003"]
            assert [r.group_control for r in records] == ["1", "2", "3"]
            assert [r.detail["st"] for r in records] == [[1], [2], [3]]
            sent = await send_due(
                db, {"acme": transport}, {"acme": acme}, retrying=RETRYING, clock=clock
            )
            assert sent == 3
        finally:
            await transport.aclose()
        inbox = sorted(p.name for p in (server.root / "in").iterdir())
        assert inbox == [f"acme-855-00000000{n}.x12" for n in (1, 2, 3)]
    assert {f.state for f in _files(db, direction="out")} == {"sent"}
    now = clock.now + 60
    db.write_sync(lambda c: acknowledge(c, "acme", "1", accepted=True, errors=[], now=now))
    db.write_sync(
        lambda c: acknowledge(
            c,
            "acme",
            "000000002",
            accepted=False,
            errors=["855 0002: AK3 N1 segment 4"],
            now=now,
        )
    )
    clock.now += 2 * 3600 + 1
    assert await check_acknowledgements(db, clock=clock) == 1
    states = {f.interchange: (f.state, f.reason) for f in _files(db, direction="out")}
    assert states["000000001"] == ("acknowledged", None)
    assert states["000000002"][0] == "ack_rejected"
    assert "855 0002: AK3 N1 segment 4" in (states["000000002"][1] or "")
    assert states["000000003"][0] == "ack_overdue"
    assert "no 997 for interchange 000000003" in (states["000000003"][1] or "")
    types = sorted(e.type for e in db.read_sync(lambda c: list_exceptions(c)))
    assert types == ["edi_ack_overdue", "edi_ack_rejected"]


async def test_sending_to_a_server_down_fails_after_the_limit(db: Database, tmp_path: Path) -> None:
    async with sftp_server(tmp_path / "server") as server:
        acme = partner(server.transport())
    transport = open_transport("acme", acme)
    clock = Clock()
    db.write_sync(lambda c: record_outbound(c, "acme", acme, _builder, sets=["810"], now=clock.now))
    for wait in (0.0, 10.0, 20.0):
        clock.now += wait
        await send_due(db, {"acme": transport}, {"acme": acme}, retrying=RETRYING, clock=clock)
    [file] = _files(db, direction="out")
    assert file.state == "failed"
    assert (file.reason or "").startswith("gave up after 3 attempts: sftp acme: put /in/")
    [opened] = db.read_sync(lambda c: list_exceptions(c, type="edi_send_failed"))
    assert opened.subject == f"edi-file:{file.id}"


async def test_service_round_over_a_directory_drop(db: Database, tmp_path: Path) -> None:
    for folder in ("in", "out"):
        (tmp_path / folder).mkdir()
    config = EdiConfig.model_validate(
        {
            "partners": {
                "acme": partner(
                    {
                        "kind": "directory",
                        "inbound": str(tmp_path / "in"),
                        "outbound": str(tmp_path / "out"),
                    }
                ).model_dump(mode="json")
            }
        }
    )
    acme: EdiPartner = config.partners["acme"]
    (tmp_path / "in" / "po.x12").write_bytes(interchange(11))
    db.write_sync(lambda c: record_outbound(c, "acme", acme, _builder, sets=["997"], now=1.0))
    transports: dict[str, EdiTransport] = {"acme": open_transport("acme", acme)}
    service = EdiService(config, db, transports)
    await service.run_once()
    states = {(f.direction, f.state) for f in _files(db)}
    assert states == {("in", "processed"), ("out", "sent")}
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["acme-997-000000001.x12"]


async def test_a_file_for_a_partner_no_longer_configured_fails_with_the_reason(
    db: Database, tmp_path: Path
) -> None:
    (tmp_path / "out").mkdir()
    acme = partner({"kind": "directory", "inbound": str(tmp_path), "outbound": str(tmp_path)})
    db.write_sync(lambda c: record_outbound(c, "acme", acme, _builder, sets=["855"], now=1.0))
    assert await send_due(db, {}, {}, retrying=RETRYING, clock=Clock()) == 0
    [file] = _files(db, direction="out")
    assert file.state == "failed"
    assert file.reason == "partner acme is not in the configuration any more"
    assert file.next_attempt_at is None
