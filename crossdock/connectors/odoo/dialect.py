"""What differs between Odoo versions, in one place, chosen from the detected major version.

=================  =============================  =====================  ===============
version            storable product               done quantity on move  "picked" flag
=================  =============================  =====================  ===============
16                 ``detailed_type='product'``    ``quantity_done``      no
17                 ``detailed_type='product'``    ``quantity``           ``picked``
18, 19             ``type='consu'``,              ``quantity``           ``picked``
                   ``is_storable=True``
=================  =============================  =====================  ===============

JSON-2 exists from 19 on; ``/jsonrpc`` is available on every version (deprecated in 19).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["OdooDialect", "dialect_for"]

SUPPORTED_MAJORS = (16, 17, 18, 19)


@dataclass(frozen=True)
class OdooDialect:
    """Field names and values that depend on the Odoo version."""

    major: int

    @property
    def has_json2(self) -> bool:
        return self.major >= 19

    @property
    def has_picked(self) -> bool:
        """Stock moves carry a ``picked`` flag (17+); 16 counts ``quantity_done`` as picked."""
        return self.major >= 17

    @property
    def move_done_field(self) -> str:
        """The stock.move field holding the quantity being processed."""
        return "quantity_done" if self.major <= 16 else "quantity"

    @property
    def uses_is_storable(self) -> bool:
        return self.major >= 18

    def product_vals(self, storable: bool) -> dict[str, Any]:
        """Values that make a goods product storable (tracked in stock) or a plain consumable."""
        if self.uses_is_storable:
            return {"type": "consu", "is_storable": storable}
        return {"detailed_type": "product" if storable else "consu"}

    def service_vals(self) -> dict[str, Any]:
        return {"type": "service"} if self.uses_is_storable else {"detailed_type": "service"}

    @property
    def product_type_fields(self) -> list[str]:
        return ["type", "is_storable"] if self.uses_is_storable else ["type", "detailed_type"]

    def is_storable(self, product: dict[str, Any]) -> bool:
        if self.uses_is_storable:
            return bool(product.get("is_storable"))
        return product.get("detailed_type", product.get("type")) == "product"

    def move_fields(self) -> list[str]:
        fields = ["product_id", "product_uom_qty", "state", self.move_done_field, "sale_line_id"]
        if self.has_picked:
            fields.append("picked")
        return fields

    def shipped_move_vals(self, quantity: float) -> dict[str, Any]:
        """Values written on a move to say ``quantity`` was processed."""
        vals: dict[str, Any] = {self.move_done_field: quantity}
        if self.has_picked:
            vals["picked"] = True
        return vals

    def move_quantity(self, move: dict[str, Any]) -> float:
        return float(move.get(self.move_done_field) or 0.0)

    @property
    def payment_memo_field(self) -> str:
        """The ``account.payment`` field the wizard's ``communication`` lands in."""
        return "memo" if self.major >= 18 else "ref"


def dialect_for(major: int) -> OdooDialect:
    """The dialect of ``major``; versions above 19 are treated as 19, below 16 are refused."""
    if major < SUPPORTED_MAJORS[0]:
        raise ValueError(f"Odoo {major} is not supported (16 or later)")
    return OdooDialect(min(major, SUPPORTED_MAJORS[-1]))
