"""Document numbers as Odoo gives them: ``S00001``, ``P00001``, ``WH/OUT/00001``,
``INV/2026/00001``, ``BILL/2026/11/0001``."""

from __future__ import annotations

from datetime import UTC, datetime

from crossdock.sandbox.odoo.orm import Env

__all__ = ["next_move_name", "next_name", "next_picking_name"]


def next_name(env: Env, code: str, prefix: str, padding: int = 5) -> str:
    return f"{prefix}{env.tx.next_id('seq:' + code):0{padding}d}"


def next_picking_name(env: Env, picking_type_id: int) -> str:
    picking_type = env.rec("stock.picking.type", picking_type_id)
    warehouse = env.rec("stock.warehouse", int(picking_type["warehouse_id"]))
    prefix = f"{warehouse['code']}/{picking_type.get('sequence_code') or 'INT'}/"
    return next_name(env, f"picking:{picking_type_id}", prefix)


def next_move_name(env: Env, move_type: str, company_id: int) -> str:
    today = datetime.now(UTC)
    if move_type.startswith("in_"):
        prefix = f"BILL/{today:%Y}/{today:%m}/"
        return next_name(env, f"bill:{company_id}:{today:%Y%m}", prefix, 4)
    prefix = f"INV/{today:%Y}/" if move_type == "out_invoice" else f"RINV/{today:%Y}/"
    return next_name(env, f"{move_type}:{company_id}:{today:%Y}", prefix)
