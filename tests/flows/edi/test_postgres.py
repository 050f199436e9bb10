"""The EDI file loop on PostgreSQL (a real server started for the session): a customer's 850
stored as bytea chunks, parsed and answered, then applied through the engine's writer, whose
append lock makes the order's event visible in commit order."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from crossdock.connectors.edi.transports import open_transport
from crossdock.engine import Engine, EngineSettings, events_table
from crossdock.flows.edi import store
from crossdock.flows.edi.documents import documents
from crossdock.flows.edi.inbound import Retrying, envelope_processor, poll_partner, process_due
from crossdock.flows.edi.service import engine_writes
from crossdock.flows.tables import orders
from tests.flows.edi.support import interchange, partner


async def test_an_850_becomes_an_order_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    for folder in ("in", "out"):
        (tmp_path / folder).mkdir()
    acme = partner(
        {"kind": "directory", "inbound": str(tmp_path / "in"), "outbound": str(tmp_path / "out")}
    )
    data = interchange(31, po="PO-PG-1") + b"\n" * (store.CHUNK + 1)
    (tmp_path / "in" / "po.x12").write_bytes(data)
    engine = Engine(pg_url, settings=EngineSettings(partitions=8))
    await engine.start(workers=False)
    try:
        db = engine.db
        await poll_partner(db, "acme", open_transport("acme", acme), retrying=Retrying())
        processor = envelope_processor(
            {"acme": acme}, documents({"acme": acme}, partitions=lambda: engine.partitions)
        )
        while await process_due(db, processor, retrying=Retrying(), write=engine_writes(engine)):
            pass
        [file] = await db.read(lambda c: store.list_files(c, direction="in"))
        stored = await db.read(lambda c: store.read_bytes(c, file.id))
        rows = await db.read(lambda c: c.execute(select(orders)).all())
        types = await db.read(lambda c: c.execute(select(events_table.c.type)).scalars().all())
        out = await db.read(lambda c: store.list_files(c, direction="out"))
    finally:
        await engine.stop()
    assert (file.state, file.detail["orders"]) == ("processed", 1)
    assert stored == data
    assert [(r.channel, r.external_ref) for r in rows] == [("edi-acme", "PO-PG-1")]
    assert list(types) == ["order.accepted"]
    assert [f.detail["sets"] for f in out] == [["997"]]
