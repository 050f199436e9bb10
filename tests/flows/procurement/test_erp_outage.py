"""The ERP down while orders are placed: the consumer waits and resumes, nothing is lost or
doubled (a MemoryErp that fails its first calls as Odoo does when unreachable)."""

from __future__ import annotations

from collections.abc import Sequence

from crossdock.connectors.memory import MemoryErp
from crossdock.connectors.odoo import OdooTransientError
from crossdock.connectors.odoo.batching import BatchOutcome
from crossdock.connectors.odoo.records import PurchaseRef
from crossdock.model import PurchaseOrder
from tests.flows.procurement.conftest import seed, serve
from tests.flows.procurement.test_replenishment_api import run_and_list
from tests.support.waiting import until


class FlakyErp(MemoryErp):
    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def create_purchase_orders(
        self, orders: Sequence[PurchaseOrder]
    ) -> BatchOutcome[str, PurchaseRef]:
        if self.failures > 0:
            self.failures -= 1
            raise OdooTransientError("connection refused")
        return await super().create_purchase_orders(orders)


async def test_orders_wait_for_the_erp_and_are_placed_once(db_url: str) -> None:
    erp = FlakyErp(failures=2)
    seed(erp)
    async with serve(db_url, {}, erp=erp) as b:
        acme, bolt = await run_and_list(b)
        for rec in (acme, bolt):
            r = await b.client.post(
                f"/v1/replenishment/recommendations/{rec['ref']}/approve", json={}, headers=b.auth()
            )
            assert r.status_code == 200

        async def both_placed() -> bool:
            items = (
                await b.client.get("/v1/replenishment/recommendations", headers=b.auth())
            ).json()["items"]
            return all(i["state"] == "ordered" for i in items)

        await until(both_placed, what="both orders placed after the outage")
        assert erp.failures == 0
        assert sorted(erp.purchase_orders) == sorted(
            [f"crossdock:{acme['ref']}", f"crossdock:{bolt['ref']}"]
        )
        assert all(p.state == "purchase" for p in erp.purchase_orders.values())
