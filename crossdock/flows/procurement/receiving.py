"""A warehouse receipt reconciled against the advance ship notices and the purchase order.

Pure computation. What is expected of a SKU is what its advance ship notices announced, else what
the order still has open (ordered less received before). Per line, with the tolerance of the SKU
or its supplier: more than ``over_percent`` over is an *over-receipt*; a SKU not on the order is
*unexpected*; a lot the notices did not announce (when they named lots) is a *lot mismatch* —
any of these holds the whole receipt for a person (never a silent over-receipt). Short within
``under_percent`` closes the line; shorter leaves a backorder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from crossdock.config.procurement import Tolerance
from crossdock.model import Receipt

__all__ = ["Reconciled", "reconcile_receipt"]

HUNDRED = Decimal(100)


@dataclass(slots=True)
class Reconciled:
    received: dict[str, Decimal] = field(default_factory=dict)
    expected: dict[str, Decimal] = field(default_factory=dict)
    over: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    lots: list[str] = field(default_factory=list)
    short_closed: list[str] = field(default_factory=list)
    short_open: list[str] = field(default_factory=list)

    @property
    def held(self) -> bool:
        return bool(self.over or self.unexpected or self.lots)

    @property
    def backorder(self) -> str:
        """``create`` while a line stays open beyond its tolerance, else ``cancel`` (close)."""
        return "create" if self.short_open else "cancel"

    def problems(self) -> list[str]:
        return [*self.over, *self.unexpected, *self.lots]


def _num(value: Decimal) -> str:
    return format(value.normalize(), "f") if value != 0 else "0"


def reconcile_receipt(
    receipt: Receipt,
    *,
    open_quantities: Mapping[str, Decimal],
    announced: Mapping[str, Decimal],
    announced_lots: Mapping[str, set[str]],
    tolerance: Callable[[str], Tolerance],
) -> Reconciled:
    """``open_quantities``: ordered less received before, per SKU on the order; ``announced``
    and ``announced_lots``: what the advance ship notices said, per SKU."""
    out = Reconciled()
    for line in receipt.lines:
        out.received[line.sku] = out.received.get(line.sku, Decimal(0)) + line.quantity
        if line.sku in open_quantities:
            lots = announced_lots.get(line.sku)
            named = [line.lot] if line.lot else list(line.serials)
            wrong = [x for x in named if lots and x not in lots]
            if wrong:
                out.lots.append(f"{line.sku}: lot/serial {', '.join(wrong)} not announced")
    for sku, got in out.received.items():
        if sku not in open_quantities:
            out.unexpected.append(f"{sku}: {_num(got)} received, not on the order")
            continue
        expected = announced.get(sku, open_quantities[sku])
        out.expected[sku] = expected
        rule = tolerance(sku)
        if got > expected * (1 + rule.over_percent / HUNDRED):
            out.over.append(
                f"{sku}: {_num(got)} received, {_num(expected)} expected "
                f"(over tolerance {_num(rule.over_percent)}%)"
            )
        elif got < expected:
            short = (expected - got) / expected * HUNDRED if expected else HUNDRED
            note = f"{sku}: {_num(got)} of {_num(expected)}"
            (out.short_closed if short <= rule.under_percent else out.short_open).append(note)
    return out
