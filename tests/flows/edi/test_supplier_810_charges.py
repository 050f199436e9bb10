"""A supplier's 810 with a freight charge (summary ``SAC*C*D240``) over a directory drop: the
invoice matches, and its freight lands as the order's landed cost with the configured product
(MemoryErp, the hub's engine and API); the 810 sent again lands nothing more."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from crossdock.config.edi import EdiConfig
from crossdock.connectors.edi.transports import open_transport
from crossdock.flows.edi.documents import documents
from crossdock.flows.edi.service import EdiService, engine_writes
from crossdock.flows.procurement.landed import landed_key
from tests.flows.edi.support import partner, supplier_interchange
from tests.flows.procurement.conftest import serve
from tests.flows.procurement.test_landed_costs import LANDED, received, steps
from tests.flows.procurement.test_supplier_api import ordered_acme
from tests.support.waiting import until


async def test_810_freight_lands_once(db_url: str, tmp_path: Path) -> None:
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
    async with serve(db_url, LANDED) as b:
        b.erp.landed_costs.products = {"LC-FREIGHT": "by_quantity", "LC-DUTY": None}
        engine = b.hub.engine
        service = EdiService(
            config,
            engine.db,
            {"acme": open_transport("acme", acme)},
            documents({"acme": acme}, partitions=lambda: engine.partitions),
            write=engine_writes(engine),
        )
        ref = await ordered_acme(b)  # A: 38 at 4, B: 24 at 10
        await received(b, ref)
        body = [
            f"BIG*20261219*INV-77**{ref}",
            "IT1*1*38*EA*4**BP*A",
            "IT1*2*24*EA*10**BP*B",
            "TDS*41200",
            "SAC*C*D240***2500",
            "SAC*A*C310***500",
            "CTT*2",
        ]
        for control, name in ((21, "810.x12"), (22, "810-again.x12")):
            (folders["in"] / name).write_text(
                supplier_interchange(control, "IN", "810", body, sender="ACMESUP", gs_id="ACME")
            )
            await service.run_once()
            await until(engine.idle, what=f"{name} handled")
        await service.stop()
        key = landed_key("crossdock", ref, "ACME", "INV-77")
        assert list(b.erp.landed_costs.costs) == [key]
        [freight] = b.erp.landed_costs.requests[key].charges
        assert (freight.product_sku, freight.amount, freight.label) == (
            "LC-FREIGHT",
            Decimal("25.00"),
            "Freight INV-77",
        )
        assert [s["step"] for s in await steps(b, ref)][-2:] == ["billed", "landed-cost"]
