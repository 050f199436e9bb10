"""The models the sandbox serves (a faithful subset of Odoo's fields), and the initial database.

Version differences follow Odoo: ``detailed_type`` up to 17 and ``is_storable`` from 18;
``stock.move.quantity_done`` on 16, ``quantity`` + ``picked`` from 17.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from crossdock.model.codes import COUNTRY_CODES
from crossdock.sandbox.odoo import documents as docs
from crossdock.sandbox.odoo import sale_changes
from crossdock.sandbox.odoo import stock_logic as stock
from crossdock.sandbox.odoo.errors import UserError
from crossdock.sandbox.odoo.orm import Env, F, ModelSpec
from crossdock.sandbox.odoo.replenishment_models import (
    purchase_line_before_write,
    replenishment_specs,
)
from crossdock.sandbox.odoo.store import Record

__all__ = ["build_specs", "seed"]


def c(**kw: Any) -> F:
    return F("char", **kw)


def fl(**kw: Any) -> F:
    return F("float", **kw)


def b(**kw: Any) -> F:
    return F("boolean", **kw)


def i(**kw: Any) -> F:
    return F("integer", **kw)


def m2o(relation: str, **kw: Any) -> F:
    return F("many2one", relation=relation, **kw)


def o2m(relation: str, inverse: str, **kw: Any) -> F:
    return F("one2many", relation=relation, inverse=inverse, **kw)


def m2m(relation: str, **kw: Any) -> F:
    return F("many2many", relation=relation, **kw)


def sel(*values: str, **kw: Any) -> F:
    return F("selection", selection=values, **kw)


def computed(kind: str, fn: Any, relation: str | None = None, **kw: Any) -> F:
    return F(kind, compute=fn, relation=relation, readonly=True, **kw)


def _company(env: Env) -> int:
    return env.company_id


def _product_display(env: Env, record: Record) -> str:
    code = record.get("default_code")
    return f"[{code}] {record.get('name')}" if code else str(record.get("name"))


def _location_display(env: Env, record: Record) -> str:
    parts = [str(record.get("name"))]
    parent = record.get("location_id")
    while parent:
        location = env.rec("stock.location", int(parent))
        if location.get("usage") == "view" and not location.get("location_id"):
            break
        parts.insert(0, str(location.get("name")))
        parent = location.get("location_id")
    return "/".join(parts)


def _category_display(env: Env, record: Record) -> str:
    """Odoo's ``complete_name`` of a product category: ``All / Saleable / Food``."""
    parts = [str(record.get("name"))]
    parent = record.get("parent_id")
    while parent:
        category = env.rec("product.category", int(parent))
        parts.insert(0, str(category.get("name")))
        parent = category.get("parent_id")
    return " / ".join(parts)


# ---------------------------------------------------------------------- products


_TEMPLATE_FIELDS = (
    "name",
    "default_code",
    "barcode",
    "type",
    "detailed_type",
    "is_storable",
    "tracking",
    "list_price",
    "standard_price",
    "active",
    "company_id",
    "sale_ok",
    "purchase_ok",
    "invoice_policy",
    "categ_id",
)


def _product_before_create(env: Env, record: Record, vals: dict[str, Any]) -> None:
    _check_product_type(env, record)
    barcode = record.get("barcode")
    if barcode:
        owners = [
            p
            for p in env.table("product.product").values()
            if p.get("barcode") == barcode and p.get("active", True) is not False
        ]
        if owners:
            names = " and ".join([str(p.get("name")) for p in owners] + [str(record.get("name"))])
            from crossdock.sandbox.odoo.errors import ValidationError

            raise ValidationError(
                "Barcode(s) already assigned:\n\n"
                f'- Barcode "{barcode}" already assigned to product(s): {names}\n\n'
                "Note: products that you don't have access to will not be shown above."
            )
    if env.version >= 18 and record.get("type") != "consu":
        record["is_storable"] = False
    if not record.get("invoice_policy"):
        record["invoice_policy"] = "order"


def _check_product_type(env: Env, record: Record) -> None:
    if env.version <= 17:
        kind = record.get("detailed_type") or "consu"
        record["detailed_type"] = kind
        record["type"] = kind
    else:
        record["type"] = record.get("type") or "consu"


def _product_after_create(env: Env, record: Record) -> None:
    if record.get("product_tmpl_id"):
        return
    vals = {k: record.get(k) for k in _TEMPLATE_FIELDS if k in env.spec("product.template").fields}
    [template_id] = env.create(
        "product.template", [{k: v for k, v in vals.items() if v is not None}]
    )
    env.tx.update("product.product", int(record["id"]), {"product_tmpl_id": template_id})
    env.tx.update("product.template", template_id, {"_variant": int(record["id"])})


def _product_before_write(env: Env, record: Record, changes: dict[str, Any]) -> None:
    template_id = record.get("product_tmpl_id")
    mirrored = {k: v for k, v in changes.items() if k in _TEMPLATE_FIELDS}
    if template_id and mirrored:
        env.tx.update("product.template", int(template_id), mirrored)


def _template_before_create(env: Env, record: Record, vals: dict[str, Any]) -> None:
    _check_product_type(env, record)


def _template_after_create(env: Env, record: Record) -> None:
    if record.get("_variant") or env.context.get("_from_variant"):
        return


def part_of(compute: Callable[[Env, Record], Mapping[str, Any]], key: str) -> Any:
    """The compute of one field taken from a function that computes several fields at once."""

    def read(env: Env, record: Record) -> Any:
        return compute(env, record)[key]

    return read


def _product_fields() -> dict[str, F]:
    return {
        "name": c(required=True, string="Name"),
        "default_code": c(string="Internal Reference"),
        "barcode": c(),
        "type": sel("consu", "service", "combo", "product", default="consu"),
        "detailed_type": sel("consu", "service", "product", until=17),
        "is_storable": b(since=18, string="Track Inventory"),
        "tracking": sel("none", "lot", "serial", default="none"),
        "list_price": fl(default=1.0),
        "standard_price": fl(),
        "active": b(default=True),
        "company_id": m2o("res.company"),
        "sale_ok": b(default=True),
        "purchase_ok": b(default=True),
        "invoice_policy": sel("order", "delivery"),
        "categ_id": m2o("product.category", default=1),  # "All", made with the database
        "uom_id": m2o("uom.uom", default=1),
    }


# ---------------------------------------------------------------------- stock


def _move_write(env: Env, ids: list[int], vals: dict[str, Any]) -> bool:
    quantity_key = "quantity" if env.version >= 17 else None
    plain = {k: v for k, v in vals.items() if k != quantity_key}
    if plain:
        env.write("stock.move", ids, plain)
    for move_id in ids:
        move = env.rec("stock.move", move_id)
        if "move_line_ids" in vals:
            stock.sync_move_from_lines(env, move)
        if quantity_key and quantity_key in vals:
            stock.set_move_quantity(
                env, env.rec("stock.move", move_id), float(vals[quantity_key] or 0.0)
            )
    return True


def _picking_validate(env: Env, ids: list[int]) -> Any:
    if not env.context.get("button_validate_picking_ids"):
        env = env.with_context(button_validate_picking_ids=ids)
    return stock.button_validate(env, ids)


def _picking_assign(env: Env, ids: list[int]) -> bool:
    for picking_id in ids:
        stock.confirm_picking(env, picking_id)
    return True


def _backorder_before_create(env: Env, record: Record, vals: dict[str, Any]) -> None:
    picks = env.context.get("default_pick_ids") or []
    if "pick_ids" not in vals and picks:
        record["pick_ids"] = [int(cmd[1]) for cmd in picks if cmd and cmd[0] == 4]


def _backorder_after_create(env: Env, record: Record) -> None:
    if not record.get("backorder_confirmation_line_ids"):
        env.create(
            "stock.backorder.confirmation.line",
            [
                {"backorder_confirmation_id": record["id"], "picking_id": pid, "to_backorder": True}
                for pid in record.get("pick_ids") or []
            ],
        )


def _immediate_process(env: Env, ids: list[int]) -> Any:
    wizard = env.rec("stock.immediate.transfer", ids[0])
    return stock.immediate_transfer(env, [int(i) for i in wizard.get("pick_ids") or []])


def _backorder_process(env: Env, ids: list[int]) -> Any:
    wizard = env.rec("stock.backorder.confirmation", ids[0])
    not_to_do = []
    for line_id in wizard.get("backorder_confirmation_line_ids") or []:
        line = env.rec("stock.backorder.confirmation.line", line_id)
        if not line.get("to_backorder"):
            not_to_do.append(int(line["picking_id"]))
    to_validate = env.context.get("button_validate_picking_ids")
    if not to_validate:
        return True
    inner = env.with_context(skip_backorder=True)
    if not_to_do:
        inner = inner.with_context(picking_ids_not_to_backorder=not_to_do)
    return stock.button_validate(inner, list(to_validate))


def _backorder_cancel(env: Env, ids: list[int]) -> Any:
    wizard = env.rec("stock.backorder.confirmation", ids[0])
    to_validate = env.context.get("button_validate_picking_ids")
    if not to_validate:
        return True
    inner = env.with_context(
        skip_backorder=True, picking_ids_not_to_backorder=list(wizard.get("pick_ids") or [])
    )
    return stock.button_validate(inner, list(to_validate))


def _quant_create(env: Env, vals_list: Any = None, **params: Any) -> Any:
    vals_list = vals_list if vals_list is not None else params.get("vals")
    single = isinstance(vals_list, dict)
    items = [vals_list] if single else list(vals_list or [])
    ids: list[int] = []
    # Odoo finds the quant of (product, location, lot) through an index (`_gather`): one pass
    # over the table per call, not one per record, keeps a batch of thousands linear too.
    index: dict[tuple[Any, Any, Any], int] = {}
    for q in env.table("stock.quant").values():
        index.setdefault(
            (q.get("product_id"), q.get("location_id"), q.get("lot_id") or None), int(q["id"])
        )
    for vals in items:
        if env.context.get("inventory_mode") and "inventory_quantity" in vals:
            key = (vals.get("product_id"), vals.get("location_id"), vals.get("lot_id") or None)
            existing = index.get(key)
            if existing is not None:
                quant_id = existing
                env.tx.update(
                    "stock.quant",
                    quant_id,
                    {
                        "inventory_quantity": float(vals["inventory_quantity"]),
                        "inventory_quantity_set": True,
                    },
                )
                ids.append(quant_id)
                continue
            location = env.rec("stock.location", int(vals["location_id"]))
            [quant_id] = env.create(
                "stock.quant",
                [
                    {
                        "product_id": vals["product_id"],
                        "location_id": vals["location_id"],
                        "lot_id": vals.get("lot_id") or False,
                        "company_id": location.get("company_id") or False,
                    }
                ],
            )
            env.tx.update(
                "stock.quant",
                quant_id,
                {
                    "inventory_quantity": float(vals["inventory_quantity"]),
                    "inventory_quantity_set": True,
                },
            )
            index[key] = quant_id
            ids.append(quant_id)
        else:
            raise UserError(
                "Quants cannot be created for consumables or services."
                if not vals.get("product_id")
                else "You are not allowed to create or edit quants outside inventory mode."
            )
    return ids[0] if single else ids


def _quant_write(env: Env, ids: list[int], vals: dict[str, Any]) -> bool:
    allowed = {"inventory_quantity", "inventory_quantity_set", "lot_id"}
    if set(vals) - allowed or not env.context.get("inventory_mode"):
        raise UserError("Quant's editing is restricted, you can't do this operation.")
    env.write("stock.quant", ids, vals)
    if "inventory_quantity" in vals:
        for quant_id in ids:
            env.tx.update("stock.quant", quant_id, {"inventory_quantity_set": True})
    return True


def _quant_apply(env: Env, ids: list[int]) -> None:
    stock.apply_inventory(env, ids)


# ---------------------------------------------------------------------- companies


def _company_after_create(env: Env, record: Record) -> None:
    """A new company gets a partner and is added to its creator's companies; like Odoo 18 outside
    its test mode, it gets no warehouse (create one) and no chart of accounts (no taxes)."""
    company_id = int(record["id"])
    if not record.get("partner_id"):
        [partner_id] = env.create("res.partner", [{"name": record["name"], "is_company": True}])
        env.tx.update("res.company", company_id, {"partner_id": partner_id})
    if not record.get("currency_id"):
        env.tx.update("res.company", company_id, {"currency_id": 1})
    for uid in (1, env.uid):
        user = env.table("res.users").get(uid)
        if user is not None and company_id not in (user.get("company_ids") or []):
            companies = [*(user.get("company_ids") or []), company_id]
            env.tx.update("res.users", uid, {"company_ids": companies})


def _warehouse_after_create(env: Env, record: Record) -> None:
    """Locations and operation types of a new warehouse."""
    if record.get("lot_stock_id"):
        return
    warehouse_id = int(record["id"])
    company_id = int(record["company_id"])
    code = str(record["code"])
    [view] = env.create(
        "stock.location", [{"name": code, "usage": "view", "company_id": company_id}]
    )
    [stock_loc] = env.create(
        "stock.location",
        [{"name": "Stock", "usage": "internal", "location_id": view, "company_id": company_id}],
    )
    customer = docs._location(env, "customer")
    supplier = docs._location(env, "supplier")
    [in_type, out_type] = env.create(
        "stock.picking.type",
        [
            {
                "name": "Receipts",
                "code": "incoming",
                "sequence_code": "IN",
                "warehouse_id": warehouse_id,
                "default_location_src_id": supplier,
                "default_location_dest_id": stock_loc,
                "company_id": company_id,
            },
            {
                "name": "Delivery Orders",
                "code": "outgoing",
                "sequence_code": "OUT",
                "warehouse_id": warehouse_id,
                "default_location_src_id": stock_loc,
                "default_location_dest_id": customer,
                "company_id": company_id,
            },
        ],
    )
    env.tx.update(
        "stock.warehouse",
        warehouse_id,
        {
            "lot_stock_id": stock_loc,
            "view_location_id": view,
            "in_type_id": in_type,
            "out_type_id": out_type,
        },
    )
    for location_id in (view, stock_loc):
        env.tx.update("stock.location", location_id, {"warehouse_id": warehouse_id})


# ---------------------------------------------------------------------- specs


def build_specs() -> list[ModelSpec]:
    product_fields = _product_fields()
    return [
        ModelSpec(
            "res.currency",
            "Currency",
            {"name": c(required=True), "symbol": c(), "active": b(default=True)},
        ),
        ModelSpec("res.country", "Country", {"name": c(required=True), "code": c()}),
        ModelSpec(
            "res.company",
            "Companies",
            {
                "name": c(required=True, string="Company Name"),
                "currency_id": m2o("res.currency"),
                "partner_id": m2o("res.partner"),
                "country_id": m2o("res.country"),
            },
            after_create=_company_after_create,
        ),
        ModelSpec(
            "res.users",
            "User",
            {
                "name": c(required=True),
                "login": c(required=True),
                "company_id": m2o("res.company", required=True),
                "company_ids": m2m("res.company"),
                "partner_id": m2o("res.partner"),
                "active": b(default=True),
            },
            model_methods={
                "context_get": lambda env: {"lang": "en_US", "tz": "UTC", "uid": env.uid}
            },
        ),
        ModelSpec(
            "res.partner",
            "Contact",
            {
                "name": c(string="Name"),
                "ref": c(string="Reference"),
                "email": c(),
                "phone": c(),
                "street": c(),
                "street2": c(),
                "city": c(),
                "zip": c(),
                "country_id": m2o("res.country"),
                "vat": c(),
                "is_company": b(),
                "company_id": m2o("res.company", string="Company"),
                "active": b(default=True),
                "customer_rank": i(),
                "supplier_rank": i(),
                "parent_id": m2o("res.partner"),
                "type": sel("contact", "invoice", "delivery", "other", default="contact"),
                "lang": c(),
                "comment": F("text"),
                "credit": computed("float", docs.partner_credit),
                "credit_limit": fl(),
                "use_partner_credit_limit": b(),
                "child_ids": o2m("res.partner", "parent_id"),
            },
            check_company=("parent_id",),
        ),
        ModelSpec("uom.uom", "Product Unit of Measure", {"name": c(required=True)}),
        ModelSpec(
            "product.category",
            "Product Category",
            {
                "name": c(required=True),
                "parent_id": m2o("product.category"),
                "complete_name": computed("char", _category_display),
            },
            display=_category_display,
        ),
        ModelSpec(
            "product.template",
            "Product",
            {
                **product_fields,
                "product_variant_ids": o2m("product.product", "product_tmpl_id"),
            },
            before_create=_template_before_create,
            after_create=_template_after_create,
        ),
        ModelSpec(
            "product.product",
            "Product Variant",
            {
                **product_fields,
                "product_tmpl_id": m2o("product.template"),
                "qty_available": computed(
                    "float", part_of(stock.product_quantities, "qty_available")
                ),
                "free_qty": computed("float", part_of(stock.product_quantities, "free_qty")),
                "incoming_qty": computed(
                    "float", part_of(stock.product_quantities, "incoming_qty")
                ),
                "outgoing_qty": computed(
                    "float", part_of(stock.product_quantities, "outgoing_qty")
                ),
                "virtual_available": computed(
                    "float", part_of(stock.product_quantities, "virtual_available")
                ),
                "lst_price": computed("float", lambda env, r: float(r.get("list_price") or 0.0)),
            },
            display=_product_display,
            before_create=_product_before_create,
            after_create=_product_after_create,
            before_write=_product_before_write,
        ),
        ModelSpec(
            "product.pricelist",
            "Pricelist",
            {
                "name": c(required=True),
                "currency_id": m2o("res.currency", default=1),
                "company_id": m2o("res.company"),
                "active": b(default=True),
                "item_ids": o2m("product.pricelist.item", "pricelist_id"),
            },
        ),
        ModelSpec(
            "product.pricelist.item",
            "Pricelist Rule",
            {
                "pricelist_id": m2o("product.pricelist", required=True),
                "applied_on": sel(
                    "3_global",
                    "2_product_category",
                    "1_product",
                    "0_product_variant",
                    default="3_global",
                ),
                "product_id": m2o("product.product"),
                "product_tmpl_id": m2o("product.template"),
                "categ_id": m2o("product.category"),
                "min_quantity": fl(),
                "compute_price": sel("fixed", "percentage", "formula", default="fixed"),
                "fixed_price": fl(),
                "percent_price": fl(),
                "price_discount": fl(),
                "price_surcharge": fl(),
                "base": sel("list_price", "standard_price", "pricelist", default="list_price"),
                "date_start": F("datetime"),
                "date_end": F("datetime"),
            },
        ),
        ModelSpec(
            "account.tax",
            "Tax",
            {
                "name": c(required=True),
                "amount": fl(),
                "company_id": m2o("res.company"),
                "type_tax_use": sel("sale", "purchase", "none", default="sale"),
            },
        ),
        ModelSpec(
            "stock.location",
            "Inventory Locations",
            {
                "name": c(required=True),
                "usage": sel(
                    "supplier",
                    "view",
                    "internal",
                    "customer",
                    "inventory",
                    "production",
                    "transit",
                    default="internal",
                ),
                "location_id": m2o("stock.location"),
                "company_id": m2o("res.company"),
                "active": b(default=True),
                "warehouse_id": m2o("stock.warehouse"),
                "complete_name": computed("char", _location_display),
            },
            display=_location_display,
        ),
        ModelSpec(
            "stock.warehouse",
            "Warehouse",
            {
                "name": c(required=True),
                "code": c(required=True),
                "company_id": m2o("res.company", required=True, default=_company),
                "lot_stock_id": m2o("stock.location"),
                "view_location_id": m2o("stock.location"),
                "in_type_id": m2o("stock.picking.type"),
                "out_type_id": m2o("stock.picking.type"),
                "active": b(default=True),
            },
            after_create=_warehouse_after_create,
        ),
        ModelSpec(
            "stock.picking.type",
            "Picking Type",
            {
                "name": c(required=True),
                "code": sel("incoming", "outgoing", "internal"),
                "sequence_code": c(),
                "warehouse_id": m2o("stock.warehouse"),
                "default_location_src_id": m2o("stock.location"),
                "default_location_dest_id": m2o("stock.location"),
                "company_id": m2o("res.company"),
                "active": b(default=True),
                "create_backorder": sel("ask", "always", "never", default="ask"),
            },
            display=lambda env, r: (
                f"{env.rec('stock.warehouse', int(r['warehouse_id']))['name']}: {r['name']}"
                if r.get("warehouse_id")
                else str(r["name"])
            ),
        ),
        ModelSpec(
            "stock.lot",
            "Lot/Serial",
            {
                "name": c(required=True, string="Lot/Serial Number"),
                "product_id": m2o("product.product", required=True),
                "company_id": m2o("res.company"),
            },
        ),
        ModelSpec(
            "stock.quant",
            "Quants",
            {
                "product_id": m2o("product.product", required=True),
                "location_id": m2o("stock.location", required=True),
                "lot_id": m2o("stock.lot"),
                "company_id": m2o("res.company"),
                "quantity": fl(readonly=True),
                "reserved_quantity": fl(readonly=True),
                "inventory_quantity": fl(),
                "inventory_quantity_set": b(),
                "inventory_diff_quantity": computed(
                    "float",
                    lambda env, r: (
                        (
                            float(r.get("inventory_quantity") or 0.0)
                            - float(r.get("quantity") or 0.0)
                        )
                        if r.get("inventory_quantity_set")
                        else 0.0
                    ),
                ),
                "available_quantity": computed(
                    "float",
                    lambda env, r: (
                        float(r.get("quantity") or 0.0) - float(r.get("reserved_quantity") or 0.0)
                    ),
                ),
            },
            methods={"action_apply_inventory": _quant_apply, "write": _quant_write},
            model_methods={"create": _quant_create},
        ),
        ModelSpec(
            "stock.picking",
            "Transfer",
            {
                "name": c(default="/"),
                "origin": c(),
                "partner_id": m2o("res.partner"),
                "picking_type_id": m2o("stock.picking.type", required=True),
                "picking_type_code": F(
                    "selection",
                    related="picking_type_id.code",
                    selection=("incoming", "outgoing", "internal"),
                ),
                "location_id": m2o("stock.location", required=True),
                "location_dest_id": m2o("stock.location", required=True),
                "state": computed("selection", stock.picking_state),
                "move_ids": o2m("stock.move", "picking_id"),
                "move_line_ids": o2m("stock.move.line", "picking_id"),
                "sale_id": m2o("sale.order"),
                "purchase_id": m2o("purchase.order"),
                "backorder_id": m2o("stock.picking"),
                "backorder_ids": o2m("stock.picking", "backorder_id"),
                "company_id": m2o("res.company", default=_company),
                "scheduled_date": F("datetime"),
                "date_done": F("datetime"),
                "move_type": sel("direct", "one", default="direct"),
            },
            methods={"button_validate": _picking_validate, "action_assign": _picking_assign},
        ),
        ModelSpec(
            "stock.move",
            "Stock Move",
            {
                "name": c(),
                "product_id": m2o("product.product", required=True),
                "product_uom_qty": fl(string="Demand"),
                "quantity": fl(since=17),
                "picked": b(since=17),
                "quantity_done": fl(until=16),
                "reserved_availability": computed(
                    "float",
                    lambda env, r: sum(
                        float(env.rec("stock.move.line", x).get("reserved_uom_qty") or 0.0)
                        for x in r.get("move_line_ids") or []
                    ),
                    until=16,
                ),
                "state": sel(
                    "draft",
                    "waiting",
                    "confirmed",
                    "partially_available",
                    "assigned",
                    "done",
                    "cancel",
                    default="draft",
                ),
                "picking_id": m2o("stock.picking"),
                "location_id": m2o("stock.location", required=True),
                "location_dest_id": m2o("stock.location", required=True),
                "sale_line_id": m2o("sale.order.line"),
                "purchase_line_id": m2o("purchase.order.line"),
                "move_line_ids": o2m("stock.move.line", "move_id"),
                "company_id": m2o("res.company"),
                "origin": c(),
                "date": F("datetime"),
                "is_inventory": b(),
                "product_uom": m2o("uom.uom", default=1),
            },
            methods={"write": _move_write},
        ),
        ModelSpec(
            "stock.move.line",
            "Product Moves (Stock Move Line)",
            {
                "move_id": m2o("stock.move"),
                "picking_id": m2o("stock.picking"),
                "product_id": m2o("product.product", required=True),
                "lot_id": m2o("stock.lot"),
                "lot_name": c(),
                "quantity": fl(since=17),
                "picked": b(since=17),
                "reserved_uom_qty": fl(until=16),
                "qty_done": fl(until=16),
                "location_id": m2o("stock.location", required=True),
                "location_dest_id": m2o("stock.location", required=True),
                "company_id": m2o("res.company"),
            },
            before_unlink=stock.release_line,
        ),
        ModelSpec(  # Odoo 16 only (17 dropped it): asked when nothing was marked done
            "stock.immediate.transfer",
            "Immediate Transfer",
            {"pick_ids": m2m("stock.picking"), "show_transfers": b()},
            before_create=_backorder_before_create,
            methods={"process": _immediate_process},
        ),
        ModelSpec(
            "stock.backorder.confirmation",
            "Backorder Confirmation",
            {
                "pick_ids": m2m("stock.picking"),
                "show_transfers": b(),
                "backorder_confirmation_line_ids": o2m(
                    "stock.backorder.confirmation.line", "backorder_confirmation_id"
                ),
            },
            before_create=_backorder_before_create,
            after_create=_backorder_after_create,
            methods={"process": _backorder_process, "process_cancel_backorder": _backorder_cancel},
        ),
        ModelSpec(
            "stock.backorder.confirmation.line",
            "Backorder Confirmation Line",
            {
                "backorder_confirmation_id": m2o("stock.backorder.confirmation"),
                "picking_id": m2o("stock.picking"),
                "to_backorder": b(),
            },
        ),
        ModelSpec(
            "sale.order",
            "Sales Order",
            {
                "name": c(default="New", string="Order Reference"),
                "partner_id": m2o("res.partner", required=True, string="Customer"),
                "partner_invoice_id": m2o("res.partner"),
                "partner_shipping_id": m2o("res.partner"),
                "client_order_ref": c(string="Customer Reference"),
                "origin": c(),
                "company_id": m2o("res.company", required=True),
                "warehouse_id": m2o("stock.warehouse"),
                "pricelist_id": m2o("product.pricelist"),
                "currency_id": m2o("res.currency"),
                "state": sel("draft", "sent", "sale", "cancel", default="draft"),
                "locked": b(since=17),
                "order_line": o2m("sale.order.line", "order_id"),
                "picking_ids": o2m("stock.picking", "sale_id"),
                "invoice_ids": computed("many2many", docs.sale_invoice_ids, "account.move"),
                "invoice_count": computed(
                    "integer", lambda env, r: len(docs.sale_invoice_ids(env, r))
                ),
                "invoice_status": computed("selection", docs.sale_invoice_status),
                "amount_untaxed": computed(
                    "float", part_of(docs.sale_order_amounts, "amount_untaxed")
                ),
                "amount_tax": computed("float", part_of(docs.sale_order_amounts, "amount_tax")),
                "amount_total": computed("float", part_of(docs.sale_order_amounts, "amount_total")),
                "date_order": F("datetime"),
                "commitment_date": F("datetime"),
                "note": F("text"),
                "user_id": m2o("res.users"),
            },
            order="date_order desc, id desc",
            before_create=docs.sale_before_create,
            before_write=docs.sale_before_write,
            methods=docs.METHODS["sale.order"],
            check_company=("partner_id", "warehouse_id"),
        ),
        ModelSpec(
            "sale.order.line",
            "Sales Order Line",
            {
                "order_id": m2o("sale.order", required=True),
                "product_id": m2o("product.product", string="Product"),
                "name": F("text", required=True, string="Description"),
                "product_uom_qty": fl(string="Quantity"),
                "price_unit": fl(),
                "discount": fl(),
                "tax_id": m2m("account.tax"),
                "company_id": m2o("res.company"),
                "customer_lead": fl(string="Lead Time"),
                "state": F("selection", related="order_id.state"),
                "qty_delivered": computed(
                    "float", part_of(docs.sale_line_quantities, "qty_delivered")
                ),
                "qty_invoiced": computed(
                    "float", part_of(docs.sale_line_quantities, "qty_invoiced")
                ),
                "qty_to_invoice": computed(
                    "float", part_of(docs.sale_line_quantities, "qty_to_invoice")
                ),
                "price_subtotal": computed(
                    "float", part_of(docs.sale_line_amounts, "price_subtotal")
                ),
                "price_tax": computed("float", part_of(docs.sale_line_amounts, "price_tax")),
                "price_total": computed("float", part_of(docs.sale_line_amounts, "price_total")),
                "move_ids": o2m("stock.move", "sale_line_id"),
            },
            before_create=docs.sale_line_before_create,
            after_create=sale_changes.sale_line_after_create,
            before_write=sale_changes.sale_line_before_write,
            before_unlink=sale_changes.sale_line_before_unlink,
            check_company=("product_id",),
        ),
        ModelSpec(
            "sale.advance.payment.inv",
            "Sales Advance Payment Invoice",
            {
                "advance_payment_method": sel(
                    "delivered", "percentage", "fixed", default="delivered"
                ),
                "sale_order_ids": m2m(
                    "sale.order", default=lambda env: env.context.get("active_ids") or []
                ),
                "deduct_down_payments": b(default=True),
                "consolidated_billing": b(default=True),
                "amount": fl(),
                "fixed_amount": fl(),
            },
            methods=docs.METHODS["sale.advance.payment.inv"],
        ),
        ModelSpec(
            "account.move",
            "Journal Entry",
            {
                "name": c(),
                "ref": c(),
                "move_type": sel(
                    "entry", "out_invoice", "out_refund", "in_invoice", "in_refund", default="entry"
                ),
                "partner_id": m2o("res.partner"),
                "state": sel("draft", "posted", "cancel", default="draft"),
                "invoice_date": F("date"),
                "date": F("date"),
                "invoice_origin": c(),
                "currency_id": m2o("res.currency"),
                "company_id": m2o("res.company"),
                "invoice_line_ids": o2m("account.move.line", "move_id"),
                "line_ids": computed(
                    "one2many",
                    lambda env, r: list(r.get("invoice_line_ids") or []),
                    "account.move.line",
                ),
                "amount_untaxed": computed("float", part_of(docs.move_amounts, "amount_untaxed")),
                "amount_tax": computed("float", part_of(docs.move_amounts, "amount_tax")),
                "amount_total": computed("float", part_of(docs.move_amounts, "amount_total")),
                "amount_residual": computed("float", part_of(docs.move_amounts, "amount_residual")),
                "payment_state": computed("selection", part_of(docs.move_amounts, "payment_state")),
            },
            before_create=docs.move_before_create,
            methods=docs.METHODS["account.move"],
        ),
        ModelSpec(
            "account.move.line",
            "Journal Item",
            {
                "move_id": m2o("account.move", required=True),
                "product_id": m2o("product.product"),
                "name": c(),
                "quantity": fl(),
                "price_unit": fl(),
                "discount": fl(),
                "price_subtotal": computed("float", docs.line_subtotal),
                "tax_ids": m2m("account.tax"),
                "sale_line_ids": m2m("sale.order.line"),
                "purchase_line_id": m2o("purchase.order.line"),
                "display_type": sel(
                    "product", "line_section", "line_note", "tax", "payment_term", default="product"
                ),
                "company_id": m2o("res.company"),
            },
            before_create=docs.move_line_before_create,
        ),
        ModelSpec(
            "purchase.order",
            "Purchase Order",
            {
                "name": c(default="New"),
                "partner_id": m2o("res.partner", required=True, string="Vendor"),
                "partner_ref": c(),
                "origin": c(),
                "company_id": m2o("res.company", required=True),
                "currency_id": m2o("res.currency"),
                "state": sel(
                    "draft", "sent", "to approve", "purchase", "done", "cancel", default="draft"
                ),
                "order_line": o2m("purchase.order.line", "order_id"),
                "picking_type_id": m2o("stock.picking.type"),
                "picking_ids": o2m("stock.picking", "purchase_id"),
                "invoice_ids": computed("many2many", docs.purchase_invoice_ids, "account.move"),
                "invoice_status": computed("selection", docs.purchase_invoice_status),
                "amount_total": computed("float", docs.purchase_amount_total),
                "date_order": F("datetime"),
                "date_approve": F("datetime"),
                "notes": F("text"),
            },
            before_create=docs.purchase_before_create,
            methods=docs.METHODS["purchase.order"],
            check_company=("partner_id",),
        ),
        ModelSpec(
            "purchase.order.line",
            "Purchase Order Line",
            {
                "order_id": m2o("purchase.order", required=True),
                "product_id": m2o("product.product"),
                "name": F("text", required=True),
                "product_qty": fl(),
                "price_unit": fl(),
                "taxes_id": m2m("account.tax"),
                "date_planned": F("datetime"),
                "company_id": m2o("res.company"),
                "qty_received": computed(
                    "float", part_of(docs.purchase_line_quantities, "qty_received")
                ),
                "qty_invoiced": computed(
                    "float", part_of(docs.purchase_line_quantities, "qty_invoiced")
                ),
                "move_ids": o2m("stock.move", "purchase_line_id"),
            },
            before_create=docs.purchase_line_before_create,
            before_write=purchase_line_before_write,
            check_company=("product_id",),
        ),
        *replenishment_specs(),
    ]


def seed(env: Env, *, login: str, company_name: str = "My Company") -> None:
    """The database after installing sale_management, stock, purchase and account, no demo data."""
    # every ISO currency ships with Odoo, only the company's is active: a second currency is
    # activated by a person (the rest are created on demand: ``res.currency`` create)
    env.create(
        "res.currency",
        [{"name": "USD", "symbol": "$"}, {"name": "EUR", "symbol": "€", "active": False}],
    )
    env.create("res.country", [{"name": code, "code": code} for code in sorted(COUNTRY_CODES)])
    env.create("uom.uom", [{"name": "Units"}])
    env.create("product.category", [{"name": "All"}])
    # inserted raw: the hooks of res.company need a user and a warehouse setup first
    env.tx.insert(
        "res.company", {"id": env.tx.next_id("res.company"), "name": company_name, "currency_id": 1}
    )
    # user 1 = OdooBot (superuser), user 2 = the administrator, as in a fresh database
    env.tx.insert(
        "res.users",
        {
            "id": env.tx.next_id("res.users"),
            "name": "OdooBot",
            "login": "__system__",
            "company_id": 1,
            "company_ids": [1],
            "active": False,
        },
    )
    env.tx.insert(
        "res.users",
        {
            "id": env.tx.next_id("res.users"),
            "name": "Administrator",
            "login": login,
            "company_id": 1,
            "company_ids": [1],
            "active": True,
        },
    )
    [partner] = env.create("res.partner", [{"name": company_name, "is_company": True}])
    env.tx.update("res.company", 1, {"partner_id": partner})
    env.create(
        "stock.location",
        [
            {"name": "Partners", "usage": "view"},
            {"name": "Customers", "usage": "customer"},
            {"name": "Vendors", "usage": "supplier"},
            {"name": "Inventory adjustment", "usage": "inventory"},
        ],
    )
    env.create("stock.warehouse", [{"name": company_name, "code": "WH", "company_id": 1}])
    env.create(
        "account.tax",
        [
            {"name": "15%", "amount": 15.0, "type_tax_use": "sale", "company_id": 1},
            {"name": "15%", "amount": 15.0, "type_tax_use": "purchase", "company_id": 1},
        ],
    )
    env.create("product.pricelist", [{"name": "Default USD pricelist", "currency_id": 1}])
