"""Mapping between canonical objects (:mod:`crossdock.model`) and Odoo values.

Natural keys written into Odoo so that every create can be looked up first:

* customer: ``res.partner.ref = "<source>:<external_ref>"``;
* sale order: ``sale.order.client_order_ref = "<channel>:<external_ref>"``;
* purchase order: ``purchase.order.origin = "<source>:<external_ref>"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from crossdock.connectors.odoo.records import PickingInfo, customer_key, order_key, purchase_key
from crossdock.model import (
    Customer,
    Invoice,
    InvoiceLine,
    Order,
    PurchaseOrder,
    Shipment,
    ShipmentLine,
)

__all__ = [
    "customer_key",
    "customer_vals",
    "decimal",
    "invoice_from_odoo",
    "m2o_id",
    "order_key",
    "purchase_key",
    "purchase_order_vals",
    "sale_order_vals",
    "shipment_from_picking",
]


def m2o_id(value: Any) -> int | None:
    """The id of a many2one as read (``[id, "name"]`` or ``False``)."""
    if isinstance(value, list | tuple) and value:
        return int(value[0])
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def decimal(value: Any, places: int = 6) -> Decimal:
    """A float read from Odoo as a Decimal with at most ``places`` decimals."""
    if value is None or value is False:
        return Decimal(0)
    number = Decimal(str(round(float(value), places)))
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number


def _float(value: Decimal) -> float:
    return float(value)


def customer_vals(
    customer: Customer, *, company_id: int | None, country_ids: Mapping[str, int]
) -> dict[str, Any]:
    vals: dict[str, Any] = {
        "name": customer.name,
        "ref": customer_key(customer),
        "customer_rank": 1,
        "is_company": customer.kind == "company",
        "company_id": company_id or False,
    }
    if customer.email:
        vals["email"] = customer.email
    if customer.phone:
        vals["phone"] = customer.phone
    if customer.tax_id:
        vals["vat"] = customer.tax_id
    address = customer.address
    if address is not None:
        vals.update(
            street=address.street,
            street2=address.street2 or False,
            city=address.city,
            zip=address.postal_code,
            country_id=country_ids.get(address.country, False),
        )
    return vals


def sale_order_vals(
    order: Order,
    *,
    partner_id: int,
    product_ids: Mapping[str, int],
    company_id: int,
    pricelist_id: int | None = None,
) -> dict[str, Any]:
    """``sale.order`` values with all lines (one ``create`` makes the whole order or nothing);
    ``pricelist_id`` (in the order's currency) decides the sale order's ``currency_id``."""
    lines = []
    for line in order.lines:
        line_vals: dict[str, Any] = {
            "product_id": product_ids[line.sku],
            "product_uom_qty": _float(line.quantity),
            "price_unit": _float(line.unit_price),
        }
        if line.name:
            line_vals["name"] = line.name
        if line.discount_amount and line.quantity * line.unit_price:
            percent = line.discount_amount / (line.quantity * line.unit_price) * 100
            line_vals["discount"] = round(float(percent), 4)
        lines.append((0, 0, line_vals))
    vals: dict[str, Any] = {
        "partner_id": partner_id,
        "client_order_ref": order_key(order),
        "origin": order.customer_reference or order_key(order),
        "company_id": company_id,
        "order_line": lines,
    }
    if pricelist_id is not None:
        vals["pricelist_id"] = pricelist_id
    if order.ordered_at is not None:
        vals["date_order"] = order.ordered_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    if order.requested_date is not None:
        # Odoo's "Delivery Date": its deliveries are scheduled for it. Noon keeps the day the
        # same in every time zone a user may view it in.
        vals["commitment_date"] = f"{order.requested_date.isoformat()} 12:00:00"
    if order.note:
        vals["note"] = order.note
    return vals


def purchase_order_vals(
    order: PurchaseOrder,
    *,
    partner_id: int,
    product_ids: Mapping[str, int],
    product_names: Mapping[str, str],
    company_id: int,
    picking_type_id: int | None,
) -> dict[str, Any]:
    lines = []
    for line in order.lines:
        planned = line.expected_date or order.expected_date or order.order_date
        line_vals: dict[str, Any] = {
            "product_id": product_ids[line.sku],
            "name": line.description or product_names.get(line.sku, line.sku),
            "product_qty": _float(line.quantity),
            "date_planned": f"{planned.isoformat()} 12:00:00",
        }
        if line.unit_price is not None:
            line_vals["price_unit"] = _float(line.unit_price)
        lines.append((0, 0, line_vals))
    vals: dict[str, Any] = {
        "partner_id": partner_id,
        "origin": purchase_key(order),
        "partner_ref": order.external_ref,
        "company_id": company_id,
        "order_line": lines,
    }
    if picking_type_id:
        vals["picking_type_id"] = picking_type_id
    if order.note:
        vals["notes"] = order.note
    return vals


def shipment_from_picking(
    picking: PickingInfo, *, source: str, order_ref: str | None, warehouse: str
) -> Shipment:
    """A canonical shipment of what a delivery picking moves (done quantities once validated)."""
    status = {"done": "shipped", "cancel": "cancelled", "assigned": "ready"}.get(
        picking.state, "planned"
    )
    lines = []
    for move in picking.moves:
        quantity = move.quantity if picking.state == "done" else move.demand
        if quantity > 0 and move.state != "cancel":
            lines.append(ShipmentLine(sku=move.sku, quantity=quantity))
    if not lines:
        lines = [ShipmentLine(sku=m.sku, quantity=m.demand) for m in picking.moves[:1]]
    return Shipment(
        external_ref=picking.name,
        source=source,
        refs={source: str(picking.id)},
        order_ref=order_ref,
        warehouse=warehouse,
        status=status,
        lines=lines,
    )


def invoice_from_odoo(
    move: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]],
    *,
    source: str,
    skus: Mapping[int, str],
    partner_ref: str,
    order_refs: Sequence[str],
) -> Invoice:
    """A canonical invoice from ``account.move`` and its product lines as read."""
    status = {"draft": "draft", "posted": "posted", "cancel": "cancelled"}.get(
        str(move.get("state")), "draft"
    )
    if status == "posted" and move.get("payment_state") == "paid":
        status = "paid"
    elif status == "posted" and move.get("payment_state") == "partial":
        status = "partially_paid"
    invoice_lines = []
    for line in lines:
        product_id = m2o_id(line.get("product_id"))
        invoice_lines.append(
            InvoiceLine(
                sku=skus.get(product_id) if product_id else None,
                description=str(line.get("name") or "line").splitlines()[0][:255] or "line",
                quantity=decimal(line.get("quantity")),
                unit_price=decimal(line.get("price_unit")),
                subtotal=decimal(line.get("price_subtotal"), 2),
            )
        )
    raw_date = move.get("invoice_date") or move.get("date")
    invoice_date = date.fromisoformat(str(raw_date)[:10]) if raw_date else datetime.now(UTC).date()
    kind = "credit_note" if str(move.get("move_type", "")).endswith("refund") else "invoice"
    direction = "supplier" if str(move.get("move_type", "")).startswith("in_") else "customer"
    name = move.get("name")
    return Invoice(
        external_ref=str(name) if name and name != "/" else f"draft-{move['id']}",
        source=source,
        refs={source: str(move["id"])},
        kind=kind,
        direction=direction,
        status=status,
        partner_ref=partner_ref,
        order_refs=list(order_refs),
        currency=str(move.get("currency_code") or "USD"),
        invoice_date=invoice_date,
        lines=invoice_lines,
        subtotal=decimal(move.get("amount_untaxed"), 2),
        tax_total=decimal(move.get("amount_tax"), 2),
        total=decimal(move.get("amount_total"), 2),
        amount_due=decimal(move.get("amount_residual"), 2),
    )
