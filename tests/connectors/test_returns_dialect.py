"""The returns' version differences in the Odoo dialect: the return wizard's method (renamed in
18), its explicit values (return location and ``to_refund`` set by onchanges up to 17), the
reversal's method (one method with ``refund_method`` on 16), a stock move's ``name`` (dropped in
19)."""

from __future__ import annotations

from crossdock.connectors.odoo.dialect import dialect_for

LINE = {"product_id": 7, "quantity": 2.0, "move_id": 11}


def test_the_return_wizard_by_version() -> None:
    picking = {"id": 5, "location_id": [8, "WH/Stock"]}
    assert [dialect_for(v).return_wizard_method for v in (16, 17, 18, 19)] == [
        "create_returns",
        "create_returns",
        "action_create_returns",
        "action_create_returns",
    ]
    assert dialect_for(17).return_wizard_vals(picking, [LINE]) == {
        "picking_id": 5,
        "product_return_moves": [(0, 0, {**LINE, "to_refund": True})],
        "location_id": 8,
    }
    assert dialect_for(18).return_wizard_vals(picking, [LINE]) == {
        "picking_id": 5,
        "product_return_moves": [(0, 0, LINE)],
    }
    assert [dialect_for(v).has_return_id for v in (17, 18)] == [False, True]


def test_the_reversal_and_the_move_description_by_version() -> None:
    assert (dialect_for(16).reversal_method, dialect_for(16).reversal_vals()) == (
        "reverse_moves",
        {"refund_method": "refund"},
    )
    assert (dialect_for(17).reversal_method, dialect_for(19).reversal_vals()) == (
        "refund_moves",
        {},
    )
    assert dialect_for(18).move_description_vals("RMA-1/A") == {"name": "RMA-1/A"}
    assert dialect_for(19).move_description_vals("RMA-1/A") == {}
