"""Sales, purchases and invoices of the sandbox, with Odoo's document behaviour.

* ``sale.order.action_confirm``: state ``sale`` and a delivery picking whose moves are reserved;
  confirming twice is a ``UserError`` as in Odoo.
* ``sale.advance.payment.inv.create_invoices`` (``delivered``): one draft customer invoice per order
  for ``qty_to_invoice`` (delivered - invoiced for products invoiced on delivery); nothing to
  invoice is a ``UserError``.
* ``account.move.action_post``: number and ``posted`` state; a vendor bill needs its bill date.
* ``purchase.order.button_confirm``: state ``purchase`` and a receipt with its moves ready;
  ``action_create_invoice``: a draft vendor bill for received - billed quantities.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from crossdock.sandbox.odoo.errors import UserError
from crossdock.sandbox.odoo.orm import Env, now_str
from crossdock.sandbox.odoo.sequences import next_move_name, next_name, next_picking_name
from crossdock.sandbox.odoo.stock_logic import confirm_picking
from crossdock.sandbox.odoo.store import Record

__all__ = ["METHODS"]

_EPS = 1e-9


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


def _warehouse_of(env: Env, company_id: int) -> Record:
    for warehouse in env.table("stock.warehouse").values():
        if warehouse.get("company_id") == company_id:
            return warehouse
    raise UserError("No warehouse is defined for this company.")


def _picking_type(env: Env, warehouse: Record, code: str) -> Record:
    key = "out_type_id" if code == "outgoing" else "in_type_id"
    return env.rec("stock.picking.type", int(warehouse[key]))


def _location(env: Env, usage: str) -> int:
    for location in env.table("stock.location").values():
        if location.get("usage") == usage:
            return int(location["id"])
    raise UserError(f"No {usage} location.")


def product_name(env: Env, product_id: int) -> str:
    product = env.rec("product.product", product_id)
    code = product.get("default_code")
    return f"[{code}] {product.get('name')}" if code else str(product.get("name"))


def _is_goods(env: Env, product_id: int) -> bool:
    product = env.rec("product.product", product_id)
    kind = product.get("detailed_type") if env.version <= 17 else product.get("type")
    return kind != "service"


def company_tax(env: Env, company_id: int, use: str) -> list[int]:
    for tax in env.table("account.tax").values():
        if tax.get("company_id") == company_id and tax.get("type_tax_use") == use:
            return [int(tax["id"])]
    return []


def tax_rate(env: Env, tax_ids: list[int] | None) -> float:
    return sum(float(env.rec("account.tax", t).get("amount") or 0.0) for t in tax_ids or []) / 100


# ---------------------------------------------------------------------- sale


def sale_line_quantities(env: Env, line: Record) -> dict[str, float]:
    delivered = 0.0
    for move_id in line.get("move_ids") or []:
        move = env.rec("stock.move", move_id)
        if move.get("state") != "done":
            continue
        dest = env.rec("stock.location", int(move["location_dest_id"])).get("usage")
        sign = 1.0 if dest == "customer" else -1.0
        delivered += sign * float(move.get("product_uom_qty") or 0.0)
    invoiced = 0.0
    for aml in env.table("account.move.line").values():
        if int(line["id"]) not in (aml.get("sale_line_ids") or []):
            continue
        move = env.rec("account.move", int(aml["move_id"]))
        if move.get("state") == "cancel":
            continue
        sign = -1.0 if move.get("move_type") == "out_refund" else 1.0
        invoiced += sign * float(aml.get("quantity") or 0.0)
    order = env.rec("sale.order", int(line["order_id"]))
    product = env.rec("product.product", int(line["product_id"])) if line.get("product_id") else {}
    ordered = float(line.get("product_uom_qty") or 0.0)
    to_invoice = 0.0
    if order.get("state") in ("sale", "done"):
        basis = delivered if product.get("invoice_policy") == "delivery" else ordered
        to_invoice = basis - invoiced
    return {"qty_delivered": delivered, "qty_invoiced": invoiced, "qty_to_invoice": to_invoice}


def sale_line_amounts(env: Env, line: Record) -> dict[str, float]:
    subtotal = (
        float(line.get("product_uom_qty") or 0.0)
        * float(line.get("price_unit") or 0.0)
        * (1 - float(line.get("discount") or 0.0) / 100)
    )
    subtotal = round(subtotal, 2)
    tax = round(subtotal * tax_rate(env, line.get("tax_id")), 2)
    return {"price_subtotal": subtotal, "price_tax": tax, "price_total": subtotal + tax}


def sale_order_amounts(env: Env, order: Record) -> dict[str, float]:
    untaxed = tax = 0.0
    for line_id in order.get("order_line") or []:
        amounts = sale_line_amounts(env, env.rec("sale.order.line", line_id))
        untaxed += amounts["price_subtotal"]
        tax += amounts["price_tax"]
    return {
        "amount_untaxed": round(untaxed, 2),
        "amount_tax": round(tax, 2),
        "amount_total": round(untaxed + tax, 2),
    }


def sale_invoice_ids(env: Env, order: Record) -> list[int]:
    line_ids = set(order.get("order_line") or [])
    found: set[int] = set()
    for aml in env.table("account.move.line").values():
        if line_ids & set(aml.get("sale_line_ids") or []):
            found.add(int(aml["move_id"]))
    return sorted(found)


def _invoice_status(
    env: Env,
    order: Record,
    confirmed: str,
    line_model: str,
    ordered_field: str,
    quantities_of: Callable[[Env, Record], dict[str, float]],
) -> str:
    """Odoo's `invoice_status` of a sale or purchase order, from its lines' quantities."""
    if order.get("state") not in (confirmed, "done"):
        return "no"
    lines = [env.rec(line_model, i) for i in order.get("order_line") or []]
    quantities = [quantities_of(env, line) for line in lines]
    if any(q["qty_to_invoice"] > _EPS for q in quantities):
        return "to invoice"
    if lines and all(
        q["qty_invoiced"] >= float(line.get(ordered_field) or 0.0) - _EPS
        for q, line in zip(quantities, lines, strict=True)
    ):
        return "invoiced"
    return "no"


def sale_invoice_status(env: Env, order: Record) -> str:
    return _invoice_status(
        env, order, "sale", "sale.order.line", "product_uom_qty", sale_line_quantities
    )


def sale_before_create(env: Env, record: Record, vals: dict[str, Any]) -> None:
    record.setdefault("company_id", env.company_id)
    if not record.get("company_id"):
        record["company_id"] = env.company_id
    if record.get("partner_id"):
        record.setdefault("partner_invoice_id", record["partner_id"])
        record.setdefault("partner_shipping_id", record["partner_id"])
        record["partner_invoice_id"] = record.get("partner_invoice_id") or record["partner_id"]
        record["partner_shipping_id"] = record.get("partner_shipping_id") or record["partner_id"]
    if not record.get("name") or record["name"] == "New":
        record["name"] = next_name(env, "sale.order", "S")
    if not record.get("pricelist_id") and env.version <= 16:
        record["pricelist_id"] = _default_pricelist(env, int(record["company_id"]))
    record["currency_id"] = sale_currency(env, record)
    if not record.get("warehouse_id"):
        record["warehouse_id"] = _warehouse_of(env, int(record["company_id"]))["id"]
    record["state"] = record.get("state") or "draft"
    record["date_order"] = record.get("date_order") or now_str()
    record["user_id"] = record.get("user_id") or env.uid


def _default_pricelist(env: Env, company_id: int) -> int | None:
    """Odoo 16's required pricelist when none is given (the customer's, which defaults to the
    company's first active pricelist in the company's currency)."""
    currency = env.rec("res.company", company_id).get("currency_id")
    for pricelist in sorted(env.table("product.pricelist").values(), key=lambda r: int(r["id"])):
        if (
            pricelist.get("active") is not False
            and pricelist.get("company_id") in (None, False, company_id)
            and pricelist.get("currency_id") == currency
        ):
            return int(pricelist["id"])
    return None


def sale_currency(env: Env, order: Record) -> Any:
    """A sale order's currency is derived, never given: its pricelist's, else its company's
    (Odoo 16 relates it to ``pricelist_id.currency_id``; 17+ computes ``pricelist_id.currency_id
    or company_id.currency_id``)."""
    if order.get("pricelist_id"):
        return env.rec("product.pricelist", int(order["pricelist_id"])).get("currency_id")
    return env.rec("res.company", int(order["company_id"])).get("currency_id")


def sale_before_write(env: Env, record: Record, changes: dict[str, Any]) -> None:
    changes.pop("currency_id", None)
    if "pricelist_id" in changes or "company_id" in changes:
        changes["currency_id"] = sale_currency(env, {**record, **changes})


def sale_line_before_create(env: Env, record: Record, vals: dict[str, Any]) -> None:
    if record.get("order_id"):
        order = env.rec("sale.order", int(record["order_id"]))
        record["company_id"] = order.get("company_id")
    if record.get("product_id"):
        product = env.rec("product.product", int(record["product_id"]))
        if not record.get("name"):
            record["name"] = product_name(env, int(record["product_id"]))
        if "price_unit" not in vals:
            record["price_unit"] = float(product.get("list_price") or 0.0)
        if "tax_id" not in vals:
            record["tax_id"] = company_tax(env, int(record.get("company_id") or 1), "sale")
    if "product_uom_qty" not in vals:
        record["product_uom_qty"] = 1.0


def sale_action_confirm(env: Env, ids: list[int]) -> bool:
    """Confirm quotations: deliveries for their goods. Odoo 17+ refuse anything but a quotation;
    16 refuses only done or cancelled orders and confirms a confirmed one again (a new date, no
    new delivery: its procurements are there)."""
    orders = [env.rec("sale.order", i) for i in ids]
    if env.version >= 17:
        if any(o.get("state") not in ("draft", "sent") for o in orders):
            raise UserError("Some orders are not in a state requiring confirmation.")
    elif any(o.get("state") in ("done", "cancel") for o in orders):
        raise UserError(
            "It is not allowed to confirm an order in the following states: done, cancel"
        )
    for order in orders:
        again = order.get("state") == "sale"
        env.tx.update("sale.order", int(order["id"]), {"state": "sale", "date_order": now_str()})
        if again:
            continue
        lines = [env.rec("sale.order.line", i) for i in order.get("order_line") or []]
        goods = [
            line
            for line in lines
            if line.get("product_id") and _is_goods(env, int(line["product_id"]))
        ]
        if not goods:
            continue
        warehouse = env.rec("stock.warehouse", int(order["warehouse_id"]))
        picking_type = _picking_type(env, warehouse, "outgoing")
        customer = _location(env, "customer")
        picking_id = new_delivery(env, order, picking_type, customer)
        quantities = [(line, line.get("product_uom_qty") or 0.0) for line in goods]
        add_delivery_moves(env, order, picking_type, customer, picking_id, quantities)
    return True


def new_delivery(env: Env, order: Record, picking_type: Record, customer: int) -> int:
    """An outgoing picking for a sale order, empty (its moves follow)."""
    [picking_id] = env.create(
        "stock.picking",
        [
            {
                "name": next_picking_name(env, int(picking_type["id"])),
                "picking_type_id": picking_type["id"],
                "partner_id": order.get("partner_shipping_id") or order["partner_id"],
                "location_id": picking_type["default_location_src_id"],
                "location_dest_id": customer,
                "origin": order["name"],
                "sale_id": order["id"],
                "company_id": order["company_id"],
            }
        ],
    )
    return int(picking_id)


def add_delivery_moves(
    env: Env,
    order: Record,
    picking_type: Record,
    customer: int,
    picking_id: int,
    quantities: list[tuple[Record, float]],
) -> None:
    """A move per (sale line, quantity) in the delivery, then the delivery confirmed."""
    env.create(
        "stock.move",
        [
            {
                "name": line.get("name") or "/",
                "product_id": line["product_id"],
                "product_uom_qty": quantity,
                "location_id": picking_type["default_location_src_id"],
                "location_dest_id": customer,
                "picking_id": picking_id,
                "sale_line_id": line["id"],
                "company_id": order["company_id"],
                "origin": order["name"],
                "state": "confirmed",
            }
            for line, quantity in quantities
        ],
    )
    confirm_picking(env, picking_id)


def sale_action_cancel(env: Env, ids: list[int]) -> bool:
    for order_id in ids:
        env.tx.update("sale.order", order_id, {"state": "cancel"})
    return True


_NOTHING_TO_INVOICE = (
    "Cannot create an invoice. No items are available to invoice.\n\n"
    "To resolve this issue, please ensure that:\n"
    "   \u2022 The products have been delivered before attempting to invoice them.\n"
    "   \u2022 The invoicing policy of the product is configured correctly.\n"
)


def advance_create_invoices(env: Env, ids: list[int]) -> dict[str, Any]:
    created: list[int] = []
    for wizard_id in ids:
        wizard = env.rec("sale.advance.payment.inv", wizard_id)
        if wizard.get("advance_payment_method") not in (None, "delivered"):
            raise UserError("The sandbox only invoices delivered quantities (method 'delivered').")
        order_ids = wizard.get("sale_order_ids") or env.context.get("active_ids") or []
        for order_id in order_ids:
            order = env.rec("sale.order", int(order_id))
            lines = []
            for line_id in order.get("order_line") or []:
                line = env.rec("sale.order.line", line_id)
                quantity = sale_line_quantities(env, line)["qty_to_invoice"]
                if abs(quantity) <= _EPS:
                    continue
                lines.append(
                    (
                        0,
                        0,
                        {
                            "product_id": line["product_id"],
                            "name": line.get("name"),
                            "quantity": quantity,
                            "price_unit": line.get("price_unit") or 0.0,
                            "discount": line.get("discount") or 0.0,
                            "tax_ids": [(6, 0, line.get("tax_id") or [])],
                            "sale_line_ids": [(6, 0, [line["id"]])],
                        },
                    )
                )
            if not lines:
                continue
            created += env.create(
                "account.move",
                [
                    {
                        "move_type": "out_invoice",
                        "partner_id": order.get("partner_invoice_id") or order["partner_id"],
                        "invoice_origin": order["name"],
                        "company_id": order["company_id"],
                        "currency_id": order.get("currency_id"),
                        "invoice_line_ids": lines,
                    }
                ],
            )
    if not created:
        raise UserError(_NOTHING_TO_INVOICE)
    action: dict[str, Any] = {
        "type": "ir.actions.act_window",
        "res_model": "account.move",
        "name": "Invoices",
        "context": {"default_move_type": "out_invoice"},
    }
    if len(created) == 1:
        action.update(res_id=created[0], view_mode="form", views=[[False, "form"]])
    else:
        action.update(domain=[["id", "in", created]], view_mode="list,form")
    return action


# ---------------------------------------------------------------------- invoices


def move_amounts(env: Env, move: Record) -> dict[str, Any]:
    untaxed = tax = 0.0
    for line_id in move.get("invoice_line_ids") or []:
        line = env.rec("account.move.line", line_id)
        subtotal = round(
            float(line.get("quantity") or 0.0)
            * float(line.get("price_unit") or 0.0)
            * (1 - float(line.get("discount") or 0.0) / 100),
            2,
        )
        untaxed += subtotal
        tax += round(subtotal * tax_rate(env, line.get("tax_ids")), 2)
    total = round(untaxed + tax, 2)
    paid = float(move.get("_paid") or 0.0)
    return {
        "amount_untaxed": round(untaxed, 2),
        "amount_tax": round(tax, 2),
        "amount_total": total,
        "amount_residual": round(total - paid, 2),
        "payment_state": (
            "paid" if paid >= total - 0.005 and total else "partial" if paid else "not_paid"
        ),
    }


def line_subtotal(env: Env, line: Record) -> float:
    return round(
        float(line.get("quantity") or 0.0)
        * float(line.get("price_unit") or 0.0)
        * (1 - float(line.get("discount") or 0.0) / 100),
        2,
    )


def move_before_create(env: Env, record: Record, vals: dict[str, Any]) -> None:
    record["company_id"] = record.get("company_id") or env.company_id
    company = env.rec("res.company", int(record["company_id"]))
    record["currency_id"] = record.get("currency_id") or company.get("currency_id")
    record["state"] = "draft"
    record["name"] = "/"
    record["move_type"] = record.get("move_type") or "entry"
    record["date"] = record.get("date") or _today()


def move_line_before_create(env: Env, record: Record, vals: dict[str, Any]) -> None:
    if record.get("product_id") and not record.get("name"):
        record["name"] = product_name(env, int(record["product_id"]))
    record["display_type"] = record.get("display_type") or "product"
    if record.get("move_id"):
        record["company_id"] = env.rec("account.move", int(record["move_id"])).get("company_id")


def move_action_post(env: Env, ids: list[int]) -> bool:
    for move_id in ids:
        move = env.rec("account.move", move_id)
        if move.get("state") != "draft":
            raise UserError(f"The entry {move.get('name')} (id {move_id}) must be in draft.")
        if not move.get("invoice_line_ids"):
            raise UserError("You need to add a line before posting.")
        invoice_date = move.get("invoice_date")
        if not invoice_date:
            if str(move.get("move_type")).startswith("in_"):
                raise UserError("The Bill/Refund date is required to validate this document.")
            invoice_date = _today()
        env.tx.update(
            "account.move",
            move_id,
            {
                "state": "posted",
                "invoice_date": invoice_date,
                "name": next_move_name(env, str(move["move_type"]), int(move["company_id"])),
            },
        )
    return False


def partner_credit(env: Env, partner: Record) -> float:
    pid = int(partner["id"])
    credit = 0.0
    for move in env.table("account.move").values():
        if move.get("state") != "posted":
            continue
        owner = env.rec("res.partner", int(move["partner_id"])) if move.get("partner_id") else {}
        commercial = owner.get("parent_id") or owner.get("id")
        if commercial != pid:
            continue
        residual = move_amounts(env, move)["amount_residual"]
        if move.get("move_type") == "out_invoice":
            credit += residual
        elif move.get("move_type") == "out_refund":
            credit -= residual
    return round(credit, 2)


# ---------------------------------------------------------------------- purchase


def purchase_line_quantities(env: Env, line: Record) -> dict[str, float]:
    received = 0.0
    for move_id in line.get("move_ids") or []:
        move = env.rec("stock.move", move_id)
        if move.get("state") == "done":
            received += float(move.get("product_uom_qty") or 0.0)
    invoiced = 0.0
    for aml in env.table("account.move.line").values():
        if aml.get("purchase_line_id") != line["id"]:
            continue
        move = env.rec("account.move", int(aml["move_id"]))
        if move.get("state") != "cancel":
            sign = -1.0 if move.get("move_type") == "in_refund" else 1.0
            invoiced += sign * float(aml.get("quantity") or 0.0)
    return {
        "qty_received": received,
        "qty_invoiced": invoiced,
        "qty_to_invoice": received - invoiced,
    }


def purchase_invoice_ids(env: Env, order: Record) -> list[int]:
    line_ids = set(order.get("order_line") or [])
    return sorted(
        {
            int(aml["move_id"])
            for aml in env.table("account.move.line").values()
            if aml.get("purchase_line_id") in line_ids
        }
    )


def purchase_invoice_status(env: Env, order: Record) -> str:
    return _invoice_status(
        env, order, "purchase", "purchase.order.line", "product_qty", purchase_line_quantities
    )


def purchase_amount_total(env: Env, order: Record) -> float:
    total = 0.0
    for line_id in order.get("order_line") or []:
        line = env.rec("purchase.order.line", line_id)
        subtotal = round(
            float(line.get("product_qty") or 0.0) * float(line.get("price_unit") or 0.0), 2
        )
        total += subtotal * (1 + tax_rate(env, line.get("taxes_id")))
    return round(total, 2)


def purchase_before_create(env: Env, record: Record, vals: dict[str, Any]) -> None:
    record["company_id"] = record.get("company_id") or env.company_id
    company = env.rec("res.company", int(record["company_id"]))
    record["currency_id"] = record.get("currency_id") or company.get("currency_id")
    if not record.get("name") or record["name"] == "New":
        record["name"] = next_name(env, "purchase.order", "P")
    record["state"] = record.get("state") or "draft"
    record["date_order"] = record.get("date_order") or now_str()
    if not record.get("picking_type_id"):
        warehouse = _warehouse_of(env, int(record["company_id"]))
        record["picking_type_id"] = warehouse["in_type_id"]


def purchase_line_before_create(env: Env, record: Record, vals: dict[str, Any]) -> None:
    if record.get("order_id"):
        record["company_id"] = env.rec("purchase.order", int(record["order_id"])).get("company_id")
    if record.get("product_id"):
        product = env.rec("product.product", int(record["product_id"]))
        if not record.get("name"):
            record["name"] = product_name(env, int(record["product_id"]))
        if "price_unit" not in vals:
            record["price_unit"] = float(product.get("standard_price") or 0.0)
        if "taxes_id" not in vals:
            record["taxes_id"] = company_tax(env, int(record.get("company_id") or 1), "purchase")
    record["product_qty"] = record.get("product_qty") if "product_qty" in vals else 1.0
    record["date_planned"] = record.get("date_planned") or now_str()


def purchase_button_confirm(env: Env, ids: list[int]) -> bool:
    for order_id in ids:
        order = env.rec("purchase.order", order_id)
        if order.get("state") not in ("draft", "sent"):
            continue
        env.tx.update("purchase.order", order_id, {"state": "purchase", "date_approve": now_str()})
        lines = [env.rec("purchase.order.line", i) for i in order.get("order_line") or []]
        goods = [
            line
            for line in lines
            if line.get("product_id") and _is_goods(env, int(line["product_id"]))
        ]
        if not goods:
            continue
        picking_type = env.rec("stock.picking.type", int(order["picking_type_id"]))
        supplier = _location(env, "supplier")
        [picking_id] = env.create(
            "stock.picking",
            [
                {
                    "name": next_picking_name(env, int(picking_type["id"])),
                    "picking_type_id": picking_type["id"],
                    "partner_id": order["partner_id"],
                    "location_id": supplier,
                    "location_dest_id": picking_type["default_location_dest_id"],
                    "origin": order["name"],
                    "purchase_id": order_id,
                    "company_id": order["company_id"],
                }
            ],
        )
        env.create(
            "stock.move",
            [
                {
                    "name": line.get("name") or "/",
                    "product_id": line["product_id"],
                    "product_uom_qty": line.get("product_qty") or 0.0,
                    "location_id": supplier,
                    "location_dest_id": picking_type["default_location_dest_id"],
                    "picking_id": picking_id,
                    "purchase_line_id": line["id"],
                    "company_id": order["company_id"],
                    "origin": order["name"],
                    "state": "confirmed",
                }
                for line in goods
            ],
        )
        confirm_picking(env, picking_id)
    return True


def purchase_create_invoice(env: Env, ids: list[int]) -> dict[str, Any]:
    created: list[int] = []
    for order_id in ids:
        order = env.rec("purchase.order", order_id)
        lines = []
        for line_id in order.get("order_line") or []:
            line = env.rec("purchase.order.line", line_id)
            quantity = purchase_line_quantities(env, line)["qty_to_invoice"]
            if quantity <= _EPS:
                continue
            lines.append(
                (
                    0,
                    0,
                    {
                        "product_id": line["product_id"],
                        "name": f"{order['name']}: {line.get('name')}",
                        "quantity": quantity,
                        "price_unit": line.get("price_unit") or 0.0,
                        "tax_ids": [(6, 0, line.get("taxes_id") or [])],
                        "purchase_line_id": line["id"],
                    },
                )
            )
        if lines:
            created += env.create(
                "account.move",
                [
                    {
                        "move_type": "in_invoice",
                        "partner_id": order["partner_id"],
                        "invoice_origin": order["name"],
                        "ref": order.get("partner_ref") or False,
                        "company_id": order["company_id"],
                        "currency_id": order.get("currency_id"),
                        "invoice_line_ids": lines,
                    }
                ],
            )
    if not created:
        raise UserError(
            "There is no invoiceable line. If a product has a control policy based on received "
            "quantity, please make sure that a quantity has been received."
        )
    return {
        "type": "ir.actions.act_window",
        "res_model": "account.move",
        "name": "Vendor Bills",
        "domain": [["id", "in", created]],
    }


METHODS: dict[str, dict[str, Any]] = {
    "sale.order": {"action_confirm": sale_action_confirm, "action_cancel": sale_action_cancel},
    "sale.advance.payment.inv": {"create_invoices": advance_create_invoices},
    "account.move": {"action_post": move_action_post},
    "purchase.order": {
        "button_confirm": purchase_button_confirm,
        "action_create_invoice": purchase_create_invoice,
    },
}
