"""Fulfilment: which warehouse(s) ship an order, from free stock and the channel's fallbacks.

The steps of a channel (``channels.<name>.fulfilment``) are tried in order — ``preferred``,
``any_warehouse``, ``split``, ``backorder``, ``reject`` (see
:data:`crossdock.config.schema.FulfilmentStep`); running out of steps rejects the order.
:func:`plan_orders` plans several orders against the same stock, each taking what it was given, so
two orders of one batch cannot both count on the last unit.

SKUs in ``unlimited`` (services, consumables: nothing to reserve) never limit a plan; they ship
with the first warehouse of the plan.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

Quantities = Mapping[str, Decimal]
Stock = Mapping[str, Quantities]
"""Free quantity per warehouse code, then per SKU (absent: none)."""

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Allocation:
    """What one warehouse ships of an order (backordered quantities included)."""

    warehouse: str
    quantities: dict[str, Decimal]


@dataclass(frozen=True, slots=True)
class FulfilmentPlan:
    step: str
    """The step that decided: preferred, any_warehouse, split, backorder or reject."""
    allocations: tuple[Allocation, ...] = ()
    backordered: dict[str, Decimal] = field(default_factory=dict)
    """Quantities that wait for stock (step ``backorder``)."""
    shortage: dict[str, Decimal] = field(default_factory=dict)
    """Per SKU, how much the preferred warehouse lacks (step ``reject``)."""

    @property
    def rejected(self) -> bool:
        return self.step == "reject"

    @property
    def warehouses(self) -> list[str]:
        return [a.warehouse for a in self.allocations]


@dataclass(frozen=True, slots=True)
class FulfilmentRequest:
    key: Hashable
    demand: Quantities
    warehouses: Sequence[str]
    steps: Sequence[str]
    unlimited: frozenset[str] = frozenset()


def _free(stock: Stock, warehouse: str, sku: str) -> Decimal:
    return max(stock.get(warehouse, {}).get(sku, _ZERO), _ZERO)


def _greedy(
    demand: Quantities, warehouses: Sequence[str], stock: Stock
) -> tuple[dict[str, dict[str, Decimal]], dict[str, Decimal]]:
    """Take each SKU from the warehouses in preference order; returns (taken, remainder)."""
    taken: dict[str, dict[str, Decimal]] = {}
    remainder: dict[str, Decimal] = {}
    for sku, wanted in demand.items():
        left = wanted
        for warehouse in warehouses:
            if left <= 0:
                break
            take = min(left, _free(stock, warehouse, sku))
            if take > 0:
                taken.setdefault(warehouse, {})[sku] = take
                left -= take
        if left > 0:
            remainder[sku] = left
    return taken, remainder


def _plan(
    step: str,
    per_warehouse: Mapping[str, Mapping[str, Decimal]],
    order: Sequence[str],
    extra: Quantities,
    backordered: Mapping[str, Decimal] | None = None,
) -> FulfilmentPlan:
    """A plan from quantities per warehouse; ``extra`` (unlimited SKUs) joins the first one."""
    allocations: list[Allocation] = []
    for warehouse in order:
        quantities = dict(per_warehouse.get(warehouse, {}))
        if not allocations and extra:
            quantities.update(extra)
        if quantities:
            allocations.append(Allocation(warehouse, quantities))
    return FulfilmentPlan(step, tuple(allocations), dict(backordered or {}))


def plan_fulfilment(
    demand: Quantities,
    warehouses: Sequence[str],
    stock: Stock,
    steps: Sequence[str],
    unlimited: frozenset[str] = frozenset(),
) -> FulfilmentPlan:
    """The plan for one order: the first step of ``steps`` that can fulfil ``demand``."""
    if not warehouses:
        raise ValueError("warehouses: at least one (the preferred) is needed")
    preferred = warehouses[0]
    limited = {s: q for s, q in demand.items() if s not in unlimited and q > 0}
    extra = {s: q for s, q in demand.items() if s in unlimited and q > 0}

    def fits(warehouse: str) -> bool:
        return all(_free(stock, warehouse, s) >= q for s, q in limited.items())

    for step in steps:
        if step == "preferred" and fits(preferred):
            return _plan(step, {preferred: limited}, [preferred], extra)
        if step == "any_warehouse":
            for warehouse in warehouses:
                if fits(warehouse):
                    return _plan(step, {warehouse: limited}, [warehouse], extra)
        if step == "split":
            taken, remainder = _greedy(limited, warehouses, stock)
            if not remainder:
                return _plan(step, taken, warehouses, extra)
        if step == "backorder":
            if "split" in steps:
                taken, remainder = _greedy(limited, warehouses, stock)
            else:
                taken = {
                    preferred: {s: min(q, _free(stock, preferred, s)) for s, q in limited.items()}
                }
                remainder = {s: q - taken[preferred][s] for s, q in limited.items()}
                remainder = {s: q for s, q in remainder.items() if q > 0}
            first = taken.setdefault(preferred, {})
            for sku, left in remainder.items():  # the rest waits in the preferred warehouse
                first[sku] = first.get(sku, _ZERO) + left
            return _plan(step, taken, warehouses, extra, remainder)
        if step == "reject":
            break
    shortage = {s: q - _free(stock, preferred, s) for s, q in limited.items()}
    return FulfilmentPlan("reject", shortage={s: q for s, q in shortage.items() if q > 0})


def consume(stock: Stock, plan: FulfilmentPlan) -> dict[str, dict[str, Decimal]]:
    """The stock left once ``plan`` has taken its share (never below zero)."""
    left = {warehouse: dict(levels) for warehouse, levels in stock.items()}
    for allocation in plan.allocations:
        levels = left.setdefault(allocation.warehouse, {})
        for sku, quantity in allocation.quantities.items():
            if sku in levels:
                levels[sku] = max(levels[sku] - quantity, _ZERO)
    return left


def plan_orders(
    requests: Sequence[FulfilmentRequest], stock: Stock
) -> tuple[dict[Hashable, FulfilmentPlan], dict[str, dict[str, Decimal]]]:
    """Plans for several orders in turn against shared stock; returns them and the stock left."""
    left = {warehouse: dict(levels) for warehouse, levels in stock.items()}
    plans: dict[Hashable, FulfilmentPlan] = {}
    for request in requests:
        plan = plan_fulfilment(
            request.demand, request.warehouses, left, request.steps, request.unlimited
        )
        plans[request.key] = plan
        left = consume(left, plan)
    return plans, left
