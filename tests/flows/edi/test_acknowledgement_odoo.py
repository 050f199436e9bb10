"""The 855 to a customer says what Odoo's sale order holds (the sandbox on a real HTTP server,
a real Odoo when ``CROSSDOCK_ODOO_*`` is set): on a channel priced by Odoo's pricelist and
backordering what is short, a line at its list price is accepted, a line Odoo prices otherwise
is changed (PO104 Odoo's price), a line short of stock is backordered (ACK02 what ships now)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from crossdock.config.edi import EdiConfig
from crossdock.config.schema import ChannelPolicy
from crossdock.connectors.edi.transports import open_transport
from crossdock.connectors.edi.x12 import load
from crossdock.connectors.odoo import OdooClient, OdooOperations
from crossdock.engine import Engine, EngineSettings, Lane
from crossdock.flows.edi.documents import documents as edi_phases
from crossdock.flows.edi.events import subscription as edi_documents
from crossdock.flows.edi.service import EdiService, engine_writes
from crossdock.flows.order_to_cash import register
from crossdock.flows.tables import orders
from crossdock.migrations import upgrade
from tests.contract.odoo.conftest import Target, stocked_products
from tests.flows.edi.support import partner
from tests.flows.edi.test_end_to_end import purchase_order
from tests.flows.harness import Flow, flow_config

CHANNEL = ChannelPolicy(
    pricing="pricelist", warehouses=["WH"], fulfilment=["preferred", "backorder"]
)


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
    [subscription] = register(engine, ops, flow_config(**{"edi-acme": CHANNEL}))
    yield Flow(engine, ops, subscription, odoo.kind), engine
    await engine.stop()
    await ops.aclose()


async def test_855_says_what_odoo_confirmed(hub: tuple[Flow, Engine], tmp_path: Path) -> None:
    flow, engine = hub
    uid = f"{time.time_ns() % 10**10}"
    a, b, c = await stocked_products(flow.ops, uid, {"A": 10, "B": 10, "C": 1})
    folders = {k: tmp_path / k for k in ("in", "out")}
    for folder in folders.values():
        folder.mkdir()
    acme = partner(
        {"kind": "directory", "inbound": str(folders["in"]), "outbound": str(folders["out"])}
    )
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
        asked = (date.today() + timedelta(days=12)).strftime("%Y%m%d")
        # list prices are 10: A asks 10, B asks 12.50, C wants 4 of the 1 in stock
        (folders["in"] / "po.x12").write_text(
            purchase_order(
                7101, po, [(a, 2, "10.00"), (b, 1, "12.50"), (c, 4, "10.00")], requested=asked
            )
        )
        await service.run_once()
        [row] = await engine.db.read(lambda conn: conn.execute(select(orders)).all())
        await flow.wait_state(row.id, "released")
        await flow.wait_idle()
        await service.run_once()
    finally:
        await service.stop()
    [sent] = [p for p in folders["out"].iterdir() if "-855-" in p.name]
    [acknowledgement] = load(sent.read_bytes())[0].groups[0].sets
    assert acknowledgement.find("BAK").get(2) == "AC"  # type: ignore[union-attr]
    lines = [
        (s.id, s.get(1), s.get(2), s.get(4), s.get(7) if s.id == "PO1" else s.get(5))
        for s in acknowledgement.segments
        if s.id in ("PO1", "ACK")
    ]
    # Each line is promised for the day asked: the 850's date became the order's delivery date.
    assert lines == [
        ("PO1", "1", "", "10", a),
        ("ACK", "IA", "", "017", asked),
        ("PO1", "2", "", "10", b),
        ("ACK", "IC", "", "017", asked),
        ("PO1", "3", "", "10", c),
        ("ACK", "IB", "1", "017", asked),
    ]
