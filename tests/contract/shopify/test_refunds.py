"""Refunds, cancellations and fulfilments made once on the shop port: ``refundCreate`` with
lines restocked where they were fulfilled and money paid back against the sale, a refund found
again by its key instead of a second one, ``orderCancel`` once, and a fulfilment an earlier
attempt made found instead of refused."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from crossdock.connectors.shopify.errors import ShopifyError
from crossdock.connectors.shopify.records import FulfilmentLine, RefundLine
from tests.contract.shopify.conftest import LOCATION, ShopifyTarget

DATA = Path(__file__).parents[2] / "flows" / "shopify" / "data"


def paid_order(shop: Any) -> dict[str, Any]:
    order: dict[str, Any] = json.loads((DATA / "order_python_api.json").read_text())
    order.update(id=shop.next_id(), financial_status="paid", gateway="bogus")
    placed: dict[str, Any] = shop.place(order)
    return placed


async def test_a_refund_restocks_where_fulfilled_and_pays_back_against_the_sale(
    target: ShopifyTarget,
) -> None:
    shop = target.shop
    shop.add_item("IPOD2008GREEN", {LOCATION: 5})
    placed = paid_order(shop)
    operations = target.operations()
    try:
        await operations.fulfil(
            str(placed["id"]),
            [
                FulfilmentLine("IPOD2008GREEN", Decimal(1)),
                FulfilmentLine("IPOD2008RED", Decimal(1)),
            ],
            carrier="UPS",
            tracking="1Z1",
        )
        made = await operations.refund(
            str(placed["id"]),
            "RMA-1",
            [RefundLine("IPOD2008GREEN", 1, restock=1), RefundLine("IPOD2008RED", 1)],
            amount=Decimal("398.00"),
            currency="USD",
            note="return RMA-1",
        )
        again = await operations.refund(
            str(placed["id"]),
            "RMA-1",
            [RefundLine("IPOD2008GREEN", 1, restock=1), RefundLine("IPOD2008RED", 1)],
            amount=Decimal("398.00"),
            currency="USD",
            note="return RMA-1",
        )
    finally:
        await operations.aclose()
    assert made.created and not again.created and again.id == made.id
    order = shop.order(int(placed["id"]))
    assert order is not None and len(order["refunds"]) == 1
    [refund] = order["refunds"]
    assert "[crossdock:RMA-1]" in refund["note"]
    assert [(r["sku"], r["quantity"], r["restock_type"]) for r in refund["refund_line_items"]] == [
        ("IPOD2008GREEN", 1, "return"),
        ("IPOD2008RED", 1, "no_restock"),
    ]
    assert refund["refund_line_items"][0]["location_id"] == 1
    [money] = refund["transactions"]
    assert money["kind"] == "refund" and money["amount"] == "398.00"
    assert money["parent_id"] == shop.transactions[int(placed["id"])][0]["id"]
    assert shop.available("IPOD2008GREEN", LOCATION) == 6
    assert order["financial_status"] == "partially_refunded"


async def test_a_refund_above_what_was_paid_or_refundable_is_refused(
    target: ShopifyTarget,
) -> None:
    shop = target.shop
    placed = paid_order(shop)
    operations = target.operations()
    try:
        with pytest.raises(ShopifyError, match="captured") as money:
            await operations.refund(
                str(placed["id"]),
                "RMA-2",
                [RefundLine("IPOD2008GREEN", 1)],
                amount=Decimal("1000.00"),
                currency="USD",
                note="",
            )
        with pytest.raises(ShopifyError, match="IPOD2008GREEN x1") as units:
            await operations.refund(
                str(placed["id"]),
                "RMA-3",
                [RefundLine("IPOD2008GREEN", 2)],
                amount=None,
                currency=None,
                note="",
            )
        with pytest.raises(ShopifyError) as currency:
            await operations.refund(
                str(placed["id"]),
                "RMA-4",
                [RefundLine("IPOD2008GREEN", 1)],
                amount=Decimal("1.00"),
                currency="EUR",
                note="",
            )
    finally:
        await operations.aclose()
    assert money.value.code == "NOT_CAPTURED" and units.value.code == "OVER_REFUND"
    assert currency.value.code == "CURRENCY"
    order = shop.order(int(placed["id"]))
    assert order is not None and order["refunds"] == []


async def test_an_order_is_cancelled_once(target: ShopifyTarget) -> None:
    shop = target.shop
    placed = paid_order(shop)
    operations = target.operations()
    try:
        first = await operations.cancel(
            str(placed["id"]), reason="OTHER", refund=True, restock=False, note="by the hub"
        )
        second = await operations.cancel(
            str(placed["id"]), reason="OTHER", refund=True, restock=False
        )
    finally:
        await operations.aclose()
    assert first is True and second is False
    order = shop.order(int(placed["id"]))
    assert order is not None and order["cancelled_at"] and order["cancel_reason"] == "other"
    assert order["financial_status"] == "refunded"


async def test_a_fulfilled_order_cannot_be_cancelled(target: ShopifyTarget) -> None:
    shop = target.shop
    placed = paid_order(shop)
    operations = target.operations()
    try:
        await operations.fulfil(
            str(placed["id"]),
            [FulfilmentLine("IPOD2008RED", Decimal(1))],
            carrier=None,
            tracking=None,
        )
        with pytest.raises(ShopifyError, match="fulfilled"):
            await operations.cancel(str(placed["id"]), reason="OTHER", refund=False, restock=False)
    finally:
        await operations.aclose()


async def test_a_fulfilment_made_before_a_crash_is_found_not_made_again(
    target: ShopifyTarget,
) -> None:
    shop = target.shop
    placed = paid_order(shop)
    lines = [FulfilmentLine("IPOD2008GREEN", Decimal(1))]
    operations = target.operations()
    try:
        made = await operations.fulfil(str(placed["id"]), lines, carrier="UPS", tracking="1Z9")
        again = await operations.fulfil(str(placed["id"]), lines, carrier="UPS", tracking="1Z9")
        other = await operations.fulfil(
            str(placed["id"]),
            [FulfilmentLine("IPOD2008RED", Decimal(1))],
            carrier=None,
            tracking=None,
        )
        untracked = await operations.fulfil(
            str(placed["id"]),
            [FulfilmentLine("IPOD2008RED", Decimal(1))],
            carrier=None,
            tracking=None,
        )
    finally:
        await operations.aclose()
    assert again == made and untracked == other
    assert len(shop.fulfilments_of(int(placed["id"]))) == 2
