"""A supplier's 855/856 over a directory drop into procure-to-stock (MemoryErp, the hub's engine
and API): rejected and backordered lines of an 855 (a rejected line goes to 0 on the order, a
backordered one keeps its quantity and takes the date); an 855 for an unknown order and an 856
with an item not on the order are refused, each named in the file's exception, nothing stored."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from crossdock.config.edi import EdiConfig
from crossdock.connectors.edi.transports import open_transport
from crossdock.flows.edi import store
from crossdock.flows.edi.documents import documents
from crossdock.flows.edi.service import EdiService, engine_writes
from crossdock.flows.exceptions import list_exceptions
from crossdock.flows.procurement.tables import supplier_messages
from tests.flows.edi.support import partner, supplier_interchange
from tests.flows.procurement.conftest import serve
from tests.flows.procurement.test_supplier_api import ordered_acme
from tests.support.waiting import until


def x12(control: int, functional_id: str, st: str, body: list[str]) -> str:
    return supplier_interchange(control, functional_id, st, body, sender="ACMESUP", gs_id="ACME")


async def test_supplier_855_statuses_and_refusals(db_url: str, tmp_path: Path) -> None:
    folders = {k: tmp_path / k for k in ("in", "out")}
    for folder in folders.values():
        folder.mkdir()
    acme = partner(
        {"kind": "directory", "inbound": str(folders["in"]), "outbound": str(folders["out"])},
        supplier="ACME",
        theirs={"isa_qualifier": "ZZ", "isa_id": "ACMESUP", "gs_id": "ACME"},
        receive=["855", "856", "810", "997"],
        send=["850", "997"],
    )
    config = EdiConfig(partners={"acme": acme})
    async with serve(db_url, {}) as b:
        engine = b.hub.engine
        service = EdiService(
            config,
            engine.db,
            {"acme": open_transport("acme", acme)},
            documents({"acme": acme}, partitions=lambda: engine.partitions),
            write=engine_writes(engine),
        )
        ref = await ordered_acme(b)  # A: 38 at 4, B: 24 at 10
        po = b.erp.purchase_orders[f"crossdock:{ref}"]
        (folders["in"] / "855.x12").write_text(
            x12(
                11,
                "PR",
                "855",
                [
                    f"BAK*00*AC*{ref}*20261205****ACK-11*20261205",
                    "PO1*1*38*EA*4**BP*A",
                    "ACK*IR",
                    "PO1*2*24*EA*10**BP*B",
                    "ACK*IB*10*EA*068*20261222",
                    "CTT*2",
                ],
            )
        )
        (folders["in"] / "855-unknown.x12").write_text(
            x12(12, "PR", "855", ["BAK*00*AD*REC-NOPE*20261205****ACK-12*20261205"])
        )
        (folders["in"] / "856-not-ordered.x12").write_text(
            x12(
                13,
                "SH",
                "856",
                [
                    "BSN*00*ASN-13*20261215*1200",
                    "HL*1**S",
                    "N1*ST*Warehouse*92*WH",
                    "HL*2*1*O",
                    f"PRF*{ref}",
                    "HL*3*2*I",
                    "LIN*1*BP*C",
                    "SN1**5*EA",
                    "CTT*1",
                ],
            )
        )
        await service.run_once()
        await until(engine.idle, what="the acknowledgement applied")
        changes = sorted(b.erp.purchase_line_changes[po.id], key=lambda c: c.sku)
        assert [(c.sku, c.quantity, c.expected_date) for c in changes] == [
            ("A", Decimal(0), None),
            ("B", None, date(2026, 12, 22)),
        ]
        files = {f.name: f for f in await engine.db.read(lambda c: store.list_files(c))}
        assert files["855.x12"].state == "processed"
        assert files["855-unknown.x12"].state == "rejected"
        assert "no purchase order REC-NOPE" in (files["855-unknown.x12"].reason or "")
        assert files["856-not-ordered.x12"].state == "rejected"
        assert f"lines/0/sku: C is not on purchase order {ref}" in (
            files["856-not-ordered.x12"].reason or ""
        )
        reasons = [
            e.reason
            for e in await engine.db.read(lambda c: list_exceptions(c, state="open"))
            if e.type == "edi_set_rejected"
        ]
        assert any("REC-NOPE" in r for r in reasons) and any("C is not on" in r for r in reasons)
        kinds = await engine.db.read(
            lambda c: [m.kind for m in c.execute(supplier_messages.select()).all()]
        )
        assert kinds == ["acknowledgement"]  # the refused ones stored nothing
        # Each interchange is answered by a 997 (accepted: the refusals are the business's).
        await service.run_once()
        await service.stop()
        answers = [p.name for p in folders["out"].iterdir()]
        assert sorted(answers) == [f"acme-997-{n:09d}.x12" for n in (1, 2, 3)]
