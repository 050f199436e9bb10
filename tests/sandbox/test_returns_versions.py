"""Returns on Odoo 16, 17 and 19 as the sandbox plays them, driven through the connector: the
return wizard's method (``create_returns`` up to 17, with the return location and ``to_refund``
an onchange would set), the reversal's (``reverse_moves`` with ``refund_method`` on 16), and a
stock move without ``name`` on 19 — a delivery returned, scrapped and credited on each."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import pytest

from crossdock.connectors.odoo import OdooClient, OdooOperations
from crossdock.connectors.odoo.returns_records import ReturnDisposal
from crossdock.sandbox.odoo import SandboxServer
from tests.contract.odoo.conftest import order, stocked_products
from tests.sandbox.conftest import quick, settings_for


@pytest.fixture(scope="module", params=[16, 17, 19])
def server(request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    with SandboxServer(quick(version=request.param)) as s:
        yield s


@pytest.fixture
async def ops(server: SandboxServer) -> AsyncIterator[OdooOperations]:
    operations = OdooOperations(OdooClient(settings_for(server)))
    await operations.client.connect()
    try:
        yield operations
    finally:
        await operations.aclose()


async def test_a_delivery_is_returned_scrapped_and_credited(ops: OdooOperations) -> None:
    a, b = await stocked_products(ops, "v", {"A": 10, "B": 10})
    created = await ops.create_sale_orders([order("V-1", "c-v", [(a, "2"), (b, "1")])])
    order_id = created.done["web:V-1"].id
    await ops.confirm_sale_orders([order_id])
    [delivery] = await ops.delivery_pickings([order_id])
    await ops.process_picking(delivery.id, {a: Decimal(2), b: Decimal(1)})
    [invoice] = await ops.invoice_delivered([order_id])
    invoice_id = int(invoice.refs["odoo"])

    picking = await ops.create_return_picking("RMA-V", delivery.id, {a: Decimal(1), b: Decimal(1)})
    assert (await ops.receive_return(picking.id, {a: Decimal(1), b: Decimal(1)})).state == "done"
    names = await ops.dispose_returned(
        "RMA-V", picking.id, [ReturnDisposal(b, Decimal(1), "scrap")]
    )
    assert len(names) == 1
    lines = await ops.sale_order_lines([order_id])
    assert {line.sku: line.delivered for line in lines} == {a: 1, b: 0}
    note = await ops.create_credit_note("RMA-V", invoice_id, {a: Decimal(1)})
    assert note.state == "posted" and note.subtotal == 10
    [level] = await ops.stock_levels([b])
    assert level.on_hand == 9
