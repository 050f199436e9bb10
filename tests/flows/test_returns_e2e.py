"""Returns end to end on the Odoo sandbox (and a real Odoo when ``CROSSDOCK_ODOO_*`` is set): an
order invoiced through order to cash, a return authorised (a return picking in Odoo), received
with one line restocked and one scrapped, and credited in part (a posted credit note); an
exchange becoming a replacement sale order; the ERP down while a return waits, then resumed
with one return picking. Workers run as in production; tests wait on conditions, not on time."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from crossdock.config.reconciliation import ReconciliationConfig
from crossdock.connectors.odoo import OdooClient, OdooOperations
from crossdock.engine import Engine, EngineSettings, Lane
from crossdock.flows.order_to_cash import register as register_o2c
from crossdock.flows.reconciliation.service import Reconciliation
from crossdock.flows.returns import register as register_returns
from crossdock.flows.returns.intake import confirm_receipt, request_return
from crossdock.flows.returns.request import ReturnReceipt, ReturnRequest
from crossdock.flows.returns.store import ReturnRecord, get_return, return_subject
from crossdock.migrations import upgrade
from tests.contract.odoo.conftest import Target, stocked_products
from tests.flows.harness import Flow, make_order
from tests.flows.returns.conftest import RETURNS, returns_config
from tests.support.waiting import until


@pytest.fixture
async def flow(odoo: Target, tmp_path: Path) -> AsyncIterator[Flow]:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    upgrade(url)
    ops = OdooOperations(
        OdooClient(odoo.settings(breaker_reset_s=0.2, retry_base_s=0.01, retry_attempts=2))
    )
    engine = Engine(
        url,
        settings=EngineSettings(partitions=8, poll_interval_s=0.02),
        lanes=[Lane("orders", 10, 2), Lane("default", 0, 1)],
    )
    config = returns_config()
    [orders] = register_o2c(engine, ops, config)
    register_returns(engine, ops, config)
    await engine.start(workers=True)
    try:
        yield Flow(engine, ops, orders, odoo.kind)
    finally:
        await engine.stop()
        await ops.aclose()


async def _invoiced(flow: Flow, uid: str, lines: list[tuple[str, str]]) -> str:
    [order_id] = await flow.accept(make_order(f"WS-{uid}", f"c-{uid}", lines))
    await flow.wait_state(order_id, "released", timeout=120)
    await flow.ship(order_id, lines)
    await flow.wait_state(order_id, "invoiced", timeout=120)
    return order_id


async def _ask(flow: Flow, **body: Any) -> str:
    request = ReturnRequest.model_validate(body)
    answer = await flow.engine.writer.submit(
        lambda conn: request_return(
            conn,
            request,
            RETURNS,
            actor="test",
            partitions=flow.engine.partitions,
            now=time.time(),
        ),
        appends=True,
    )
    assert answer.status == 202, answer
    return str(answer.body["rma"])


async def _receive(flow: Flow, rma: str, lines: list[dict[str, str]]) -> None:
    payload = ReturnReceipt.model_validate({"lines": lines}).model_dump(mode="json")
    answer = await flow.engine.writer.submit(
        lambda conn: confirm_receipt(
            conn, rma, payload, key=f"r:{rma}", actor="test", partitions=flow.engine.partitions
        ),
        appends=True,
    )
    assert answer.status == 202, answer


async def _wait(flow: Flow, rma: str, *states: str) -> ReturnRecord:
    async def reached() -> bool:
        found = await flow.engine.db.read(lambda c: get_return(c, rma))
        return found is not None and found.state in states

    await until(reached, 120, f"return {rma} in {states}")
    found = await flow.engine.db.read(lambda c: get_return(c, rma))
    assert found is not None
    return found


async def _emitted(flow: Flow, rma: str) -> list[str]:
    events = await flow.engine.events_after(0, 10_000, subject=return_subject(rma))
    return [e.type for e in events if e.source == "crossdock.returns"]


async def test_a_return_is_restocked_scrapped_and_credited_in_part(flow: Flow, uid: str) -> None:
    a, b = await stocked_products(flow.ops, uid, {"A": 10, "B": 10})
    order_id = await _invoiced(flow, uid, [(a, "3"), (b, "2")])
    rma = await _ask(
        flow,
        channel="web",
        return_ref=f"R-{uid}",
        order_id=order_id,
        outcome="refund",
        lines=[
            {"sku": a, "quantity": "2", "reason": "not_needed"},
            {"sku": b, "quantity": "1", "reason": "damaged"},
        ],
    )
    authorized = await _wait(flow, rma, "authorized")
    [picking] = authorized.erp["pickings"]
    [odoo_picking] = await flow.ops.client.search_read(
        "stock.picking",
        [["origin", "=", f"{rma}/{picking['delivery_id']}"]],
        ["picking_type_code", "state"],
    )
    assert odoo_picking["picking_type_code"] == "incoming"
    before = {lv.sku: lv.on_hand for lv in await flow.ops.stock_levels([a, b])}

    await _receive(
        flow,
        rma,
        [
            {"sku": a, "quantity": "2", "condition": "opened", "disposition": "restock"},
            {"sku": b, "quantity": "1", "condition": "damaged", "disposition": "scrap"},
        ],
    )
    refunded = await _wait(flow, rma, "refunded")

    after = {lv.sku: lv.on_hand for lv in await flow.ops.stock_levels([a, b])}
    assert after[a] == before[a] + 2 and after[b] == before[b]
    [note] = refunded.erp["credit_notes"]
    assert Decimal(note["subtotal"]) == 30 and note["state"] == "posted"
    [move] = await flow.ops.client.read(
        "account.move", [note["id"]], ["move_type", "state", "amount_untaxed"]
    )
    assert (move["move_type"], move["state"], move["amount_untaxed"]) == (
        "out_refund",
        "posted",
        30,
    )
    assert await _emitted(flow, rma) == ["return.authorized", "return.received", "return.refunded"]
    [refund_event] = [
        e
        for e in await flow.engine.events_after(0, 10_000, subject=return_subject(rma))
        if e.type == "return.refunded"
    ]
    assert [n["number"] for n in refund_event.data["credit_notes"]] == [note["number"]]
    assert refund_event.data["total"] == note["total"]
    syncs = [
        e for e in await flow.engine.events_after(0, 10_000) if e.type == "inventory.sync_requested"
    ]
    assert [e.data["publish"] for e in syncs] == [[a]]
    # reconciliation sees the return: the ERP delivers less than the hub shipped by as much
    config = returns_config().model_copy(
        update={
            "reconciliation": ReconciliationConfig.model_validate(
                {"invoices": {"invoice_after_s": 0}}
            )
        }
    )
    report = await Reconciliation(flow.engine, flow.ops, config).run("invoices", trigger="test")
    assert report.run.checked == 1 and report.items == []


async def test_an_exchange_becomes_a_replacement_sale_order(flow: Flow, uid: str) -> None:
    [a] = await stocked_products(flow.ops, uid, {"A": 10})
    order_id = await _invoiced(flow, uid, [(a, "2")])
    rma = await _ask(
        flow,
        channel="web",
        return_ref=f"X-{uid}",
        order_id=order_id,
        outcome="exchange",
        lines=[{"sku": a, "quantity": "1"}],
    )
    await _wait(flow, rma, "authorized")
    await _receive(
        flow, rma, [{"sku": a, "quantity": "1", "condition": "defective", "disposition": "scrap"}]
    )
    exchanged = await _wait(flow, rma, "exchanged")
    replacement = exchanged.erp["replacement"]
    released = await flow.wait_state(replacement["order_id"], "released", timeout=120)
    [so] = released.erp["sale_orders"]
    lines = await flow.ops.sale_order_lines([so["id"]])
    assert [(line.sku, line.quantity, line.price_unit) for line in lines] == [(a, 1, 0)]


async def test_the_erp_down_holds_a_return_which_resumes_with_one_picking(
    flow: Flow, odoo: Target, uid: str
) -> None:
    if odoo.server is None:
        pytest.skip("takes the ERP down: the sandbox's fault injection")
    [a] = await stocked_products(flow.ops, uid, {"A": 10})
    order_id = await _invoiced(flow, uid, [(a, "2")])
    httpx.post(f"{odoo.url}/sandbox/faults", json={"outage_s": 1.0}).raise_for_status()
    rma = await _ask(
        flow,
        channel="web",
        return_ref=f"D-{uid}",
        order_id=order_id,
        outcome="credit",
        lines=[{"sku": a, "quantity": "1"}],
    )
    authorized = await _wait(flow, rma, "authorized")
    [picking] = authorized.erp["pickings"]
    found = await flow.ops.client.search_read(
        "stock.picking", [["origin", "=", f"{rma}/{picking['delivery_id']}"]], ["id"]
    )
    assert len(found) == 1
    assert await flow.engine.dead_letters() == []
    assert await _emitted(flow, rma) == ["return.authorized"]
