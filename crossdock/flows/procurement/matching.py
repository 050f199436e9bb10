"""Three-way match of a supplier's invoice against the purchase order and what was received.

Pure computation. Per SKU: the billed quantity (with what earlier bills billed) must not exceed
what was received by more than ``quantity_tolerance`` (Odoo's control policy "on received
quantities"), and the billed price must be within ``price_tolerance_percent`` of the order's. A
SKU not on the order is a difference too. No differences: the bill is made; otherwise accounts
payable gets the list.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from crossdock.model import Invoice

__all__ = ["three_way_match"]


def _num(value: Decimal) -> str:
    return format(value.normalize(), "f") if value != 0 else "0"


def three_way_match(
    invoice: Invoice,
    *,
    prices: Mapping[str, Decimal],
    received: Mapping[str, Decimal],
    billed_before: Mapping[str, Decimal],
    price_tolerance_percent: Decimal,
    quantity_tolerance: Decimal,
) -> list[str]:
    """The differences (empty: the invoice matches)."""
    differences: list[str] = []
    billed: dict[str, Decimal] = {}
    for index, line in enumerate(invoice.lines):
        if line.sku is None:
            differences.append(f"line {index + 1} ({line.description}): no SKU")
            continue
        if line.sku not in prices:
            differences.append(f"{line.sku}: not on the order")
            continue
        billed[line.sku] = billed.get(line.sku, Decimal(0)) + line.quantity
        ordered = prices[line.sku]
        limit = ordered * price_tolerance_percent / 100
        if abs(line.unit_price - ordered) > limit:
            differences.append(
                f"{line.sku}: price {_num(line.unit_price)}, ordered at {_num(ordered)}"
                f" (tolerance {_num(price_tolerance_percent)}%)"
            )
    for sku, quantity in billed.items():
        total = quantity + billed_before.get(sku, Decimal(0))
        got = received.get(sku, Decimal(0))
        if total > got + quantity_tolerance:
            differences.append(
                f"{sku}: {_num(total)} billed, {_num(got)} received"
                f" (tolerance {_num(quantity_tolerance)})"
            )
    return differences
