"""Replenishment models of the sandbox: reorder rules and vendor pricelists, as Odoo's fields.

``stock.warehouse.orderpoint`` (module stock): min/max per product and warehouse, ``qty_multiple``
up to 18 (19 rounds by a packaging unit instead). ``product.supplierinfo`` (module product, the
"Vendor Pricelists"): a vendor's price, minimum quantity and ``delay`` (days) for a product
template or one of its variants, the lowest ``sequence`` first.
"""

from __future__ import annotations

from typing import Any

from crossdock.sandbox.odoo.errors import UserError
from crossdock.sandbox.odoo.orm import Env, F, ModelSpec
from crossdock.sandbox.odoo.store import Record

__all__ = ["purchase_line_before_write", "replenishment_specs"]


def _orderpoint_before_create(env: Env, record: Record, vals: dict[str, Any]) -> None:
    if not record.get("company_id"):
        warehouse = env.rec("stock.warehouse", int(record["warehouse_id"]))
        record["company_id"] = warehouse.get("company_id") or env.company_id
    if not record.get("name"):
        record["name"] = "OP/" + str(record.get("id") or "")


def _supplierinfo_before_create(env: Env, record: Record, vals: dict[str, Any]) -> None:
    if not record.get("product_tmpl_id") and record.get("product_id"):
        product = env.rec("product.product", int(record["product_id"]))
        record["product_tmpl_id"] = product.get("product_tmpl_id")
    if not record.get("currency_id"):
        company = env.rec("res.company", int(record.get("company_id") or env.company_id))
        record["currency_id"] = company.get("currency_id")


def _supplierinfo_display(env: Env, record: Record) -> str:
    return env.display_name("res.partner", env.rec("res.partner", int(record["partner_id"])))


def purchase_line_before_write(env: Env, record: Record, changes: dict[str, Any]) -> None:
    """A confirmed order's line quantity changed: its open receipt move follows (never below what
    was received), as Odoo's ``purchase.order.line._create_or_update_picking`` does."""
    if "product_qty" not in changes:
        return
    order = env.rec("purchase.order", int(record["order_id"]))
    if order.get("state") not in ("purchase", "done"):
        return
    moves = [
        m for m in env.table("stock.move").values() if m.get("purchase_line_id") == record["id"]
    ]
    received = sum(
        float(m.get("quantity") or m.get("quantity_done") or 0)
        for m in moves
        if m.get("state") == "done"
    )
    wanted = float(changes["product_qty"] or 0)
    if wanted < received:
        raise UserError(
            "You cannot decrease the ordered quantity below the received quantity.\n"
            "Create a return first."
        )
    open_moves = [m for m in moves if m.get("state") not in ("done", "cancel")]
    if open_moves:
        first = open_moves[0]
        remaining = wanted - received
        values: dict[str, Any] = {"product_uom_qty": remaining}
        if remaining <= 0:
            values["state"] = "cancel"
        env.tx.update("stock.move", int(first["id"]), values)


def replenishment_specs() -> list[ModelSpec]:
    return [
        ModelSpec(
            "stock.warehouse.orderpoint",
            "Minimum Inventory Rule",
            {
                "name": F("char"),
                "trigger": F("selection", selection=("auto", "manual"), default="auto"),
                "active": F("boolean", default=True),
                "warehouse_id": F("many2one", relation="stock.warehouse", required=True),
                "location_id": F("many2one", relation="stock.location"),
                "product_id": F("many2one", relation="product.product", required=True),
                "product_min_qty": F("float", default=0.0),
                "product_max_qty": F("float", default=0.0),
                "qty_multiple": F("float", default=1.0, until=18),
                "company_id": F("many2one", relation="res.company"),
            },
            before_create=_orderpoint_before_create,
        ),
        ModelSpec(
            "product.supplierinfo",
            "Supplier Pricelist",
            {
                "partner_id": F("many2one", relation="res.partner", required=True),
                "product_name": F("char"),
                "product_code": F("char"),
                "sequence": F("integer", default=1),
                "min_qty": F("float", default=0.0),
                "price": F("float", default=0.0),
                "company_id": F("many2one", relation="res.company"),
                "currency_id": F("many2one", relation="res.currency"),
                "date_start": F("date"),
                "date_end": F("date"),
                "product_id": F("many2one", relation="product.product"),
                "product_tmpl_id": F("many2one", relation="product.template"),
                "delay": F("integer", default=1),
            },
            display=_supplierinfo_display,
            order="sequence, min_qty desc, price, id",
            before_create=_supplierinfo_before_create,
        ),
    ]
