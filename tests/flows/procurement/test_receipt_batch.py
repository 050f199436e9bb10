"""The receipts of a batch go to the ERP together: one call per round (one receipt per order in
each), each with its own backorder policy; an order refused stops its later receipts only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import cast

from crossdock.connectors.memory import MemoryErp
from crossdock.connectors.odoo import OdooBusinessError
from crossdock.connectors.odoo.batching import BatchOutcome
from crossdock.connectors.odoo.port import ErpPort
from crossdock.connectors.odoo.records import BackorderPolicy, TransferResult
from crossdock.flows.procurement.receipt_batch import ReceiptToValidate, validate_receipts
from crossdock.model import Receipt
from tests.flows.procurement.conftest import seed, serve
from tests.flows.procurement.test_supplier_api import ordered_acme, receipt
from tests.support.waiting import until


class Recording(MemoryErp):
    """A MemoryErp that records each ``receive_many`` call and refuses one order."""

    def __init__(self, refuse: int) -> None:
        super().__init__()
        self.refuse = refuse
        self.calls: list[list[tuple[int, str, BackorderPolicy]]] = []

    async def receive_many(
        self,
        receipts: Sequence[tuple[int, Receipt]],
        *,
        backorder: BackorderPolicy | None = None,
        policies: Sequence[BackorderPolicy] | None = None,
    ) -> BatchOutcome[int, TransferResult]:
        assert policies is not None and len(policies) == len(receipts)
        self.calls.append(
            [(o, r.external_ref, p) for (o, r), p in zip(receipts, policies, strict=True)]
        )
        outcome = await super().receive_many(
            [(o, r) for o, r in receipts if o != self.refuse], policies=policies
        )
        if any(o == self.refuse for o, _ in receipts):
            outcome.failed[self.refuse] = OdooBusinessError("refused", record=str(self.refuse))
        return outcome


def item(message: str, order: int, policy: BackorderPolicy = "create") -> ReceiptToValidate:
    receipt = Receipt(
        external_ref=message,
        source="wms",
        warehouse="WH",
        received_at=datetime.now(UTC),
        lines=[{"sku": "A", "quantity": "1"}],
    )
    return ReceiptToValidate(message, f"rec-{order}", order, receipt, policy)


async def test_one_call_per_round_and_a_refused_order_stops_alone() -> None:
    erp = Recording(refuse=2)
    out = await validate_receipts(
        cast(ErpPort, erp),
        [
            item("m1", 1, "cancel"),
            item("m2", 2),
            item("m3", 1),  # the second receipt of order 1: next round
            item("m4", 3, "cancel"),
            item("m5", 2),  # after order 2's refused one: not sent
        ],
    )
    assert erp.calls == [
        [(1, "m1", "cancel"), (2, "m2", "create"), (3, "m4", "cancel")],
        [(1, "m3", "create")],
    ]
    assert set(out.done) == {"m1", "m3", "m4"}
    assert set(out.failed) == {"m2"} and out.refused_orders == {"rec-2"}
    assert erp.on_hand[("WH", "A")] == 3


async def test_nothing_to_validate_calls_nothing() -> None:
    erp = Recording(refuse=0)
    out = await validate_receipts(cast(ErpPort, erp), [])
    assert erp.calls == [] and out.done == {} and out.failed == {}


class RefusingOnce(MemoryErp):
    """Refuses the first receipts it is given (a picking Odoo will not validate yet)."""

    refused = 0

    async def receive_many(
        self,
        receipts: Sequence[tuple[int, Receipt]],
        *,
        backorder: BackorderPolicy | None = None,
        policies: Sequence[BackorderPolicy] | None = None,
    ) -> BatchOutcome[int, TransferResult]:
        if self.refused:
            return await super().receive_many(receipts, backorder=backorder, policies=policies)
        self.refused += 1
        outcome: BatchOutcome[int, TransferResult] = BatchOutcome()
        for order_id, _ in receipts:
            outcome.failed[order_id] = OdooBusinessError("locked", record=str(order_id))
        return outcome


async def test_a_refused_receipt_fails_its_event_and_is_received_once_later(db_url: str) -> None:
    erp = RefusingOnce()
    seed(erp)
    async with serve(db_url, {}, erp=erp) as b:
        b.erp = erp
        ref = await ordered_acme(b)  # A: 38
        grn = receipt(ref, "GRN-1", [{"sku": "A", "quantity": "38"}])
        r = await b.client.post(f"/v1/purchase-orders/{ref}/receipts", json=grn, headers=b.auth())
        assert r.status_code == 202, r.text

        async def received() -> bool:
            view = (await b.client.get(f"/v1/purchase-orders/{ref}", headers=b.auth())).json()
            return "received" in [s["step"] for s in view["timeline"]]

        await until(received, what="the receipt validated on its retry")
        assert erp.refused == 1
        assert erp.on_hand[("WH", "A")] == 2 + 38  # received once
