"""Procure-to-stock through EDI, end to end over a real SFTP server (asyncssh on 127.0.0.1) and
Odoo (the sandbox; a real Odoo 18/19 when ``CROSSDOCK_ODOO_*`` is set): a recommendation
approved → the purchase order created and confirmed in Odoo → an 850 in the supplier's inbox →
their 997 and their 855 with a changed line (Odoo's order follows) → their 856 → the warehouse's
receipt → their 810 → the vendor bill, matched. Each of our interchanges carries the next
control numbers; each document sent again (in a new interchange, or the same file again) is
recognised and changes nothing."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from crossdock.api.auth import create_token
from crossdock.app import create_app
from crossdock.commands.serve import _Server
from crossdock.config import validate_config
from crossdock.connectors.edi.transports import open_transport
from crossdock.connectors.edi.x12 import load
from crossdock.connectors.odoo import OdooClient, OdooOperations
from crossdock.flows.edi import store
from crossdock.flows.edi.documents import documents as edi_phases
from crossdock.flows.edi.purchase_orders import subscription as edi_purchase_orders
from crossdock.flows.edi.service import EdiService, engine_writes
from crossdock.flows.procurement import register
from crossdock.flows.procurement.tables import supplier_messages
from crossdock.hub import Hub, build_hub, migrate
from tests.contract.odoo.conftest import Target
from tests.flows.edi.support import (
    PASSWORD,
    PASSWORD_ENV,
    SftpServer,
    sftp_server,
    supplier_interchange,
)
from tests.flows.procurement.test_odoo_procurement import set_up
from tests.support.waiting import until

SUPPLIER_ISA = "BOLTSUPPLY"


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)


@pytest.fixture
async def ops(odoo: Target) -> AsyncIterator[OdooOperations]:
    operations = OdooOperations(OdooClient(odoo.settings()))
    await operations.client.connect()
    try:
        yield operations
    finally:
        await operations.aclose()


@dataclass
class Running:
    hub: Hub
    edi: EdiService
    client: httpx.AsyncClient
    auth: dict[str, str]


@asynccontextmanager
async def running(
    db_url: str, ops: OdooOperations, server: SftpServer, supplier: str, source: str
) -> AsyncIterator[Running]:
    cfg = validate_config(
        {
            "database": {"url": db_url},
            "api": {"port": 0},
            "procurement": {"warehouses": ["WH"], "source": source},
            "edi": {
                "partners": {
                    "bolt": {
                        "channel": "edi-bolt",
                        "supplier": supplier,
                        "ours": {
                            "isa_qualifier": "ZZ",
                            "isa_id": "CROSSDOCK",
                            "gs_id": "CROSSDOCK",
                        },
                        "theirs": {"isa_qualifier": "ZZ", "isa_id": SUPPLIER_ISA, "gs_id": "BOLT"},
                        "receive": ["855", "856", "810", "997"],
                        "send": ["850", "997"],
                        "transport": server.transport(),
                    }
                }
            },
        }
    )
    migrate(cfg)
    hub = build_hub(cfg)
    engine = hub.engine
    register(engine, ops, cfg)
    engine.subscribe(edi_purchase_orders(cfg.edi, time.time))
    partners = dict(cfg.edi.partners)
    edi = EdiService(
        cfg.edi,
        lambda: engine.db,
        {"bolt": open_transport("bolt", partners["bolt"])},
        edi_phases(partners, partitions=lambda: engine.partitions),
        write=engine_writes(engine),
    )
    await engine.start()
    token = await engine.writer.submit(
        lambda c: create_token(c, "buyer", ["purchasing:read", "purchasing:write"])
    )
    api = _Server(uvicorn.Config(create_app(hub), host="127.0.0.1", port=0, log_config=None))
    task = asyncio.create_task(api.serve())
    while not api.started:
        await asyncio.sleep(0.01)
    port = api.servers[0].sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield Running(hub, edi, client, {"Authorization": f"Bearer {token}"})
    finally:
        api.should_exit = True
        await task
        await edi.stop()
        await engine.stop()


def interchange(control: int, functional_id: str, body: list[str]) -> str:
    """The supplier's interchange around one set (``body`` from ST's id on)."""
    st, *segments = body
    return supplier_interchange(
        control, functional_id, st, segments, sender=SUPPLIER_ISA, gs_id="BOLT"
    )


def set_body(st: str, segments: list[str]) -> list[str]:
    return [st, *segments]


async def run_until(r: Running, condition: Any, what: str) -> None:
    """Rounds of the EDI loop (pick up, process, send) until ``condition`` holds."""

    async def done() -> bool:
        await until(r.hub.engine.idle, what="the consumers idle")
        await r.edi.run_once()
        await until(r.hub.engine.idle, what="the consumers idle")
        return bool(await condition())

    await until(done, what=what)


async def test_purchase_order_to_bill_over_edi(
    ops: OdooOperations, db_url: str, tmp_path: Path
) -> None:
    uid = uuid.uuid4().hex[:8]
    supplier, (a, b, _c) = await set_up(ops, uid)
    source = f"t{uid}"
    async with (
        sftp_server(tmp_path / "sftp") as server,
        running(db_url, ops, server, supplier, source) as r,
    ):
        # The recommendation, approved as computed (a: 38 at 4, b: 24 at 10).
        assert (await r.client.post("/v1/replenishment/runs", headers=r.auth)).status_code == 202
        await until(r.hub.engine.idle, what="the run")
        items = (await r.client.get("/v1/replenishment/recommendations", headers=r.auth)).json()
        [mine] = [i for i in items["items"] if i["supplier_ref"] == supplier]
        ref = mine["ref"]
        approved = await r.client.post(
            f"/v1/replenishment/recommendations/{ref}/approve", json={}, headers=r.auth
        )
        assert approved.status_code == 200, approved.text
        inbox = server.root / "in"
        await run_until(r, _has(inbox, "bolt-850-"), "the 850 in the supplier's inbox")
        [po] = await ops.client.search_read(
            "purchase.order",
            [["origin", "=", f"{source}:{ref}"]],
            ["name", "state", "order_line", "invoice_ids"],
        )
        assert po["state"] == "purchase"

        [sent] = load((inbox / "bolt-850-000000001.x12").read_bytes())
        assert sent.control_number == "000000001" and sent.groups[0].control_number == "1"
        [order] = sent.groups[0].sets
        assert order.control_number == "0001" and order.result is not None
        assert order.result.accepted, order.result
        assert order.find("BEG").get(3) == ref  # type: ignore[union-attr]
        ordered = {s.get(7): s.get(2) for s in order.segments if s.id == "PO1"}
        assert ordered == {a: "38", b: "24"}  # our SKUs as the buyer's part numbers (BP)

        # The supplier: its 997 for our 850, then an 855 changing line b (30 at 9.50, later).
        outbox = server.root / "out"
        (outbox / "997.x12").write_text(
            interchange(
                501, "FA", set_body("997", ["AK1*PO*1", "AK2*850*0001", "AK5*A", "AK9*A*1*1*1"])
            )
        )
        ack_855 = set_body(
            "855",
            [
                f"BAK*00*AC*{ref}*20261205****ACK-{uid}*20261205",
                f"N1*SU*Bolt Supply*92*{supplier}",
                f"PO1*1*38*EA*4**BP*{a}",
                "ACK*IA*38*EA",
                f"PO1*2*24*EA*9.5**BP*{b}",
                "ACK*IC*30*EA*068*20261220",
                "CTT*2",
            ],
        )
        (outbox / "855.x12").write_text(interchange(502, "PR", ack_855))
        await run_until(
            r, lambda: _steps(r, ref, "po-updated"), "the acknowledgement applied to Odoo"
        )
        lines = await ops.client.read(
            "purchase.order.line", po["order_line"], ["product_qty", "price_unit"]
        )
        assert sorted((ln["product_qty"], ln["price_unit"]) for ln in lines) == [
            (30.0, 9.5),
            (38.0, 4.0),
        ]
        # The same 855 again: in a new interchange (recognised by its BAK08), and the same
        # interchange again, with line breaks (recognised by its ISA13).
        (outbox / "855-again.x12").write_text(interchange(503, "PR", ack_855))
        (outbox / "855-same.x12").write_text(interchange(502, "PR", ack_855).replace("~", "~\n"))

        # Their 856: both lines shipped, a lot on a.
        asn = set_body(
            "856",
            [
                f"BSN*00*ASN-{uid}*20261215*1200*0004",
                "HL*1**S",
                "TD5**2*UPSN",
                "REF*CN*1Z999",
                "DTM*011*20261215",
                "DTM*017*20261218",
                "N1*ST*Warehouse*92*WH",
                "HL*2*1*O",
                f"PRF*{ref}",
                "HL*3*2*I",
                f"LIN*1*BP*{a}*LT*L-{uid}",
                "SN1**38*EA",
                "HL*4*2*I",
                f"LIN*2*BP*{b}",
                "SN1**30*EA",
                "CTT*2",
            ],
        )
        (outbox / "856.x12").write_text(interchange(504, "SH", asn))
        await run_until(r, lambda: _steps(r, ref, "shipped"), "the ship notice")
        (outbox / "856-again.x12").write_text(interchange(505, "SH", asn))

        # The warehouse receives what was announced.
        grn = {
            "external_ref": f"GRN-{uid}",
            "source": "wms",
            "warehouse": "WH",
            "purchase_order_ref": ref,
            "received_at": "2026-12-18T14:00:00Z",
            "lines": [
                {"sku": a, "quantity": "38", "lot": f"L-{uid}"},
                {"sku": b, "quantity": "30"},
            ],
        }
        got = await r.client.post(f"/v1/purchase-orders/{ref}/receipts", json=grn, headers=r.auth)
        assert got.status_code == 202, got.text
        await until(lambda: _steps(r, ref, "received"), what="the receipt validated")

        # Their 810 at the acknowledged prices: matched, the vendor bill made in Odoo.
        bill = set_body(
            "810",
            [
                f"BIG*20261219*INV-{uid}**{ref}",
                "CUR*SE*USD",
                f"N1*SU*Bolt Supply*92*{supplier}",
                f"IT1*1*38*EA*4**BP*{a}",
                f"IT1*2*30*EA*9.5**BP*{b}",
                "TDS*43700",
                "CTT*2",
            ],
        )
        (outbox / "810.x12").write_text(interchange(506, "IN", bill))
        await run_until(r, lambda: _steps(r, ref, "billed"), "the bill matched")
        (outbox / "810-again.x12").write_text(interchange(507, "IN", bill))
        await run_until(r, _has_none(outbox), "the duplicates picked up")
        [after] = await ops.client.read("purchase.order", [po["id"]], ["invoice_ids"])
        assert len(after["invoice_ids"]) == 1

        view = (await r.client.get(f"/v1/purchase-orders/{ref}", headers=r.auth)).json()
        steps = [s["step"] for s in view["timeline"]]
        assert steps == [
            "recommended",
            "approved",
            "ordered",
            "sent",
            "acknowledged",
            "po-updated",
            "shipped",
            "received",
            "billed",
        ]
        assert view["timeline"][3]["details"]["via"] == "edi"
        kinds = await r.hub.engine.db.read(
            lambda c: sorted(c.execute(supplier_messages.select()).all(), key=lambda m: m.kind)
        )
        assert [(m.kind, m.state) for m in kinds] == [
            ("acknowledgement", "applied"),
            ("bill", "applied"),
            ("receipt", "applied"),
            ("shipment", "received"),
        ]

        inbound = await r.hub.engine.db.read(lambda c: store.list_files(c, direction="in"))
        by_name = {f.name: f for f in inbound}
        assert by_name["855.x12"].detail["supplier_documents"] == 1
        for again in ("855-again.x12", "856-again.x12", "810-again.x12"):
            assert by_name[again].state == "processed"
            assert by_name[again].detail["supplier_documents_again"] == 1, again
        assert by_name["855-same.x12"].state == "rejected"
        assert "duplicate interchange control number" in (by_name["855-same.x12"].reason or "")

        # Our 850 was settled by their 997; each of their interchanges but the 997 answered.
        outbound = await r.hub.engine.db.read(lambda c: store.list_files(c, direction="out"))
        [ours] = [f for f in outbound if f.detail["sets"] == ["850"]]
        assert ours.state == "acknowledged"
        answers = sorted(
            (f for f in outbound if f.detail["sets"] == ["997"]), key=lambda f: f.interchange or ""
        )
        assert [f.interchange for f in answers] == [f"{n:09d}" for n in range(2, 2 + len(answers))]
        answered = [load((inbox / f.name).read_bytes())[0] for f in answers]
        acked = [i.groups[0].sets[0].find("AK1").get(2) for i in answered]  # type: ignore[union-attr]
        assert sorted(acked) == ["502", "503", "504", "505", "506", "507"]
        for n, doc in enumerate(answered, start=2):
            assert doc.groups[0].control_number == str(n)
            assert doc.groups[0].sets[0].control_number == f"{n:04d}"


def _has(folder: Path, prefix: str) -> Any:
    async def check() -> bool:
        return any(p.name.startswith(prefix) for p in folder.iterdir())

    return check


def _has_none(folder: Path) -> Any:
    async def check() -> bool:
        return not any(folder.iterdir())

    return check


async def _steps(r: Running, ref: str, step: str) -> bool:
    view = (await r.client.get(f"/v1/purchase-orders/{ref}", headers=r.auth)).json()
    return step in [s["step"] for s in view.get("timeline", [])]
