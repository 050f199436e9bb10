"""Stock behaviour of the sandbox: quants, reservation, validation, backorders, inventory counts.

As in Odoo: confirming a picking reserves what internal stock allows (moves ``assigned``,
``partially_available`` or ``confirmed``; move lines hold the reservation per quant and lot);
``button_validate`` asks the ``stock.backorder.confirmation`` wizard when less than the demand is
processed (unless ``skip_backorder``), moves done quantities between quants (stock may go
negative), splits the rest into a backorder picking or cancels it (``picking_ids_not_to_backorder``
/ ``cancel_backorder``). Odoo 16 processes ``quantity_done``; 17+ ``quantity`` with ``picked``.
On 16, validating a picking with nothing done but something reserved first asks the
``stock.immediate.transfer`` wizard (unless ``skip_immediate``), whose ``process`` marks the
reserved quantities done and validates again (17+ simply process what is reserved).
"""

from __future__ import annotations

from typing import Any

from crossdock.sandbox.odoo.errors import UserError
from crossdock.sandbox.odoo.orm import Env, now_str
from crossdock.sandbox.odoo.store import Record

__all__ = [
    "apply_inventory",
    "button_validate",
    "confirm_picking",
    "immediate_transfer",
    "product_quantities",
]

_EPS = 1e-9


def _modern(env: Env) -> bool:
    return env.version >= 17


def done_field(env: Env) -> str:
    return "quantity" if _modern(env) else "quantity_done"


def internal_locations(env: Env, root: int | None = None) -> list[int]:
    """Internal locations under ``root`` (all internal locations when None)."""
    table = env.table("stock.location")
    ids = list(table) if root is None else env._family("stock.location", [root], True)
    return [i for i in ids if table[i].get("usage") == "internal"]


def is_storable(env: Env, product_id: int) -> bool:
    product = env.rec("product.product", product_id)
    if env.version >= 18:
        return bool(product.get("is_storable"))
    return product.get("detailed_type") == "product"


def _quant(env: Env, product_id: int, location_id: int, lot_id: int | None) -> Record:
    for quant in env.table("stock.quant").values():
        if (
            quant.get("product_id") == product_id
            and quant.get("location_id") == location_id
            and (quant.get("lot_id") or None) == (lot_id or None)
        ):
            return quant
    location = env.rec("stock.location", location_id)
    [qid] = env.create(
        "stock.quant",
        [
            {
                "product_id": product_id,
                "location_id": location_id,
                "lot_id": lot_id or False,
                "company_id": location.get("company_id") or False,
            }
        ],
    )
    return env.rec("stock.quant", qid)


def change_quant(
    env: Env,
    product_id: int,
    location_id: int,
    lot_id: int | None,
    quantity: float,
    reserved: float = 0.0,
) -> None:
    if env.rec("stock.location", location_id).get("usage") != "internal":
        return
    if not is_storable(env, product_id):
        return
    quant = _quant(env, product_id, location_id, lot_id)
    env.tx.update(
        "stock.quant",
        int(quant["id"]),
        {
            "quantity": float(quant.get("quantity") or 0.0) + quantity,
            "reserved_quantity": max(0.0, float(quant.get("reserved_quantity") or 0.0) + reserved),
        },
    )


# ---------------------------------------------------------------------- reservation


def _lines(env: Env, move: Record) -> list[Record]:
    return [env.rec("stock.move.line", i) for i in move.get("move_line_ids") or []]


def _line_vals(
    env: Env, move: Record, quantity: float, location: int, lot: int | None
) -> dict[str, Any]:
    vals: dict[str, Any] = {
        "move_id": move["id"],
        "picking_id": move.get("picking_id") or False,
        "product_id": move["product_id"],
        "location_id": location,
        "location_dest_id": move["location_dest_id"],
        "lot_id": lot or False,
        "company_id": move.get("company_id") or False,
    }
    if _modern(env):
        vals["quantity"] = quantity
    else:
        vals["reserved_uom_qty"] = quantity
    return vals


def reserve_move(env: Env, move: Record) -> None:
    """Reserve what the source location holds (everything when it is not internal stock)."""
    if move.get("state") in ("done", "cancel"):
        return
    demand = float(move.get("product_uom_qty") or 0.0)
    reserved_now = sum(_line_reserved(env, line) for line in _lines(env, move))
    need = demand - reserved_now
    product_id = int(move["product_id"])
    source = int(move["location_id"])
    new_lines: list[dict[str, Any]] = []
    got = 0.0
    if env.rec("stock.location", source).get("usage") != "internal" or not is_storable(
        env, product_id
    ):
        if need > _EPS:
            new_lines.append(_line_vals(env, move, need, source, None))
            got = need
    else:
        locations = set(internal_locations(env, source))
        quants = sorted(
            (
                q
                for q in env.table("stock.quant").values()
                if q.get("product_id") == product_id and q.get("location_id") in locations
            ),
            key=lambda q: int(q["id"]),
        )
        for quant in quants:
            if need - got <= _EPS:
                break
            free = float(quant.get("quantity") or 0.0) - float(
                quant.get("reserved_quantity") or 0.0
            )
            take = min(free, need - got)
            if take <= _EPS:
                continue
            env.tx.update(
                "stock.quant",
                int(quant["id"]),
                {"reserved_quantity": float(quant.get("reserved_quantity") or 0.0) + take},
            )
            vals = _line_vals(env, move, take, int(quant["location_id"]), quant.get("lot_id"))
            vals["__quant"] = int(quant["id"])
            new_lines.append(vals)
            got += take
    for vals in new_lines:
        quant_id = vals.pop("__quant", None)
        [line_id] = env.create("stock.move.line", [vals])
        env.tx.update(
            "stock.move.line",
            line_id,
            {
                "_quant": quant_id,
                "_reserved": _line_quantity(env, env.rec("stock.move.line", line_id))
                if quant_id
                else 0.0,
            },
        )
    total = reserved_now + got
    state = (
        "assigned"
        if total >= demand - _EPS
        else ("partially_available" if total > _EPS else "confirmed")
    )
    updates: dict[str, Any] = {"state": state}
    if _modern(env):
        updates["quantity"] = total
    env.tx.update("stock.move", int(move["id"]), updates)


def _line_quantity(env: Env, line: Record) -> float:
    key = "quantity" if _modern(env) else "reserved_uom_qty"
    return float(line.get(key) or 0.0)


def _line_reserved(env: Env, line: Record) -> float:
    return float(line.get("_reserved") or 0.0) if line.get("_quant") else _line_quantity(env, line)


def release_line(env: Env, line: Record) -> None:
    """Give a move line's reservation back to its quant (before the line goes)."""
    quant_id = line.get("_quant")
    reserved = float(line.get("_reserved") or 0.0)
    if quant_id and reserved > _EPS and int(quant_id) in env.table("stock.quant"):
        quant = env.rec("stock.quant", int(quant_id))
        env.tx.update(
            "stock.quant",
            int(quant_id),
            {
                "reserved_quantity": max(
                    0.0, float(quant.get("reserved_quantity") or 0.0) - reserved
                )
            },
        )
    env.tx.update("stock.move.line", int(line["id"]), {"_reserved": 0.0})


def set_move_quantity(env: Env, move: Record, quantity: float) -> None:
    """Odoo 17+: the processed quantity of a move; move lines follow (reservations shrink)."""
    lines = _lines(env, move)
    total = sum(_line_quantity(env, line) for line in lines)
    if quantity < total - _EPS:
        excess = total - quantity
        for line in reversed(lines):
            if excess <= _EPS:
                break
            current = _line_quantity(env, line)
            cut = min(current, excess)
            excess -= cut
            if cut >= current - _EPS:
                release_line(env, line)
                env.unlink("stock.move.line", [int(line["id"])])
            else:
                reserved = float(line.get("_reserved") or 0.0)
                if line.get("_quant") and reserved > current - cut:
                    quant = env.rec("stock.quant", int(line["_quant"]))
                    give_back = reserved - (current - cut)
                    env.tx.update(
                        "stock.quant",
                        int(quant["id"]),
                        {
                            "reserved_quantity": max(
                                0.0, float(quant.get("reserved_quantity") or 0.0) - give_back
                            )
                        },
                    )
                    env.tx.update("stock.move.line", int(line["id"]), {"_reserved": current - cut})
                env.tx.update("stock.move.line", int(line["id"]), {"quantity": current - cut})
    elif quantity > total + _EPS:
        env.create(
            "stock.move.line",
            [_line_vals(env, move, quantity - total, int(move["location_id"]), None)],
        )
    env.tx.update("stock.move", int(move["id"]), {"quantity": quantity})


def sync_move_from_lines(env: Env, move: Record) -> None:
    """After move lines were written directly: the move's quantity is their sum (17+)."""
    if _modern(env):
        total = sum(_line_quantity(env, line) for line in _lines(env, move))
        env.tx.update("stock.move", int(move["id"]), {"quantity": total})
    else:
        done = sum(float(line.get("qty_done") or 0.0) for line in _lines(env, move))
        env.tx.update("stock.move", int(move["id"]), {"quantity_done": done})


# ---------------------------------------------------------------------- pickings


def picking_state(env: Env, picking: Record) -> str:
    moves = [env.rec("stock.move", i) for i in picking.get("move_ids") or []]
    if picking.get("_state") in ("draft", "cancel", "done") and not moves:
        return str(picking.get("_state"))
    if not moves:
        return "draft"
    states = {m.get("state") for m in moves}
    if states <= {"done", "cancel"}:
        return "cancel" if states == {"cancel"} else "done"
    if "draft" in states:
        return "draft"
    live = [m for m in moves if m.get("state") not in ("done", "cancel")]
    if any(m.get("state") in ("assigned", "partially_available") for m in live):
        return "assigned"
    return "confirmed"


def confirm_picking(env: Env, picking_id: int) -> None:
    picking = env.rec("stock.picking", picking_id)
    for move in [env.rec("stock.move", i) for i in picking.get("move_ids") or []]:
        if move.get("state") == "draft":
            env.tx.update("stock.move", int(move["id"]), {"state": "confirmed"})
        reserve_move(env, env.rec("stock.move", int(move["id"])))


def _picked_quantity(env: Env, move: Record) -> float:
    if _modern(env):
        return float(move.get("quantity") or 0.0) if move.get("picked") else 0.0
    return float(move.get("quantity_done") or 0.0)


def _tracking(env: Env, product_id: int) -> str:
    return str(env.rec("product.product", product_id).get("tracking") or "none")


def _wizard_action(
    env: Env, model: str, title: str, ids: list[int], pick_ids: list[int], many: bool
) -> dict[str, Any]:
    context = {
        **env.context,
        "button_validate_picking_ids": env.context.get("button_validate_picking_ids") or ids,
        "default_show_transfers": many,
        "default_pick_ids": [[4, i] for i in pick_ids],
    }
    return {
        "name": title,
        "type": "ir.actions.act_window",
        "view_mode": "form",
        "res_model": model,
        "views": [[False, "form"]],
        "target": "new",
        "context": context,
    }


def button_validate(env: Env, ids: list[int]) -> Any:
    pickings = [env.rec("stock.picking", i) for i in ids]
    pickings = [p for p in pickings if picking_state(env, p) != "done"]
    immediate: list[int] = []
    for picking in pickings:
        moves = [env.rec("stock.move", i) for i in picking.get("move_ids") or []]
        live = [m for m in moves if m.get("state") not in ("done", "cancel")]
        quantity_key = done_field(env)
        if all(float(m.get(quantity_key) or 0.0) <= _EPS for m in live):
            if _modern(env):
                raise UserError(
                    "You cannot validate a transfer if no quantities are reserved. "
                    "To force the transfer, encode quantities."
                )
            reserved = sum(_line_quantity(env, line) for m in live for line in _lines(env, m))
            if reserved <= _EPS or env.context.get("skip_immediate"):
                raise UserError(
                    "You cannot validate a transfer if no quantities are reserved nor done. "
                    "To force the transfer, switch in edit more and encode the done quantities."
                )
            immediate.append(int(picking["id"]))
            continue
        missing_lots = []
        for move in live:
            if _tracking(env, int(move["product_id"])) == "none":
                continue
            if float(move.get(quantity_key) or 0.0) <= _EPS:
                continue
            if any(
                not line.get("lot_id") and not line.get("lot_name") for line in _lines(env, move)
            ):
                product = env.rec("product.product", int(move["product_id"]))
                product["__model__"] = "product.product"
                missing_lots.append(env.display_name("product.product", product))
        if missing_lots:
            raise UserError(
                f"You need to supply a Lot/Serial number for products {', '.join(missing_lots)}."
            )
        if _modern(env):
            has_quantity = any(float(m.get("quantity") or 0.0) > _EPS for m in live)
            if has_quantity and not any(m.get("picked") for m in live):
                for move in live:
                    env.tx.update("stock.move", int(move["id"]), {"picked": True})
    if immediate:
        return _wizard_action(
            env,
            "stock.immediate.transfer",
            "Immediate Transfer?",
            ids,
            immediate,
            len(pickings) > 1,
        )
    if not env.context.get("skip_backorder"):
        to_ask = []
        for picking in pickings:
            moves = [env.rec("stock.move", i) for i in picking.get("move_ids") or []]
            if any(
                m.get("state") != "cancel"
                and _picked_quantity(env, m) < float(m.get("product_uom_qty") or 0.0) - _EPS
                for m in moves
            ):
                to_ask.append(int(picking["id"]))
        if to_ask:
            return _wizard_action(
                env,
                "stock.backorder.confirmation",
                "Create Backorder?",
                ids,
                to_ask,
                len(pickings) > 1,
            )
    not_to_backorder = set(env.context.get("picking_ids_not_to_backorder") or [])
    for picking in pickings:
        action_done(env, picking, cancel_backorder=int(picking["id"]) in not_to_backorder)
    return True


def immediate_transfer(env: Env, pick_ids: list[int]) -> Any:
    """Odoo 16's ``stock.immediate.transfer.process``: what is reserved is done; validate again."""
    for picking_id in pick_ids:
        picking = env.rec("stock.picking", picking_id)
        for move_id in picking.get("move_ids") or []:
            move = env.rec("stock.move", move_id)
            if move.get("state") in ("done", "cancel"):
                continue
            for line in _lines(env, move):
                env.tx.update(
                    "stock.move.line", int(line["id"]), {"qty_done": _line_quantity(env, line)}
                )
            sync_move_from_lines(env, env.rec("stock.move", move_id))
    to_validate = env.context.get("button_validate_picking_ids") or pick_ids
    return button_validate(env.with_context(skip_immediate=True), list(to_validate))


def _lot_for(env: Env, line: Record, product_id: int, company: Any) -> int | None:
    if line.get("lot_id"):
        return int(line["lot_id"])
    name = line.get("lot_name")
    if not name:
        return None
    for lot in env.table("stock.lot").values():
        if lot.get("name") == name and lot.get("product_id") == product_id:
            return int(lot["id"])
    [lot_id] = env.create(
        "stock.lot", [{"name": name, "product_id": product_id, "company_id": company or False}]
    )
    return lot_id


def action_done(env: Env, picking: Record, *, cancel_backorder: bool) -> None:
    moves = [env.rec("stock.move", i) for i in picking.get("move_ids") or []]
    remainders: list[tuple[Record, float]] = []
    for move in moves:
        if move.get("state") in ("done", "cancel"):
            continue
        demand = float(move.get("product_uom_qty") or 0.0)
        done = _picked_quantity(env, move)
        if done <= _EPS:
            remainders.append((move, demand))
            continue
        product_id = int(move["product_id"])
        lines = _lines(env, move)
        left = done
        for line in lines:
            line_qty = (
                float(line.get("quantity") or 0.0)
                if _modern(env)
                else float(line.get("qty_done") or 0.0)
            )
            if not _modern(env) and line_qty <= _EPS:
                continue
            take = min(line_qty, left) if line is not lines[-1] else left
            left -= take
            lot = _lot_for(env, line, product_id, move.get("company_id"))
            release_line(env, env.rec("stock.move.line", int(line["id"])))
            change_quant(env, product_id, int(line["location_id"]), lot, -take)
            change_quant(env, product_id, int(move["location_dest_id"]), lot, take)
            if lot:
                env.tx.update("stock.move.line", int(line["id"]), {"lot_id": lot})
        for line in lines:
            release_line(env, env.rec("stock.move.line", int(line["id"])))
        if left > _EPS:  # processed without lines (Odoo 16 quantity_done): from any quant
            change_quant(env, product_id, int(move["location_id"]), None, -left)
            change_quant(env, product_id, int(move["location_dest_id"]), None, left)
        updates: dict[str, Any] = {"state": "done", "product_uom_qty": done, "date": now_str()}
        if _modern(env):
            updates["quantity"] = done
        else:
            updates["quantity_done"] = done
        env.tx.update("stock.move", int(move["id"]), updates)
        if demand - done > _EPS:
            remainders.append((move, demand - done))
    backorder_moves: list[int] = []
    for move, rest in remainders:
        if float(move.get("product_uom_qty") or 0.0) - rest <= _EPS and move.get("state") != "done":
            target = move  # nothing processed: the whole move goes on
            for line in _lines(env, move):
                if cancel_backorder:
                    release_line(env, line)
            if cancel_backorder:
                env.tx.update("stock.move", int(move["id"]), {"state": "cancel"})
                if _modern(env):
                    set_move_quantity(env, env.rec("stock.move", int(move["id"])), 0.0)
            else:
                backorder_moves.append(int(target["id"]))
            continue
        vals = {
            "name": move.get("name") or "/",
            "product_id": move["product_id"],
            "product_uom_qty": rest,
            "location_id": move["location_id"],
            "location_dest_id": move["location_dest_id"],
            "sale_line_id": move.get("sale_line_id") or False,
            "purchase_line_id": move.get("purchase_line_id") or False,
            "company_id": move.get("company_id") or False,
            "origin": move.get("origin") or False,
            "state": "cancel" if cancel_backorder else "confirmed",
        }
        if cancel_backorder:
            vals["picking_id"] = picking["id"]
        [new_id] = env.create("stock.move", [vals])
        if not cancel_backorder:
            backorder_moves.append(new_id)
    env.tx.update("stock.picking", int(picking["id"]), {"date_done": now_str(), "_state": "done"})
    if backorder_moves:
        create_backorder(env, picking, backorder_moves)


def create_backorder(env: Env, picking: Record, move_ids: list[int]) -> int:
    from crossdock.sandbox.odoo.sequences import next_picking_name

    [backorder_id] = env.create(
        "stock.picking",
        [
            {
                "picking_type_id": picking["picking_type_id"],
                "partner_id": picking.get("partner_id") or False,
                "location_id": picking["location_id"],
                "location_dest_id": picking["location_dest_id"],
                "origin": picking.get("origin") or False,
                "sale_id": picking.get("sale_id") or False,
                "purchase_id": picking.get("purchase_id") or False,
                "company_id": picking.get("company_id") or False,
                "backorder_id": picking["id"],
                "name": next_picking_name(env, int(picking["picking_type_id"])),
            }
        ],
    )
    for move_id in move_ids:
        move = env.rec("stock.move", move_id)
        for line in _lines(env, move):
            release_line(env, line)
            env.unlink("stock.move.line", [int(line["id"])])
        updates: dict[str, Any] = {"state": "confirmed"}
        if _modern(env):
            updates.update(quantity=0.0, picked=False)
        else:
            updates["quantity_done"] = 0.0
        env.write("stock.move", [move_id], {"picking_id": backorder_id})
        env.tx.update("stock.move", move_id, updates)
    confirm_picking(env, backorder_id)
    return backorder_id


# ---------------------------------------------------------------------- quantities


def product_quantities(env: Env, product: Record) -> dict[str, float]:
    """qty_available, free_qty, incoming_qty, outgoing_qty, virtual_available in the context's
    ``location`` / ``warehouse_id`` (all internal locations of the allowed companies otherwise)."""
    location = env.context.get("location")
    warehouse = env.context.get("warehouse_id") or env.context.get("warehouse")
    if isinstance(location, list):
        location = location[0] if location else None
    if warehouse:
        warehouse_id = warehouse[0] if isinstance(warehouse, list) else warehouse
        location = env.rec("stock.warehouse", int(warehouse_id)).get("view_location_id")
    if location:
        locations = set(internal_locations(env, int(location)))
    else:
        companies = set(env.allowed_companies())
        locations = {
            i
            for i in internal_locations(env)
            if env.rec("stock.location", i).get("company_id") in companies
        }
    on_hand = reserved = incoming = outgoing = 0.0
    pid = int(product["id"])
    for quant in env.table("stock.quant").values():
        if quant.get("product_id") == pid and quant.get("location_id") in locations:
            on_hand += float(quant.get("quantity") or 0.0)
            reserved += float(quant.get("reserved_quantity") or 0.0)
    for move in env.table("stock.move").values():
        if move.get("product_id") != pid or move.get("state") in ("done", "cancel", "draft"):
            continue
        src_in = move.get("location_id") in locations
        dest_in = move.get("location_dest_id") in locations
        if dest_in and not src_in:
            incoming += float(move.get("product_uom_qty") or 0.0)
        elif src_in and not dest_in:
            outgoing += float(move.get("product_uom_qty") or 0.0)
    return {
        "qty_available": on_hand,
        "free_qty": on_hand - reserved,
        "incoming_qty": incoming,
        "outgoing_qty": outgoing,
        "virtual_available": on_hand + incoming - outgoing,
    }


def apply_inventory(env: Env, ids: list[int]) -> None:
    """``stock.quant.action_apply_inventory``: counted quantities become quantities (returns
    nothing, so the JSON-RPC answer has no ``result``)."""
    adjustment = next(
        (
            int(loc["id"])
            for loc in env.table("stock.location").values()
            if loc.get("usage") == "inventory"
        ),
        None,
    )
    for qid in ids:
        quant = env.rec("stock.quant", qid)
        if not quant.get("inventory_quantity_set"):
            continue
        counted = float(quant.get("inventory_quantity") or 0.0)
        diff = counted - float(quant.get("quantity") or 0.0)
        if abs(diff) > _EPS and adjustment is not None:
            src, dest = (
                (adjustment, quant["location_id"])
                if diff > 0
                else (quant["location_id"], adjustment)
            )
            env.create(
                "stock.move",
                [
                    {
                        "name": "Product Quantity Updated",
                        "product_id": quant["product_id"],
                        "product_uom_qty": abs(diff),
                        "location_id": src,
                        "location_dest_id": dest,
                        "state": "done",
                        "is_inventory": True,
                        "company_id": quant.get("company_id") or False,
                    }
                ],
            )
        env.tx.update(
            "stock.quant",
            qid,
            {
                "quantity": counted,
                "inventory_quantity": 0.0,
                "inventory_quantity_set": False,
            },
        )
