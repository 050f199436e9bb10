"""The pure policy functions: fulfilment plans (properties with hypothesis), credit decisions,
price choice and company routing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crossdock.policy import (
    CreditRequest,
    FulfilmentRequest,
    credit_decisions,
    erp_may_create_customers,
    plan_fulfilment,
    plan_orders,
    route_company,
    unit_prices,
)

D = Decimal
ALL = ["preferred", "any_warehouse", "split", "backorder"]
WAREHOUSES = ["WH", "W2", "W3"]

quantities = st.integers(min_value=0, max_value=20).map(Decimal)
demands = st.dictionaries(
    st.sampled_from(["A", "B", "C"]), st.integers(1, 20).map(Decimal), min_size=1
)
stocks = st.dictionaries(
    st.sampled_from(WAREHOUSES), st.dictionaries(st.sampled_from(["A", "B", "C"]), quantities)
)
step_lists = st.lists(
    st.sampled_from(["preferred", "any_warehouse", "split"]), unique=True
).flatmap(lambda steps: st.sampled_from([steps, [*steps, "backorder"], [*steps, "reject"]]))


def total(plan_quantities: list[dict[str, Decimal]]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for quantities_of in plan_quantities:
        for sku, q in quantities_of.items():
            out[sku] = out.get(sku, D(0)) + q
    return out


@given(demands, stocks, step_lists)
def test_a_plan_ships_the_whole_demand_or_rejects(
    demand: dict[str, Decimal], stock: dict[str, dict[str, Decimal]], steps: list[str]
) -> None:
    plan = plan_fulfilment(demand, WAREHOUSES, stock, steps)
    if plan.rejected:
        assert not plan.allocations and "backorder" not in steps
        return
    assert plan.step in steps
    assert total([a.quantities for a in plan.allocations]) == demand
    assert len(set(plan.warehouses)) == len(plan.warehouses)
    for allocation in plan.allocations:
        for sku, q in allocation.quantities.items():
            free = stock.get(allocation.warehouse, {}).get(sku, D(0))
            assert q <= free + plan.backordered.get(sku, D(0))
    if plan.step != "backorder":
        assert plan.backordered == {}
    if plan.step in ("preferred", "any_warehouse"):
        assert len(plan.allocations) == 1


@given(demands, stocks)
def test_backorder_always_decides_and_backorders_only_what_is_missing(
    demand: dict[str, Decimal], stock: dict[str, dict[str, Decimal]]
) -> None:
    plan = plan_fulfilment(demand, WAREHOUSES, stock, ["split", "backorder"])
    assert not plan.rejected
    for sku, q in demand.items():
        free = sum((stock.get(w, {}).get(sku, D(0)) for w in WAREHOUSES), D(0))
        assert plan.backordered.get(sku, D(0)) == max(q - free, D(0))


@given(st.lists(demands, min_size=1, max_size=5), stocks)
def test_orders_planned_together_never_share_a_unit(
    orders: list[dict[str, Decimal]], stock: dict[str, dict[str, Decimal]]
) -> None:
    requests = [
        FulfilmentRequest(n, demand, WAREHOUSES, ["preferred", "any_warehouse", "split"])
        for n, demand in enumerate(orders)
    ]
    plans, left = plan_orders(requests, stock)
    taken = total([a.quantities for p in plans.values() for a in p.allocations])
    for sku, q in taken.items():
        assert q <= sum((stock.get(w, {}).get(sku, D(0)) for w in WAREHOUSES), D(0))
    assert all(q >= 0 for levels in left.values() for q in levels.values())


def test_fallbacks_in_order() -> None:
    stock = {"WH": {"A": D(2)}, "W2": {"A": D(5)}}
    assert plan_fulfilment({"A": D(2)}, ["WH", "W2"], stock, ALL).step == "preferred"
    other = plan_fulfilment({"A": D(4)}, ["WH", "W2"], stock, ALL)
    assert (other.step, other.warehouses) == ("any_warehouse", ["W2"])
    split = plan_fulfilment({"A": D(6)}, ["WH", "W2"], stock, ALL)
    assert [(a.warehouse, a.quantities) for a in split.allocations] == [
        ("WH", {"A": D(2)}),
        ("W2", {"A": D(4)}),
    ]
    late = plan_fulfilment({"A": D(9)}, ["WH", "W2"], stock, ALL)
    assert late.step == "backorder" and late.backordered == {"A": D(2)}
    assert [(a.warehouse, a.quantities) for a in late.allocations] == [
        ("WH", {"A": D(4)}),
        ("W2", {"A": D(5)}),
    ]
    rejected = plan_fulfilment({"A": D(4)}, ["WH", "W2"], stock, ["preferred", "reject"])
    assert rejected.rejected and rejected.shortage == {"A": D(2)}


def test_backorder_without_split_waits_in_the_preferred_warehouse() -> None:
    plan = plan_fulfilment({"A": D(5)}, ["WH"], {"WH": {"A": D(2)}}, ["preferred", "backorder"])
    assert [(a.warehouse, a.quantities) for a in plan.allocations] == [("WH", {"A": D(5)})]
    assert plan.backordered == {"A": D(3)}


def test_unlimited_skus_never_limit_a_plan() -> None:
    plan = plan_fulfilment(
        {"A": D(1), "SERVICE": D(3)},
        ["WH", "W2"],
        {"W2": {"A": D(1)}},
        ["preferred", "any_warehouse"],
        unlimited=frozenset({"SERVICE"}),
    )
    assert [(a.warehouse, a.quantities) for a in plan.allocations] == [
        ("W2", {"A": D(1), "SERVICE": D(3)})
    ]


def test_no_warehouse_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="warehouses"):
        plan_fulfilment({"A": D(1)}, [], {}, ALL)


def test_credit_counts_receivables_and_earlier_orders_of_the_batch() -> None:
    accounts = {1: (D(30), D(100)), 2: (D(500), D(0))}
    decisions = credit_decisions(
        [
            CreditRequest("a", 1, D(50)),
            CreditRequest("b", 1, D(30)),  # 30 + 50 + 30 > 100
            CreditRequest("c", 1, D(20)),  # 30 + 50 + 20 = 100: still within
            CreditRequest("d", 1, D(500), approved=True),
            CreditRequest("e", 2, D(10_000)),  # no limit
            CreditRequest("f", 3, D(1)),  # unknown account: no limit
        ],
        accounts,
    )
    assert {k: d.allowed for k, d in decisions.items()} == {
        "a": True,
        "b": False,
        "c": True,
        "d": True,
        "e": True,
        "f": True,
    }
    assert decisions["b"].exposure == D(110) and decisions["b"].limit == D(100)
    assert "over the credit limit" in decisions["b"].reason


@given(st.lists(st.integers(0, 100).map(Decimal), min_size=1, max_size=6), quantities, quantities)
def test_what_credit_allows_stays_within_the_limit(
    totals: list[Decimal], receivable: Decimal, limit: Decimal
) -> None:
    requests = [CreditRequest(n, "c", t) for n, t in enumerate(totals)]
    decisions = credit_decisions(requests, {"c": (receivable, limit)})
    allowed = sum((t for n, t in enumerate(totals) if decisions[n].allowed), D(0))
    if limit > 0:
        assert receivable + allowed <= limit or (allowed == 0 and receivable > limit)
    else:
        assert all(d.allowed for d in decisions.values())


def test_prices_per_channel_configuration() -> None:
    channel = {"A": D("12.50"), "B": D(3)}
    assert unit_prices("channel", channel, {"A": D(10)}) == channel
    assert unit_prices("pricelist", channel, {"A": D(10)}) == {"A": D(10), "B": D(3)}


def test_company_routing_precedence() -> None:
    assert route_company(channel="b2b", country="BE") is None
    by_channel: dict[str, int | str] = {"b2b": "B2B Co"}
    by_country: dict[str, int | str] = {"BE": 3}

    def route(channel: str, country: str, company: int | None = None) -> int | str | None:
        return route_company(
            channel=channel,
            country=country,
            channel_company=company,
            by_channel=by_channel,
            by_country=by_country,
        )

    assert route("b2b", "BE") == "B2B Co"
    assert route("web", "be") == 3
    assert route("b2b", "BE", 7) == 7
    assert route("web", "FR") is None


def test_customers_are_created_only_by_their_owner() -> None:
    assert erp_may_create_customers("odoo", "odoo")
    assert not erp_may_create_customers("crm", "odoo")
