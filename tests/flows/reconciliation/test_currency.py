"""Orders reconciliation values money in its currency: a sale order made in another currency than
the order's is a drift of the whole order (never 0.00 because the figures happen to match), and
the item's values name their currencies."""

from __future__ import annotations

import io
from decimal import Decimal

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console

from crossdock.flows.reconciliation.report import render, run_json
from crossdock.ops.metrics import REGISTRY
from tests.contract.odoo.conftest import stocked_products
from tests.contract.odoo.currencies import company_currency, second_currency
from tests.flows.reconciliation.conftest import MakeRecon


async def test_a_sale_order_in_another_currency_is_valued_at_the_whole_order(
    make_recon: MakeRecon, uid: str
) -> None:
    recon = await make_recon()
    foreign = await second_currency(recon.ops.client)
    home = await company_currency(recon.ops.client)
    [a] = await stocked_products(recon.ops, uid, {"A": 20})
    # the order said the second currency; its sale order was made in the company's (as before
    # the hub chose pricelists by currency), with the same figures
    order = recon.order("X", [(a, "2")], price="10").model_copy(update={"currency": foreign.code})
    order_id = await recon.accepted_without_event(order)
    customer = await recon.ops.find_or_create_customers([order.customer])
    product = (await recon.ops.resolve_products([a])).found[a].id
    await recon.ops.client.create(
        "sale.order",
        [
            {
                "partner_id": customer.done[f"{order.channel}:c-{uid}"],
                "client_order_ref": f"{order.channel}:{order.external_ref}",
                "order_line": [
                    (0, 0, {"product_id": product, "product_uom_qty": 2, "price_unit": 10})
                ],
            }
        ],
    )

    report = await recon.run("orders")

    [item] = report.items
    assert item.type == "order_total_mismatch" and item.subject == f"order:{order_id}"
    assert item.value == Decimal("20.00") and item.currency == foreign.code
    assert foreign.code in item.summary and home in item.summary
    assert item.details["currency"] == foreign.code
    assert item.details["erp_untaxed_by_currency"] == {home: "20.00"}
    assert item.details["erp_currencies"] == [home]
    assert _drift_value("order_total_mismatch", foreign.code) == 20.0
    [exception] = await recon.drift_exceptions()
    assert exception.owner == "finance" and f"made again in {foreign.code}" in exception.reason


def _drift_value(type_: str, currency: str) -> float | None:
    """The drift value gauge of a type in a currency, as scraped."""
    for family in text_string_to_metric_families(generate_latest(REGISTRY).decode()):
        for sample in family.samples:
            labels = sample.labels
            if sample.name == "crossdock_reconciliation_drift_value" and (
                labels.get("type"),
                labels.get("currency"),
            ) == (type_, currency):
                return float(sample.value)
    return None


async def test_an_invoice_in_another_currency_bills_nothing_in_the_orders(
    make_recon: MakeRecon, uid: str
) -> None:
    recon = await make_recon()
    foreign = await second_currency(recon.ops.client)
    [a] = await stocked_products(recon.ops, uid, {"A": 20})
    [order_id] = await recon.flow.accept(recon.order("I", [(a, "2")], price="10"))
    await recon.flow.wait_state(order_id, "released")
    await recon.flow.ship(order_id, [(a, "2")])
    invoiced = await recon.flow.wait_state(order_id, "invoiced")
    [invoice] = invoiced.erp["invoices"]
    home = invoice["currency"]
    # a person re-issued the invoice in the second currency, same figures
    if recon.flow.odoo == "real":
        await recon.ops.client.call("account.move", "button_draft", [invoice["id"]])
        await recon.ops.client.write("account.move", [invoice["id"]], {"currency_id": foreign.id})
        await recon.ops.client.call("account.move", "action_post", [invoice["id"]])
    else:
        await recon.ops.client.write("account.move", [invoice["id"]], {"currency_id": foreign.id})

    report = await recon.run("invoices")

    [item] = report.items
    assert item.type == "invoice_mismatch" and item.currency == home
    assert item.value == Decimal("20.00")
    assert foreign.code in item.summary and home in item.summary


async def test_a_runs_value_is_given_per_currency(make_recon: MakeRecon, uid: str) -> None:
    recon = await make_recon()
    foreign = await second_currency(recon.ops.client)
    [a] = await stocked_products(recon.ops, uid, {"A": 20})
    order = recon.order("R", [(a, "3")], price="10").model_copy(update={"currency": foreign.code})
    await recon.accepted_without_event(order)  # never reached the flow: missing in the ERP

    report = await recon.run("orders")

    assert run_json(report.run)["value_by_currency"] == {foreign.code: "30.00"}
    console = Console(width=300, record=True, file=io.StringIO())
    console.print(render(report))
    assert f"(value 30.00 {foreign.code})" in console.export_text()
