"""Returns in the sandbox, following Odoo's published models: the return wizard of a delivery
(``stock.return.picking``: ``create_returns`` up to 17, ``action_create_returns`` from 18), the
return picking's ``return_id`` (18+), cancelling and confirming a picking, scrap orders
(``stock.scrap``), internal transfers (an internal operation type per warehouse), and credit notes
from ``account.move.reversal`` (``reverse_moves`` with ``refund_method`` on 16, ``refund_moves``
from 17) with ``reversed_entry_id`` and a ``ref`` naming the reason.

:func:`extend` adds these to the specs of :func:`~crossdock.sandbox.odoo.models.build_specs`.
"""

from __future__ import annotations

from typing import Any

from crossdock.sandbox.odoo import documents as docs
from crossdock.sandbox.odoo import stock_logic as stock
from crossdock.sandbox.odoo.errors import AttributeRpcError, UserError
from crossdock.sandbox.odoo.models import b, c, fl, m2m, m2o, o2m, sel
from crossdock.sandbox.odoo.orm import Env, ModelSpec, now_str
from crossdock.sandbox.odoo.sequences import next_name, next_picking_name
from crossdock.sandbox.odoo.store import Record

__all__ = ["extend"]


def _picking_cancel(env: Env, ids: list[int]) -> bool:
    for picking_id in ids:
        picking = env.rec("stock.picking", picking_id)
        for move_id in picking.get("move_ids") or []:
            move = env.rec("stock.move", move_id)
            if move.get("state") == "done":
                continue
            for line_id in move.get("move_line_ids") or []:
                stock.release_line(env, env.rec("stock.move.line", line_id))
            env.tx.update("stock.move", move_id, {"state": "cancel"})
        env.tx.update("stock.picking", picking_id, {"_state": "cancel"})
    return True


def _picking_confirm(env: Env, ids: list[int]) -> bool:
    for picking_id in ids:
        picking = env.rec("stock.picking", picking_id)
        if picking.get("name") in (None, "/", False):
            env.tx.update(
                "stock.picking",
                picking_id,
                {"name": next_picking_name(env, int(picking["picking_type_id"]))},
            )
        stock.confirm_picking(env, picking_id)
    return True


def _create_return(env: Env, ids: list[int]) -> dict[str, Any]:
    [wizard] = env.records("stock.return.picking", ids)
    picking = env.rec("stock.picking", int(wizard["picking_id"]))
    if stock.picking_state(env, picking) != "done":
        raise UserError("You may only return Done pickings.")
    out_type = env.rec("stock.picking.type", int(picking["picking_type_id"]))
    warehouse = env.rec("stock.warehouse", int(out_type["warehouse_id"]))
    return_type = docs._picking_type(env, warehouse, "incoming")
    source = int(picking["location_dest_id"])
    destination = int(return_type.get("default_location_dest_id") or picking["location_id"])
    lines = [
        env.rec("stock.return.picking.line", i) for i in wizard.get("product_return_moves") or []
    ]
    lines = [line for line in lines if float(line.get("quantity") or 0.0) > 0]
    if not lines:
        raise UserError("Please specify at least one non-zero quantity.")
    vals: dict[str, Any] = {
        "name": next_picking_name(env, int(return_type["id"])),
        "picking_type_id": return_type["id"],
        "partner_id": picking.get("partner_id") or False,
        "location_id": source,
        "location_dest_id": destination,
        "origin": f"Return of {picking['name']}",
        "sale_id": picking.get("sale_id") or False,
        "company_id": picking.get("company_id") or False,
    }
    if env.version >= 18:
        vals["return_id"] = picking["id"]
    [new_id] = env.create("stock.picking", [vals])
    moves = []
    for line in lines:
        returned = env.rec("stock.move", int(line["move_id"])) if line.get("move_id") else {}
        refund = env.version >= 18 or bool(line.get("to_refund"))
        moves.append(
            {
                "name": returned.get("name") or picking["name"],
                "product_id": line["product_id"],
                "product_uom_qty": float(line["quantity"]),
                "location_id": source,
                "location_dest_id": destination,
                "picking_id": new_id,
                # a return "to refund" lowers the sale line's delivered quantity
                "sale_line_id": (returned.get("sale_line_id") or False) if refund else False,
                "company_id": picking.get("company_id") or False,
                "origin": vals["origin"],
                "state": "confirmed",
            }
        )
    env.create("stock.move", moves)
    stock.confirm_picking(env, new_id)
    return {"type": "ir.actions.act_window", "res_model": "stock.picking", "res_id": new_id}


def _scrap_before_create(env: Env, record: Record, vals: dict[str, Any]) -> None:
    record["company_id"] = record.get("company_id") or env.company_id
    record["state"] = "draft"
    record["name"] = next_name(env, f"scrap:{record['company_id']}", "SP/")
    if not record.get("location_id") and record.get("picking_id"):
        picking = env.rec("stock.picking", int(record["picking_id"]))
        record["location_id"] = picking["location_dest_id"]
    if not record.get("scrap_location_id"):
        record["scrap_location_id"] = _scrap_location(env)


def _scrap_location(env: Env) -> int:
    for location in env.table("stock.location").values():
        if location.get("usage") == "inventory" and location.get("name") == "Scrap":
            return int(location["id"])
    [location_id] = env.create("stock.location", [{"name": "Scrap", "usage": "inventory"}])
    return location_id


def _scrap_validate(env: Env, ids: list[int]) -> bool:
    for scrap in env.records("stock.scrap", ids):
        if scrap.get("state") == "done":
            continue
        product_id, quantity = int(scrap["product_id"]), float(scrap.get("scrap_qty") or 0.0)
        if stock.is_storable(env, product_id):
            stock.change_quant(env, product_id, int(scrap["location_id"]), None, -quantity)
        [move_id] = env.create(
            "stock.move",
            [
                {
                    "name": scrap["name"],
                    "product_id": product_id,
                    "product_uom_qty": quantity,
                    "location_id": scrap["location_id"],
                    "location_dest_id": scrap["scrap_location_id"],
                    "company_id": scrap.get("company_id") or False,
                    "origin": scrap.get("origin") or False,
                    "state": "done",
                    "date": now_str(),
                }
            ],
        )
        env.tx.update("stock.scrap", int(scrap["id"]), {"state": "done", "move_ids": [move_id]})
    return True


def _reversal_before_create(env: Env, record: Record, vals: dict[str, Any]) -> None:
    moves = record.get("move_ids") or env.context.get("active_ids") or []
    record["move_ids"] = list(moves)
    if not moves:
        raise UserError("No journal entry to reverse.")
    first = env.rec("account.move", int(moves[0]))
    record["company_id"] = record.get("company_id") or first.get("company_id")
    if not record.get("journal_id"):
        raise UserError('Missing required value for the field "Journal" (journal_id).')


def _reverse(env: Env, ids: list[int], **params: Any) -> dict[str, Any]:
    [wizard] = env.records("account.move.reversal", ids)
    if env.version <= 16 and wizard.get("refund_method") not in ("refund", None, False):
        raise UserError("Only the refund method is simulated.")
    new_ids: list[int] = []
    for move_id in wizard.get("move_ids") or []:
        move = env.rec("account.move", int(move_id))
        if move.get("state") != "posted":
            raise UserError("You can only reverse posted moves.")
        reason = wizard.get("reason")
        ref = f"Reversal of: {move['name']}, {reason}" if reason else f"Reversal of: {move['name']}"
        lines = [env.rec("account.move.line", i) for i in move.get("invoice_line_ids") or []]
        [new_id] = env.create(
            "account.move",
            [
                {
                    "move_type": "out_refund"
                    if move["move_type"] == "out_invoice"
                    else "in_refund",
                    "partner_id": move.get("partner_id") or False,
                    "company_id": move.get("company_id") or False,
                    "currency_id": move.get("currency_id") or False,
                    "invoice_origin": move.get("invoice_origin") or False,
                    "ref": ref,
                    "reversed_entry_id": move["id"],
                    "invoice_line_ids": [
                        (
                            0,
                            0,
                            {
                                "product_id": line.get("product_id") or False,
                                "name": line.get("name") or False,
                                "quantity": line.get("quantity") or 0.0,
                                "price_unit": line.get("price_unit") or 0.0,
                                "discount": line.get("discount") or 0.0,
                                "tax_ids": [(6, 0, list(line.get("tax_ids") or []))],
                                "sale_line_ids": [(6, 0, list(line.get("sale_line_ids") or []))],
                                "display_type": line.get("display_type") or "product",
                            },
                        )
                        for line in lines
                    ],
                }
            ],
        )
        new_ids.append(new_id)
    env.tx.update("account.move.reversal", int(wizard["id"]), {"new_move_ids": new_ids})
    return {"type": "ir.actions.act_window", "res_model": "account.move", "res_id": new_ids[0]}


def _wrap_after_create(spec: ModelSpec) -> None:
    """A warehouse also gets an internal operation type (``INT``), as Odoo makes one."""
    before = spec.after_create

    def after(env: Env, record: Record) -> None:
        if before is not None:
            before(env, record)
        warehouse = env.rec("stock.warehouse", int(record["id"]))
        stock_loc = warehouse.get("lot_stock_id")
        env.create(
            "stock.picking.type",
            [
                {
                    "name": "Internal Transfers",
                    "code": "internal",
                    "sequence_code": "INT",
                    "warehouse_id": record["id"],
                    "default_location_src_id": stock_loc,
                    "default_location_dest_id": stock_loc,
                    "company_id": record["company_id"],
                }
            ],
        )

    spec.after_create = after


def extend(specs: list[ModelSpec]) -> list[ModelSpec]:
    """``specs`` with the models and methods of returns added (see the module's docstring)."""
    by_name = {spec.name: spec for spec in specs}
    picking = by_name["stock.picking"]
    picking.fields["return_id"] = m2o("stock.picking", since=18)
    picking.methods["action_cancel"] = _picking_cancel
    picking.methods["action_confirm"] = _picking_confirm
    by_name["account.move"].fields["reversed_entry_id"] = m2o("account.move")
    _wrap_after_create(by_name["stock.warehouse"])
    by_name["account.move"].fields["journal_id"] = m2o("account.journal")
    _wrap_move_before_create(by_name["account.move"])
    return [
        *specs,
        ModelSpec(
            "stock.return.picking",
            "Return Picking",
            {
                "picking_id": m2o("stock.picking"),
                "product_return_moves": o2m("stock.return.picking.line", "wizard_id"),
                "location_id": m2o("stock.location", until=17),
                "company_id": m2o("res.company"),
            },
            methods={
                "create_returns": _versioned_return("create_returns", 16, 17),
                "action_create_returns": _versioned_return("action_create_returns", 18, 99),
            },
        ),
        ModelSpec(
            "stock.return.picking.line",
            "Return Picking Line",
            {
                "product_id": m2o("product.product", required=True),
                "quantity": fl(),
                "wizard_id": m2o("stock.return.picking"),
                "move_id": m2o("stock.move"),
                "to_refund": b(until=17),
            },
        ),
        ModelSpec(
            "stock.scrap",
            "Scrap",
            {
                "name": c(),
                "origin": c(),
                "product_id": m2o("product.product", required=True),
                "scrap_qty": fl(),
                "location_id": m2o("stock.location"),
                "scrap_location_id": m2o("stock.location"),
                "picking_id": m2o("stock.picking"),
                "company_id": m2o("res.company"),
                "move_ids": m2m("stock.move"),
                "state": sel("draft", "done", default="draft"),
            },
            before_create=_scrap_before_create,
            methods={"action_validate": _scrap_validate},
        ),
        ModelSpec(
            "account.move.reversal",
            "Account Move Reversal",
            {
                "move_ids": m2m("account.move"),
                "new_move_ids": m2m("account.move"),
                "reason": c(),
                "journal_id": m2o("account.journal"),
                "company_id": m2o("res.company"),
                "refund_method": sel("refund", "cancel", "modify", until=16),
                "date": c(),
            },
            before_create=_reversal_before_create,
            methods={
                "reverse_moves": _version_gate("reverse_moves", 16, 16),
                "refund_moves": _version_gate("refund_moves", 17, 99),
            },
        ),
        ModelSpec(
            "account.journal",
            "Journal",
            {
                "name": c(required=True),
                "code": c(),
                "type": sel("sale", "purchase", "cash", "bank", "general", default="general"),
                "company_id": m2o("res.company"),
            },
        ),
    ]


def _versioned_return(name: str, low: int, high: int) -> Any:
    def method(env: Env, ids: list[int], **params: Any) -> Any:
        if not low <= env.version <= high:
            raise AttributeRpcError(f"The method 'stock.return.picking.{name}' does not exist")
        return _create_return(env, ids)

    return method


def _version_gate(name: str, low: int, high: int) -> Any:
    def method(env: Env, ids: list[int], **params: Any) -> Any:
        if not low <= env.version <= high:
            raise AttributeRpcError(f"The method 'account.move.reversal.{name}' does not exist")
        return _reverse(env, ids, **params)

    return method


def _journal(env: Env, company_id: int, kind: str) -> int:
    for journal in env.table("account.journal").values():
        if journal.get("company_id") == company_id and journal.get("type") == kind:
            return int(journal["id"])
    name, code = ("Customer Invoices", "INV") if kind == "sale" else ("Vendor Bills", "BILL")
    [journal_id] = env.create(
        "account.journal", [{"name": name, "code": code, "type": kind, "company_id": company_id}]
    )
    return journal_id


def _wrap_move_before_create(spec: ModelSpec) -> None:
    """An invoice or credit note lands in its company's sales (or purchase) journal."""
    before = spec.before_create

    def hook(env: Env, record: Record, vals: dict[str, Any]) -> None:
        if before is not None:
            before(env, record, vals)
        if not record.get("journal_id") and str(record.get("move_type")) != "entry":
            kind = "purchase" if str(record.get("move_type")).startswith("in_") else "sale"
            record["journal_id"] = _journal(env, int(record["company_id"]), kind)

    spec.before_create = hook
