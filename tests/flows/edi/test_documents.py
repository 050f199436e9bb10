"""What inbound X12 does, on a real SQLite file through a directory drop: a customer's 850 (a
public sample, tests/connectors/edi/x12/data/node-x12_850.edi) becomes an order through the
intake every channel uses, once per partner and PO number, answered by a 997; a set with element
errors is rejected on its own, named in the 997's AK3/AK4 and in an exception; a broken envelope
is answered by a TA1 and imports nothing; a partner's 997 settles the group of ours it answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from crossdock.config.edi import EdiPartner
from crossdock.connectors.edi.transports import open_transport
from crossdock.connectors.edi.x12 import SetRead, load, parse
from crossdock.engine import Database, events_table
from crossdock.flows.edi import store
from crossdock.flows.edi.documents import documents, queue_sets
from crossdock.flows.edi.inbound import Retrying, envelope_processor, poll_partner, process_due
from crossdock.flows.exceptions import list_exceptions
from crossdock.flows.tables import orders
from crossdock.retry import Backoff
from tests.flows.edi.support import partner

SAMPLE = (
    Path(__file__).resolve().parents[2] / "connectors" / "edi" / "x12" / "data" / "node-x12_850.edi"
)
RETRYING = Retrying(3, Backoff(base_s=10.0, jitter=0.0))


@pytest.fixture
def folders(tmp_path: Path) -> dict[str, Path]:
    found = {k: tmp_path / k for k in ("in", "out")}
    for folder in found.values():
        folder.mkdir()
    return found


@pytest.fixture
def customer(folders: dict[str, Path]) -> EdiPartner:
    # The sample's own envelope: sender 12/4405197800, receiver 01/999999999.
    return partner(
        {"kind": "directory", "inbound": str(folders["in"]), "outbound": str(folders["out"])},
        ours={"isa_qualifier": "01", "isa_id": "999999999", "gs_id": "999999999"},
        theirs={"isa_qualifier": "12", "isa_id": "4405197800", "gs_id": "4405197800"},
        channel="edi-xyz",
    )


async def _round(db: Database, customer: EdiPartner, now: float = 1_000.0) -> None:
    transport = open_transport("xyz", customer)
    await poll_partner(db, "xyz", transport, retrying=RETRYING, clock=lambda: now)
    handlers = documents({"xyz": customer}, partitions=lambda: 8)
    processor = envelope_processor({"xyz": customer}, handlers)
    # Read and answered, then applied: two transactions.
    while await process_due(db, processor, retrying=RETRYING, clock=lambda: now):
        pass


def _outbound(db: Database) -> list[store.EdiFile]:
    return db.read_sync(lambda c: store.list_files(c, direction="out"))


async def test_an_850_becomes_one_order_and_is_answered_by_a_997(
    db: Database, folders: dict[str, Path], customer: EdiPartner
) -> None:
    sample = SAMPLE.read_bytes()
    (folders["in"] / "po.edi").write_bytes(sample)
    await _round(db, customer)
    [file] = db.read_sync(lambda c: store.list_files(c, direction="in"))
    assert (file.state, file.reason) == ("processed", None)
    assert file.detail["orders"] == 1
    rows = db.read_sync(lambda c: c.execute(select(orders)).all())
    assert [(r.channel, r.external_ref) for r in rows] == [("edi-xyz", "08292233294")]
    accepted = db.read_sync(
        lambda c: c.execute(
            select(events_table.c.type).where(events_table.c.type == "order.accepted")
        ).all()
    )
    assert len(accepted) == 1

    [ack] = _outbound(db)
    assert ack.state == "queued" and ack.detail["sets"] == ["997"]
    data = db.read_sync(lambda c: store.read_bytes(c, ack.id))
    [interchange] = load(data)
    assert interchange.sender == ("01", "999999999")
    assert interchange.control_number == "000000001"
    [group] = interchange.groups
    assert (group.functional_id, group.control_number) == ("FA", "1")
    [answer] = group.sets
    assert answer.id == "997" and answer.control_number == "0001"
    assert answer.find("AK1") is not None and answer.find("AK1").get(2) == "1421"  # type: ignore[union-attr]
    assert answer.find("AK9").get(1) == "A"  # type: ignore[union-attr]

    # The same PO re-sent in a new interchange: no second order, a second 997.
    again = sample.replace(b"000003438", b"000003439")
    (folders["in"] / "po-again.edi").write_bytes(again)
    await _round(db, customer, now=2_000.0)
    assert len(db.read_sync(lambda c: c.execute(select(orders)).all())) == 1
    files = {f.name: f for f in db.read_sync(lambda c: store.list_files(c, direction="in"))}
    assert files["po-again.edi"].state == "processed"
    assert files["po-again.edi"].detail["orders_again"] == 1
    assert [f.interchange for f in _outbound(db)] == ["000000002", "000000001"]


async def test_a_bad_set_is_rejected_alone_and_named(
    db: Database, folders: dict[str, Path], customer: EdiPartner
) -> None:
    sample = SAMPLE.read_text()
    # A second 850 in the same group whose PO1 quantity is not a number.
    start, end = sample.index("ST*850"), sample.index("GE*")
    second = (
        sample[start:end]
        .replace("000000010", "000000011")
        .replace("08292233294", "08292233295")
        .replace("PO1*2*220*EA", "PO1*2*2X0*EA")
    )
    broken = sample[:end] + second + sample[end:].replace("GE*1*1421", "GE*2*1421")
    (folders["in"] / "two.edi").write_text(broken)
    await _round(db, customer)
    [file] = db.read_sync(lambda c: store.list_files(c, direction="in"))
    assert file.state == "processed"
    assert file.detail["orders"] == 1 and file.detail["rejected_sets"] == 1
    assert "850 000000011" in (file.reason or "") and "PO1" in (file.reason or "")
    [opened] = db.read_sync(lambda c: list_exceptions(c, type="edi_set_rejected"))
    assert "850 000000011" in opened.reason and "PO102" in opened.reason
    [ack] = _outbound(db)
    answer = next(
        e.transaction_set
        for e in parse(db.read_sync(lambda c: store.read_bytes(c, ack.id)))
        if isinstance(e, SetRead)
    )
    ids = [s.id for s in answer.segments]
    assert ids.count("AK2") == 2 and "AK3" in ids and "AK4" in ids
    ak3 = answer.find("AK3")
    assert ak3 is not None and ak3.get(1) == "PO1"
    assert answer.find("AK9").get(1) == "P"  # type: ignore[union-attr]


async def test_a_broken_envelope_imports_nothing_and_is_answered_by_a_ta1(
    db: Database, folders: dict[str, Path], customer: EdiPartner
) -> None:
    broken = SAMPLE.read_bytes().replace(b"IEA*1*000003438", b"IEA*1*000009999")
    (folders["in"] / "bad.edi").write_bytes(broken)
    await _round(db, customer)
    [file] = db.read_sync(lambda c: store.list_files(c, direction="in"))
    assert file.state == "rejected" and (file.reason or "").startswith("TA1 001")
    assert db.read_sync(lambda c: c.execute(select(orders)).all()) == []
    [answer] = _outbound(db)
    assert answer.detail["sets"] == [] and answer.group_control is None
    [interchange] = load(db.read_sync(lambda c: store.read_bytes(c, answer.id)))
    [segment] = interchange.ta1
    assert (segment.get(1), segment.get(4), segment.get(5)) == ("000003438", "R", "001")


async def test_a_partners_997_settles_our_group(
    db: Database, folders: dict[str, Path], customer: EdiPartner
) -> None:
    from crossdock.connectors.edi.x12 import Segment, TransactionSet, st_header

    def _855(number: int) -> TransactionSet:
        return TransactionSet(
            st_header("855", number), [Segment.of("BAK", "00", "AD", "PO-1", "20261205")]
        )

    ours = db.write_sync(lambda c: queue_sets(c, "xyz", customer, "855", "PR", [_855], now=1.0))
    assert ours.group_control == "1"
    reply = (
        "ISA*01*0000000000*01*ABCCO     *12*4405197800     *01*999999999      *261205*0700*U*"
        "00401*000000077*0*P*>~GS*FA*4405197800*999999999*20261205*0700*77*X*004010~"
        "ST*997*0001~AK1*PR*1~AK2*855*0001~AK3*BAK*2**8~AK4*4*373*8*20261205~AK5*R*5~"
        "AK9*R*1*1*0~SE*8*0001~GE*1*77~IEA*1*000000077~"
    )
    (folders["in"] / "997.edi").write_text(reply)
    await _round(db, customer)
    [file] = db.read_sync(lambda c: store.list_files(c, direction="in"))
    assert file.state == "processed" and file.detail["acknowledgements"] == 1
    [settled] = [f for f in _outbound(db) if f.id == ours.id]
    assert settled.state == "ack_rejected"
    assert "855 0001: R" in (settled.reason or "")
    [opened] = db.read_sync(lambda c: list_exceptions(c, type="edi_ack_rejected"))
    assert opened.subject == f"edi-file:{ours.id}"
    # A 997 is not itself acknowledged: nothing queued in answer.
    assert [f.detail["sets"] for f in _outbound(db)] == [["855"]]
