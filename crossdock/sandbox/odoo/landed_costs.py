"""Landed costs in the sandbox (Odoo's module ``stock_landed_costs``): ``stock.landed.cost``, its
``stock.landed.cost.lines`` and ``stock.valuation.adjustment.lines``, with the fields and methods
of ``addons/stock_landed_costs/models/stock_landed_cost.py`` (16 to 19).

* ``create`` names the landed cost from the ``stock.landed.cost`` sequence (``LC/00001``).
* ``compute_landed_cost`` replaces the adjustment lines: one per cost line and receipt move of a
  product valued at FIFO or average cost (the category's ``property_cost_method``), the cost line
  split ``equal`` / ``by_quantity`` / ``by_current_cost_price`` / ``by_weight`` / ``by_volume``
  as Odoo does (rounded to the cent, the rounding difference on the last line). A move's former
  cost is its purchase line's price times its quantity (the sandbox keeps no valuation layers).
* ``button_validate`` refuses what Odoo refuses (not a draft, no transfers, no product at FIFO or
  average cost, lines not summing to the cost), computes when nothing was, marks it ``done`` and
  raises each product's ``standard_price`` by its share over the quantity on hand (AVCO/FIFO).
  It posts no journal entry: the sandbox keeps no stock accounting.
* ``button_cancel`` refuses a validated landed cost.

Vendor bill lines get ``is_landed_costs_line``. Products get ``landed_cost_ok`` and
``split_method_landed_cost`` (and ``weight``/``volume``); categories get
``property_cost_method`` (``standard`` by default, as in Odoo).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from crossdock.sandbox.odoo.errors import UserError
from crossdock.sandbox.odoo.orm import Env, F, ModelSpec
from crossdock.sandbox.odoo.store import Record

__all__ = ["with_landed_costs"]

SPLIT_METHODS = ("equal", "by_quantity", "by_current_cost_price", "by_weight", "by_volume")
_CENT = Decimal("0.01")


def _cost_before_create(env: Env, record: Record, vals: dict[str, Any]) -> None:
    if record.get("name") in (None, "", "New"):
        number = 1 + len(env.table("stock.landed.cost"))
        record["name"] = f"LC/{number:05d}"
    record["state"] = "draft"
    if not record.get("company_id"):
        record["company_id"] = env.company_id


def _amount_total(env: Env, record: Record) -> float:
    lines = env.records("stock.landed.cost.lines", record.get("cost_lines") or [])
    return round(sum(float(line.get("price_unit") or 0.0) for line in lines), 2)


def _cost_method(env: Env, product: Record) -> str:
    category = env.rec("product.category", int(product.get("categ_id") or 1))
    return str(category.get("property_cost_method") or "standard")


def _moves(env: Env, cost: Record) -> list[Record]:
    pickings = env.records("stock.picking", cost.get("picking_ids") or [])
    return env.records("stock.move", [m for p in pickings for m in p.get("move_ids") or []])


def _move_quantity(env: Env, move: Record) -> float:
    key = "quantity" if env.version >= 17 else "quantity_done"
    return float(move.get(key) or 0.0)


def _valuation_lines(env: Env, cost: Record) -> list[dict[str, Any]]:
    lines = []
    for move in _moves(env, cost):
        product = env.rec("product.product", int(move["product_id"]))
        quantity = _move_quantity(env, move)
        if (
            _cost_method(env, product) not in ("fifo", "average")
            or move.get("state") == "cancel"
            or not quantity
        ):
            continue
        price = 0.0
        if move.get("purchase_line_id"):
            price = float(
                env.rec("purchase.order.line", int(move["purchase_line_id"])).get("price_unit")
                or 0.0
            )
        lines.append(
            {
                "product_id": product["id"],
                "move_id": move["id"],
                "quantity": quantity,
                "former_cost": round(price * quantity, 2),
                "weight": float(product.get("weight") or 0.0) * quantity,
                "volume": float(product.get("volume") or 0.0) * quantity,
            }
        )
    if not lines:
        raise UserError(
            "You cannot apply landed costs on the chosen Transfers(s). Landed costs can only be "
            "applied for products with FIFO or average costing method."
        )
    return lines


def _round(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def compute_landed_cost(env: Env, ids: list[int]) -> bool:
    adjustments = "stock.valuation.adjustment.lines"
    old = [a["id"] for a in env.table(adjustments).values() if a.get("cost_id") in ids]
    if old:
        env.unlink(adjustments, old)
    for cost in env.records("stock.landed.cost", ids):
        if not _moves(env, cost):
            continue
        valuation = _valuation_lines(env, cost)
        totals = {
            "quantity": sum(Decimal(str(v["quantity"])) for v in valuation),
            "weight": sum(Decimal(str(v["weight"])) for v in valuation),
            "volume": sum(Decimal(str(v["volume"])) for v in valuation),
            "former_cost": sum(Decimal(str(v["former_cost"])) for v in valuation),
        }
        basis = {
            "by_quantity": "quantity",
            "by_weight": "weight",
            "by_volume": "volume",
            "by_current_cost_price": "former_cost",
        }
        for line in env.records("stock.landed.cost.lines", cost.get("cost_lines") or []):
            price = Decimal(str(line.get("price_unit") or 0))
            field = basis.get(str(line.get("split_method")))
            shares = []
            for values in valuation:
                if field is not None and totals[field]:
                    share = Decimal(str(values[field])) * price / totals[field]
                else:  # equal, or a basis that sums to nothing
                    share = price / len(valuation)
                shares.append(_round(share))
            shares[-1] += _round(price - sum(shares))
            env.create(
                adjustments,
                [
                    {
                        **values,
                        "cost_id": cost["id"],
                        "cost_line_id": line["id"],
                        "additional_landed_cost": float(share),
                    }
                    for values, share in zip(valuation, shares, strict=True)
                ],
            )
    return True


def _adjustments(env: Env, cost: Record) -> list[Record]:
    table = env.table("stock.valuation.adjustment.lines")
    return [a for a in table.values() if a.get("cost_id") == cost["id"]]


def button_validate(env: Env, ids: list[int]) -> bool:
    costs = env.records("stock.landed.cost", ids)
    if any(c.get("state") != "draft" for c in costs):
        raise UserError("Only draft landed costs can be validated")
    for cost in costs:
        if not _moves(env, cost):
            raise UserError("Please define Transfers on which those additional costs should apply.")
    todo = [c["id"] for c in costs if not _adjustments(env, c)]
    if todo:
        compute_landed_cost(env, todo)
    for cost in env.records("stock.landed.cost", ids):
        lines = _adjustments(env, cost)
        added = round(sum(float(a.get("additional_landed_cost") or 0.0) for a in lines), 2)
        if abs(added - _amount_total(env, cost)) >= 0.005:
            raise UserError(
                "Cost and adjustments lines do not match. You should maybe recompute the landed "
                "costs."
            )
        by_product: dict[int, float] = {}
        for adjustment in lines:
            product_id = int(adjustment["product_id"])
            extra = float(adjustment.get("additional_landed_cost") or 0.0)
            by_product[product_id] = by_product.get(product_id, 0.0) + extra
        for product_id, extra in by_product.items():
            product = env.rec("product.product", product_id)
            on_hand = float(env.get("product.product", product, "qty_available") or 0.0)
            if on_hand:
                price = float(product.get("standard_price") or 0.0) + extra / on_hand
                env.write("product.product", [product_id], {"standard_price": round(price, 6)})
        env.write("stock.landed.cost", [int(cost["id"])], {"state": "done"})
    return True


def button_cancel(env: Env, ids: list[int]) -> bool:
    if any(c.get("state") == "done" for c in env.records("stock.landed.cost", ids)):
        raise UserError(
            "Validated landed costs cannot be cancelled, but you could create negative landed "
            "costs to reverse them"
        )
    return env.write("stock.landed.cost", ids, {"state": "cancel"})


def _split(**kw: Any) -> F:
    return F("selection", selection=SPLIT_METHODS, **kw)


SPECS = [
    ModelSpec(
        "stock.landed.cost",
        "Stock Landed Cost",
        {
            "name": F("char", readonly=True),
            "date": F("date"),
            "target_model": F("selection", selection=("picking",), default="picking"),
            "picking_ids": F("many2many", relation="stock.picking"),
            "cost_lines": F("one2many", relation="stock.landed.cost.lines", inverse="cost_id"),
            "valuation_adjustment_lines": F(
                "one2many", relation="stock.valuation.adjustment.lines", inverse="cost_id"
            ),
            "description": F("text"),
            "amount_total": F("float", compute=_amount_total, readonly=True),
            "state": F("selection", selection=("draft", "done", "cancel"), default="draft"),
            "account_move_id": F("many2one", relation="account.move", readonly=True),
            "vendor_bill_id": F("many2one", relation="account.move"),
            "company_id": F("many2one", relation="res.company"),
        },
        order="date desc, id desc",
        before_create=_cost_before_create,
        methods={
            "compute_landed_cost": compute_landed_cost,
            "button_validate": button_validate,
            "button_cancel": button_cancel,
        },
    ),
    ModelSpec(
        "stock.landed.cost.lines",
        "Stock Landed Cost Line",
        {
            "name": F("char"),
            "cost_id": F("many2one", relation="stock.landed.cost", required=True),
            "product_id": F("many2one", relation="product.product", required=True),
            "price_unit": F("float", required=True),
            "split_method": _split(required=True),
        },
    ),
    ModelSpec(
        "stock.valuation.adjustment.lines",
        "Valuation Adjustment Lines",
        {
            "cost_id": F("many2one", relation="stock.landed.cost", required=True),
            "cost_line_id": F("many2one", relation="stock.landed.cost.lines"),
            "move_id": F("many2one", relation="stock.move"),
            "product_id": F("many2one", relation="product.product", required=True),
            "quantity": F("float", default=1.0),
            "weight": F("float", default=1.0),
            "volume": F("float", default=1.0),
            "former_cost": F("float"),
            "additional_landed_cost": F("float"),
            "final_cost": F(
                "float",
                compute=lambda env, r: (
                    float(r.get("former_cost") or 0.0)
                    + float(r.get("additional_landed_cost") or 0.0)
                ),
                readonly=True,
            ),
        },
    ),
]

PRODUCT_FIELDS = {
    "landed_cost_ok": F("boolean", string="Is a Landed Cost"),
    "split_method_landed_cost": _split(string="Default Split Method"),
    "weight": F("float"),
    "volume": F("float"),
}


def with_landed_costs(specs: list[ModelSpec]) -> list[ModelSpec]:
    """``specs`` with the landed cost models, the products' and categories' fields."""
    out = []
    for spec in specs:
        if spec.name in ("product.product", "product.template"):
            spec = replace(spec, fields={**spec.fields, **PRODUCT_FIELDS})
        elif spec.name == "account.move.line":
            spec = replace(spec, fields={**spec.fields, "is_landed_costs_line": F("boolean")})
        elif spec.name == "product.category":
            cost_method = F("selection", selection=("standard", "fifo", "average"))
            spec = replace(
                spec,
                fields={
                    **spec.fields,
                    "property_cost_method": replace(cost_method, default="standard"),
                },
            )
        out.append(spec)
    return [*out, *SPECS]
