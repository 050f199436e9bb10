"""What differs between Odoo versions, in one place, chosen from the detected major version.

=================  =============================  =====================  ===============
version            storable product               done quantity on move  "picked" flag
=================  =============================  =====================  ===============
16                 ``detailed_type='product'``    ``quantity_done``      no
17                 ``detailed_type='product'``    ``quantity``           ``picked``
18, 19             ``type='consu'``,              ``quantity``           ``picked``
                   ``is_storable=True``
=================  =============================  =====================  ===============

Returns: ``stock.return.picking`` makes the return with ``create_returns`` up to 17 and
``action_create_returns`` from 18; ``account.move.reversal`` credits with ``reverse_moves``
(``refund_method='refund'``) on 16 and ``refund_moves`` from 17; a stock move has a required
``name`` up to 18 and none in 19.

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

    # returns (crossdock.connectors.odoo.ops_returns)

    @property
    def return_wizard_method(self) -> str:
        """The method of ``stock.return.picking`` that makes the return picking: renamed in 18."""
        return "create_returns" if self.major <= 17 else "action_create_returns"

    def return_wizard_vals(
        self, picking: dict[str, Any], lines: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Values of a ``stock.return.picking`` for ``picking`` (its ``location_id`` read) with
        explicit lines (``product_id``, ``quantity``, ``move_id``): up to 17 the wizard's return
        location and its lines' ``to_refund`` (lower the delivered quantity) are set by onchanges
        a remote call does not run; from 18 every return counts against the delivery."""
        commands: list[Any] = []
        for line in lines:
            vals = dict(line)
            if self.major <= 17:
                vals["to_refund"] = True
            commands.append((0, 0, vals))
        vals = {"picking_id": picking["id"], "product_return_moves": commands}
        if self.major <= 17:
            location = picking.get("location_id")
            vals["location_id"] = location[0] if isinstance(location, list) else location
        return vals

    @property
    def has_return_id(self) -> bool:
        """A return picking names the picking it returns (``return_id``)."""
        return self.major >= 18

    @property
    def reversal_method(self) -> str:
        """The method of ``account.move.reversal`` that makes a credit note (16: one method with
        a ``refund_method`` field; 17+: one method per way)."""
        return "reverse_moves" if self.major <= 16 else "refund_moves"

    def reversal_vals(self) -> dict[str, Any]:
        return {"refund_method": "refund"} if self.major <= 16 else {}

    def move_description_vals(self, description: str) -> dict[str, Any]:
        """A stock move's required description: ``name`` up to 18; 19 dropped the field."""
        return {"name": description} if self.major <= 18 else {}

    @property
    def payment_memo_field(self) -> str:
        """The ``account.payment`` field the wizard's ``communication`` lands in."""
        return "memo" if self.major >= 18 else "ref"


def dialect_for(major: int) -> OdooDialect:
    """The dialect of ``major``; versions above 19 are treated as 19, below 16 are refused."""
    if major < SUPPORTED_MAJORS[0]:
        raise ValueError(f"Odoo {major} is not supported (16 or later)")
    return OdooDialect(min(major, SUPPORTED_MAJORS[-1]))
