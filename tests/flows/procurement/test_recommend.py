"""Recommendations computed from positions, reorder rules and supplier terms (no I/O)."""

from __future__ import annotations

from decimal import Decimal

from crossdock.connectors.odoo.replenishment_records import (
    ReorderRule,
    ReplenishmentInputs,
    StockPosition,
    SupplierTerm,
)
from crossdock.flows.procurement.recommend import recommend, round_up

D = Decimal


def term(sku: str, supplier: str, **kw: object) -> SupplierTerm:
    values: dict[str, object] = {
        "sequence": 1,
        "min_qty": D(0),
        "price": D("2.5"),
        "currency": "USD",
        "lead_days": 5,
    }
    values.update(kw)
    return SupplierTerm(sku=sku, supplier_ref=supplier, **values)  # type: ignore[arg-type]


def pos(
    sku: str, on_hand: str, reserved: str = "0", incoming: str = "0", wh: str = "WH"
) -> StockPosition:
    return StockPosition(sku, wh, D(on_hand), D(reserved), D(incoming))


def test_min_max_orders_up_to_max_from_the_position() -> None:
    inputs = ReplenishmentInputs(
        rules=[ReorderRule("A", "WH", D(10), D(50))],
        terms=[term("A", "ACME")],
        positions=[pos("A", on_hand="8", reserved="3", incoming="2")],
    )
    [rec], skipped = recommend(inputs)
    assert skipped == []
    assert (rec.supplier_ref, rec.warehouse, rec.currency) == ("ACME", "WH", "USD")
    [line] = rec.lines
    assert line.quantity == D(43)  # 50 - (8 - 3 + 2)
    assert "position 7" in line.reason and "below min 10" in line.reason
    assert rec.amount == D("107.5")


def test_nothing_when_the_position_reaches_min() -> None:
    inputs = ReplenishmentInputs(
        rules=[ReorderRule("A", "WH", D(10), D(50))],
        terms=[term("A", "ACME")],
        positions=[pos("A", on_hand="6", incoming="4")],
    )
    assert recommend(inputs) == ([], [])


def test_supplier_minimum_then_pack_size() -> None:
    inputs = ReplenishmentInputs(
        rules=[ReorderRule("A", "WH", D(10), D(12), multiple=D(0))],
        terms=[term("A", "ACME", min_qty=D(30))],
        positions=[pos("A", on_hand="5")],
    )
    [rec], _ = recommend(inputs, pack_sizes={"A": D(24)})
    [line] = rec.lines
    assert line.quantity == D(48)
    assert "minimum 30" in line.reason and "packs of 24" in line.reason


def test_rule_multiple_rounds_when_no_pack_size_is_configured() -> None:
    inputs = ReplenishmentInputs(
        rules=[ReorderRule("A", "WH", D(10), D(20), multiple=D(6))],
        terms=[term("A", "ACME")],
        positions=[pos("A", on_hand="5")],
    )
    [rec], _ = recommend(inputs)
    assert rec.lines[0].quantity == D(18)


def test_preferred_supplier_is_the_lowest_sequence_then_price() -> None:
    inputs = ReplenishmentInputs(
        rules=[ReorderRule("A", "WH", D(1), D(5)), ReorderRule("B", "WH", D(1), D(5))],
        terms=[
            term("A", "CHEAP", sequence=2, price=D(1)),
            term("A", "FIRST", sequence=1, price=D(9)),
            term("B", "X", sequence=1, price=D(3)),
            term("B", "Y", sequence=1, price=D(2)),
        ],
        positions=[pos("A", "0"), pos("B", "0")],
    )
    recs, _ = recommend(inputs)
    assert {(r.supplier_ref, tuple(ln.sku for ln in r.lines)) for r in recs} == {
        ("FIRST", ("A",)),
        ("Y", ("B",)),
    }


def test_one_recommendation_per_supplier_and_warehouse() -> None:
    inputs = ReplenishmentInputs(
        rules=[
            ReorderRule("A", "WH", D(1), D(5)),
            ReorderRule("B", "WH", D(1), D(5)),
            ReorderRule("A", "W2", D(1), D(5)),
        ],
        terms=[term("A", "ACME"), term("B", "ACME")],
        positions=[pos("A", "0"), pos("B", "0"), pos("A", "0", wh="W2")],
    )
    recs, _ = recommend(inputs)
    assert [(r.warehouse, [ln.sku for ln in r.lines]) for r in recs] == [
        ("W2", ["A"]),
        ("WH", ["A", "B"]),
    ]


def test_a_sku_without_supplier_is_skipped_with_its_reason() -> None:
    inputs = ReplenishmentInputs(
        rules=[ReorderRule("A", "WH", D(10), D(20))], positions=[pos("A", "1")]
    )
    recs, [skipped] = recommend(inputs)
    assert recs == []
    assert skipped.sku == "A" and "no supplier" in skipped.reason


def test_forecast_over_lead_time_plus_safety_without_a_rule() -> None:
    inputs = ReplenishmentInputs(
        terms=[term("F", "ACME", lead_days=10)], positions=[pos("F", on_hand="25")]
    )
    demand = {("WH", "F"): D(3)}
    # reorder point 3 x (10 + 2) = 36 > 25: order up to 3 x (10 + 2 + 7) = 57
    [rec], _ = recommend(inputs, demand=demand, safety_days=D(2), review_days=D(7))
    assert rec.lines[0].quantity == D(32)
    assert "forecast 3/day" in rec.lines[0].reason
    # covered: nothing
    covered = ReplenishmentInputs(terms=inputs.terms, positions=[pos("F", on_hand="40")])
    assert recommend(covered, demand=demand, safety_days=D(2)) == ([], [])


def test_round_up() -> None:
    assert round_up(D(1), D(12)) == D(12)
    assert round_up(D(24), D(12)) == D(24)
    assert round_up(D("2.5"), D(0)) == D("2.5")
