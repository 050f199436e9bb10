"""Replenishment recommendations from the ERP's positions, reorder rules and supplier terms.

Pure computation, no I/O. For each SKU and warehouse:

- the *position* is on hand - reserved + incoming (what Odoo's forecast quantity counts);
- where a forecast exists (demand per day), it orders when the position does not cover the demand
  over the supplier's lead time plus ``safety_days``, up to that demand plus ``review_days``;
- otherwise a min/max rule (``stock.warehouse.orderpoint``) orders when the position is below
  ``min``, up to ``max`` (Odoo's own rule);
- the preferred supplier is the one with the lowest ``sequence`` (then the lowest price), as Odoo
  picks its vendor; the quantity is raised to its minimum and rounded up to the pack size (the
  configured one, else the rule's multiple).

Lines are grouped into one recommendation per supplier, warehouse and currency; each line says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

from crossdock.connectors.odoo.replenishment_records import (
    ReorderRule,
    ReplenishmentInputs,
    StockPosition,
    SupplierTerm,
)

__all__ = ["Line", "Recommendation", "Skipped", "recommend", "round_up"]

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Line:
    sku: str
    quantity: Decimal
    unit_price: Decimal
    reason: str


@dataclass(slots=True)
class Recommendation:
    supplier_ref: str
    warehouse: str
    currency: str
    lead_days: int = 0
    lines: list[Line] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.supplier_ref}|{self.warehouse}|{self.currency}"

    @property
    def amount(self) -> Decimal:
        return sum((ln.quantity * ln.unit_price for ln in self.lines), ZERO)


@dataclass(frozen=True, slots=True)
class Skipped:
    sku: str
    warehouse: str
    reason: str


def round_up(quantity: Decimal, multiple: Decimal) -> Decimal:
    if multiple <= 0:
        return quantity
    return (quantity / multiple).to_integral_value(ROUND_CEILING) * multiple


def _fmt(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def preferred(terms: Iterable[SupplierTerm]) -> dict[str, SupplierTerm]:
    """The preferred supplier term of each SKU."""
    best: dict[str, SupplierTerm] = {}
    for term in terms:
        current = best.get(term.sku)
        if current is None or (term.sequence, term.price, term.supplier_ref) < (
            current.sequence,
            current.price,
            current.supplier_ref,
        ):
            best[term.sku] = term
    return best


def _need(
    position: StockPosition,
    rule: ReorderRule | None,
    daily: Decimal | None,
    lead_days: int,
    safety_days: Decimal,
    review_days: Decimal,
    label: str = "forecast",
) -> tuple[Decimal, str] | None:
    level = position.on_hand - position.reserved + position.incoming
    stock = (
        f"position {_fmt(level)} (on hand {_fmt(position.on_hand)} - reserved "
        f"{_fmt(position.reserved)} + incoming {_fmt(position.incoming)})"
    )
    if rule is not None and daily is None:
        if level >= rule.min_qty:
            return None
        target = max(rule.max_qty, rule.min_qty)
        return target - level, (f"{stock} below min {_fmt(rule.min_qty)}: up to max {_fmt(target)}")
    if daily is None or daily <= 0:
        return None
    reorder_point = daily * (lead_days + safety_days)
    if level > reorder_point:
        return None
    target = daily * (lead_days + safety_days + review_days)
    if target <= level:
        return None
    return target - level, (
        f"{stock} covers at most the {label} {_fmt(daily.quantize(Decimal('0.001')))}/day over "
        f"lead time {lead_days} d + safety {_fmt(safety_days)} d: up to "
        f"{_fmt(target.quantize(Decimal('0.001')))} (+ {_fmt(review_days)} d review)"
    )


def recommend(
    inputs: ReplenishmentInputs,
    *,
    demand: Mapping[tuple[str, str], Decimal] | None = None,
    pack_sizes: Mapping[str, Decimal] | None = None,
    safety_days: Decimal = ZERO,
    review_days: Decimal = Decimal(7),
    forecast_label: str = "forecast",
) -> tuple[list[Recommendation], list[Skipped]]:
    """Recommendations per supplier and warehouse, and what needs stock but cannot be ordered.

    ``demand``: forecast demand per day by (warehouse, SKU), used instead of the reorder rule
    where it exists; ``forecast_label`` names the forecast in the lines' reasons.
    """
    demand = demand or {}
    packs = pack_sizes or {}
    rules = {(r.warehouse, r.sku): r for r in inputs.rules}
    suppliers = preferred(inputs.terms)
    grouped: dict[str, Recommendation] = {}
    skipped: list[Skipped] = []
    for position in sorted(inputs.positions, key=lambda p: (p.warehouse, p.sku)):
        key = (position.warehouse, position.sku)
        term = suppliers.get(position.sku)
        need = _need(
            position,
            rules.get(key),
            demand.get(key),
            term.lead_days if term else 0,
            safety_days,
            review_days,
            forecast_label,
        )
        if need is None:
            continue
        quantity, reason = need
        if term is None:
            skipped.append(Skipped(position.sku, position.warehouse, f"{reason}; no supplier"))
            continue
        notes = [f"{reason}; supplier {term.supplier_ref}"]
        if quantity < term.min_qty:
            quantity = term.min_qty
            notes.append(f"raised to the supplier's minimum {_fmt(term.min_qty)}")
        rule = rules.get(key)
        multiple = packs.get(position.sku) or (rule.multiple if rule else ZERO)
        if multiple > 1 or (multiple > 0 and quantity % multiple != 0):
            rounded = round_up(quantity, multiple)
            if rounded != quantity:
                notes.append(f"rounded up to packs of {_fmt(multiple)}")
            quantity = rounded
        quantity = quantity.quantize(Decimal("0.001"), ROUND_CEILING)
        rec = Recommendation(term.supplier_ref, position.warehouse, term.currency or "")
        rec = grouped.setdefault(rec.key, rec)
        rec.lead_days = max(rec.lead_days, term.lead_days)
        rec.lines.append(Line(position.sku, quantity, term.price, "; ".join(notes)))
    return sorted(grouped.values(), key=lambda r: r.key), skipped
