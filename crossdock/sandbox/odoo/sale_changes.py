"""A confirmed sale order's lines changing, as Odoo's ``sale`` and ``sale_stock`` answer it.

* a line's quantity written on a confirmed order: its open delivery move follows (never below
  what was delivered: "Create a return first"), reserved again;
* a line added to a confirmed order: a move for it in the order's open delivery (a new delivery
  when none is open);
* a line of a confirmed order cannot be deleted ("Set the quantity to 0 instead");
* a locked order's (17+, ``locked``) lines cannot change.
"""

from __future__ import annotations

from typing import Any

from crossdock.sandbox.odoo.documents import add_delivery_moves, new_delivery
from crossdock.sandbox.odoo.errors import UserError
from crossdock.sandbox.odoo.orm import Env
from crossdock.sandbox.odoo.stock_logic import (
    picking_state,
    release_line,
    reserve_move,
)
from crossdock.sandbox.odoo.store import Record

__all__ = ["sale_line_after_create", "sale_line_before_unlink", "sale_line_before_write"]

_EPS = 1e-9
_PROTECTED = {"product_id": "Product", "product_uom_qty": "Quantity", "price_unit": "Unit Price"}


def _goods(env: Env, line: Record) -> bool:
    if not line.get("product_id"):
        return False
    product = env.rec("product.product", int(line["product_id"]))
    kind = product.get("detailed_type") if env.version <= 17 else product.get("type")
    return kind != "service"


def _moves(env: Env, line: Record) -> list[Record]:
    return [m for m in env.table("stock.move").values() if m.get("sale_line_id") == int(line["id"])]


def sale_line_before_write(env: Env, record: Record, changes: dict[str, Any]) -> None:
    order = env.rec("sale.order", int(record["order_id"]))
    touched = [label for name, label in _PROTECTED.items() if name in changes]
    if order.get("locked") and touched:
        raise UserError(
            "It is forbidden to modify the following fields in a locked order:\n"
            + "\n".join(touched)
        )
    if "product_uom_qty" not in changes or order.get("state") != "sale" or not _goods(env, record):
        return
    moves = _moves(env, record)
    delivered = sum(float(m.get("product_uom_qty") or 0.0) for m in moves if m["state"] == "done")
    wanted = float(changes["product_uom_qty"] or 0.0)
    if wanted < delivered - _EPS:
        raise UserError(
            "You cannot decrease the ordered quantity below the delivered quantity.\n"
            "Create a return first."
        )
    remaining = wanted - delivered
    open_moves = [m for m in moves if m.get("state") not in ("done", "cancel")]
    if not open_moves:
        if remaining > _EPS:
            _add_move(env, order, record, remaining)
        return
    move = open_moves[0]
    for line in [env.rec("stock.move.line", i) for i in move.get("move_line_ids") or []]:
        release_line(env, line)
        env.unlink("stock.move.line", [int(line["id"])])
    if remaining <= _EPS:
        env.tx.update("stock.move", int(move["id"]), {"product_uom_qty": 0.0, "state": "cancel"})
        return
    env.tx.update(
        "stock.move", int(move["id"]), {"product_uom_qty": remaining, "state": "confirmed"}
    )
    reserve_move(env, env.rec("stock.move", int(move["id"])))


def sale_line_after_create(env: Env, record: Record) -> None:
    order = env.rec("sale.order", int(record["order_id"]))
    if order.get("state") == "sale" and _goods(env, record):
        _add_move(env, order, record, float(record.get("product_uom_qty") or 0.0))


def sale_line_before_unlink(env: Env, record: Record) -> None:
    order = env.table("sale.order").get(int(record["order_id"]))
    if order is not None and order.get("state") == "sale":
        raise UserError(
            "Once a sales order is confirmed, you can't remove one of its lines (we need to "
            "track if something gets invoiced or delivered).\nSet the quantity to 0 instead."
        )


def _add_move(env: Env, order: Record, line: Record, quantity: float) -> None:
    """A move of ``quantity`` for ``line`` in the order's open delivery (made if none is)."""
    if quantity <= _EPS:
        return
    pickings = [
        p
        for p in env.table("stock.picking").values()
        if p.get("sale_id") == int(order["id"]) and picking_state(env, p) not in ("done", "cancel")
    ]
    warehouse = env.rec("stock.warehouse", int(order["warehouse_id"]))
    picking_type = env.rec("stock.picking.type", int(warehouse["out_type_id"]))
    customer = next(
        int(loc["id"])
        for loc in env.table("stock.location").values()
        if loc.get("usage") == "customer"
    )
    if pickings:
        picking_id = int(pickings[0]["id"])
    else:
        picking_id = new_delivery(env, order, picking_type, customer)
    add_delivery_moves(env, order, picking_type, customer, picking_id, [(line, quantity)])
