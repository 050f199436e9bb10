"""EDI end to end over a real SFTP server (asyncssh on 127.0.0.1) and the Odoo sandbox: a
customer's 850 left in their outbox → a sale order confirmed in Odoo → a 997 and an 855 in their
inbox → the shipment → an 856 → the invoice → an 810, each interchange with the next control
numbers; the customer's 997 on our 855 settles it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from crossdock.config.edi import EdiConfig
from crossdock.connectors.edi.transports import open_transport
from crossdock.connectors.edi.x12 import load
from crossdock.connectors.odoo import OdooClient, OdooOperations
from crossdock.engine import Engine, EngineSettings, Lane
from crossdock.flows.edi import store
from crossdock.flows.edi.documents import documents as edi_phases
from crossdock.flows.edi.events import subscription as edi_documents
from crossdock.flows.edi.service import EdiService, engine_writes
from crossdock.flows.order_to_cash import register
from crossdock.flows.tables import orders
from crossdock.migrations import upgrade
from tests.contract.odoo.conftest import Target, stocked_products
from tests.flows.edi.support import PASSWORD, PASSWORD_ENV, partner, sftp_server
from tests.flows.harness import Flow, flow_config


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)


def purchase_order(
    control: int, po: str, lines: list[tuple[str, int, str]], requested: str | None = None
) -> str:
    """The customer's 850 (004010), as their translator writes it; `requested`: the delivery
    date asked (DTM*002, CCYYMMDD)."""
    isa = (
        f"ISA*00*{'':10}*00*{'':10}*01*{'123456789':<15}*ZZ*{'CROSSDOCK':<15}*261205*0630*U*"
        f"00401*{control:09d}*0*P*>~"
    )
    body = [
        f"GS*PO*ACME*CROSSDOCK*20261205*0630*{control}*X*004010",
        "ST*850*0001",
        f"BEG*00*SA*{po}**20261205",
        "CUR*BY*USD",
        *([f"DTM*002*{requested}"] if requested else []),
        "N1*BY*Acme Stores*92*ACME-HQ",
        "N1*ST*Acme DC 4*92*DC4",
        "N3*1 Dock Road",
        "N4*Springfield*IL*62701*US",
    ]
    for n, (sku, qty, price) in enumerate(lines, start=1):
        body.append(f"PO1*{n}*{qty}*EA*{price}**VN*{sku}")
    body += [
        f"CTT*{len(lines)}",
        f"SE*{len(body) - 1 + 2}*0001",
        f"GE*1*{control}",
        f"IEA*1*{control:09d}",
    ]
    return isa + "~".join(body) + "~"


@pytest.fixture
async def hub(odoo: Target, tmp_path: Path) -> AsyncIterator[tuple[Flow, Engine]]:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    upgrade(url)
    ops = OdooOperations(OdooClient(odoo.settings(breaker_reset_s=0.2, retry_base_s=0.01)))
    engine = Engine(
        url,
        settings=EngineSettings(partitions=8, poll_interval_s=0.02),
        lanes=[Lane("orders", 10, 2), Lane("default", 0, 1)],
    )
    [subscription] = register(engine, ops, flow_config())
    yield Flow(engine, ops, subscription, odoo.kind), engine
    await engine.stop()
    await ops.aclose()


async def test_850_in_then_997_855_856_810_out_over_sftp(
    hub: tuple[Flow, Engine], tmp_path: Path
) -> None:
    flow, engine = hub
    uid = f"{time.time_ns() % 10**10}"
    a, b = await stocked_products(flow.ops, uid, {"A": 10, "B": 10})
    async with sftp_server(tmp_path / "sftp") as server:
        acme = partner(server.transport(), channel="edi-acme")
        config = EdiConfig(partners={"acme": acme})
        engine.subscribe(edi_documents(config, time.time, flow.ops))
        await engine.start()
        service = EdiService(
            config,
            engine.db,
            {"acme": open_transport("acme", acme)},
            edi_phases({"acme": acme}, partitions=lambda: engine.partitions),
            write=engine_writes(engine),
        )
        try:
            po = f"PO-{uid}"
            (server.root / "out" / "po.x12").write_text(
                purchase_order(7001, po, [(a, 2, "10.00"), (b, 1, "25.50")])
            )
            await service.run_once()
            [row] = await engine.db.read(lambda c: c.execute(select(orders)).all())
            assert (row.channel, row.external_ref) == ("edi-acme", po)
            released = await flow.wait_state(row.id, "released")
            [so] = released.erp["sale_orders"]
            assert so["state"] == "sale" and so["client_order_ref"] == f"edi-acme:{po}"
            await flow.wait_idle()
            await service.run_once()

            await flow.ship(row.id, [(a, "2"), (b, "1")])
            invoiced = await flow.wait_state(row.id, "invoiced")
            [invoice] = invoiced.erp["invoices"]
            await flow.wait_idle()
            await service.run_once()

            # The customer accepts our 855 (group 2) with their 997.
            (server.root / "out" / "997.x12").write_text(
                f"ISA*00*{'':10}*00*{'':10}*01*{'123456789':<15}*ZZ*{'CROSSDOCK':<15}*261205*"
                "0700*U*00401*000007002*0*P*>~GS*FA*ACME*CROSSDOCK*20261205*0700*7002*X*004010~"
                "ST*997*0001~AK1*PR*2~AK2*855*0002~AK5*A~AK9*A*1*1*1~SE*6*0001~GE*1*7002~"
                "IEA*1*000007002~"
            )
            await service.run_once()
        finally:
            await service.stop()

        sent = sorted((server.root / "in").iterdir(), key=lambda p: p.stem[-9:])
        assert [p.name for p in sent] == [
            "acme-997-000000001.x12",
            "acme-855-000000002.x12",
            "acme-856-000000003.x12",
            "acme-810-000000004.x12",
        ]
        documents = [load(p.read_bytes())[0] for p in sent]

    # Control numbers: ISA13, GS06 and ST02 each one up from the last.
    for n, interchange in enumerate(documents, start=1):
        assert interchange.control_number == f"{n:09d}"
        assert interchange.sender == ("ZZ", "CROSSDOCK")
        [group] = interchange.groups
        assert group.control_number == str(n)
        [transaction] = group.sets
        assert transaction.control_number == f"{n:04d}"
        assert transaction.result is not None and transaction.result.accepted, transaction.result
    ack, acknowledgement, notice, bill = (d.groups[0].sets[0] for d in documents)
    assert ack.find("AK1").get(2) == "7001"  # type: ignore[union-attr]
    assert ack.find("AK9").get(1) == "A"  # type: ignore[union-attr]
    assert acknowledgement.find("BAK").get(3) == po  # type: ignore[union-attr]
    statuses = [s.get(1) for s in acknowledgement.segments if s.id == "ACK"]
    assert statuses == ["IA", "IA"]
    assert notice.find("PRF").get(1) == po  # type: ignore[union-attr]
    shipped = {s.get(3): s for s in notice.segments if s.id == "LIN"}
    assert set(shipped) == {a, b}
    assert bill.find("BIG").get(2) == invoice["number"]  # type: ignore[union-attr]
    assert bill.find("BIG").get(4) == po  # type: ignore[union-attr]
    assert Decimal(bill.find("TDS").get(1)) == Decimal(invoice["total"]) * 100  # type: ignore[union-attr]

    out = await engine.db.read(lambda c: store.list_files(c, direction="out"))
    expected = {"997": "sent", "855": "acknowledged", "856": "sent", "810": "sent"}
    assert {f.detail["sets"][0]: f.state for f in out} == expected
    # 997s are not acknowledged; the others wait for the customer's 997.
    assert [f.next_attempt_at is None for f in out if f.detail["sets"] == ["997"]] == [True]
    assert all(f.next_attempt_at for f in out if f.detail["sets"] in (["856"], ["810"]))
