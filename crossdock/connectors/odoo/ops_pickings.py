"""Pickings: read deliveries and receipts, set processed quantities, validate.

Validating (``button_validate``) may answer with a wizard instead of ``True``:

* ``stock.backorder.confirmation`` when less than the demand was processed: the wizard is created
  in the context Odoo returned and answered with ``process`` (keep a backorder for the rest) or
  ``process_cancel_backorder`` (drop the rest), per the ``backorder`` policy;
* ``confirm.stock.sms`` (module ``stock_sms``) is avoided with the ``skip_sms`` context and, should
  it come anyway, answered with ``dont_send_sms``;
* ``stock.immediate.transfer`` (Odoo 16, nothing processed) is answered with ``process`` — it
  cannot come from :meth:`PickingOperations.process_picking`, which refuses to process nothing
  (Odoo 16 would then ship everything reserved, 17+ refuse after the reservation was dropped).

Quantities are written on the moves with the version's field (``quantity_done`` on 16,
``quantity`` + ``picked`` on 17+); lots and serials of tracked products are written as move lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from crossdock.connectors.odoo.errors import OdooBusinessError, OdooProtocolError
from crossdock.connectors.odoo.mapping import decimal, m2o_id, shipment_from_picking
from crossdock.connectors.odoo.ops_base import OperationsBase
from crossdock.connectors.odoo.records import MoveInfo, PickingInfo, TransferResult
from crossdock.connectors.odoo.settings import BackorderPolicy
from crossdock.model import Shipment

__all__ = ["PickingOperations"]

_PICKING_FIELDS = [
    "name",
    "state",
    "picking_type_code",
    "sale_id",
    "backorder_id",
    "company_id",
    "move_ids",
]
_WIZARD_ANSWERS = {
    "stock.backorder.confirmation": None,  # depends on the policy
    "confirm.stock.sms": "dont_send_sms",
    "stock.immediate.transfer": "process",
}


class PickingOperations(OperationsBase):
    async def read_pickings(
        self, domain: Sequence[Any], *, order_field: str = "sale_id"
    ) -> list[PickingInfo]:
        """Pickings and their moves, oldest first; ``order_id`` is read from ``order_field``
        (``purchase_id`` for receipts)."""
        context = await self.all_companies_context()
        fields = [order_field if f == "sale_id" else f for f in _PICKING_FIELDS]
        rows = await self.client.search_read(
            "stock.picking", domain, fields, order="id", context=context
        )
        move_ids = [m for row in rows for m in row["move_ids"]]
        fields = [*self.dialect.move_fields(), "picking_id"]
        moves = await self.client.read("stock.move", move_ids, fields, context=context)
        skus = await self.skus_of(int(m2o_id(m["product_id"]) or 0) for m in moves)
        by_picking: dict[int, list[MoveInfo]] = {}
        for move in moves:
            product_id = int(m2o_id(move["product_id"]) or 0)
            by_picking.setdefault(int(m2o_id(move["picking_id"]) or 0), []).append(
                MoveInfo(
                    id=int(move["id"]),
                    product_id=product_id,
                    sku=skus.get(product_id, f"product-{product_id}"),
                    demand=decimal(move["product_uom_qty"]),
                    quantity=decimal(self.dialect.move_quantity(move)),
                    state=str(move["state"]),
                )
            )
        return [
            PickingInfo(
                id=int(row["id"]),
                name=str(row["name"]),
                state=str(row["state"]),
                picking_type_code=str(row.get("picking_type_code") or ""),
                order_id=m2o_id(row.get(order_field)),
                backorder_of=m2o_id(row.get("backorder_id")),
                company_id=int(m2o_id(row["company_id"]) or 0),
                moves=tuple(sorted(by_picking.get(int(row["id"]), []), key=lambda m: m.id)),
            )
            for row in rows
        ]

    async def delivery_pickings(self, order_ids: Sequence[int]) -> list[PickingInfo]:
        """Outgoing pickings of sale orders (backorders included), oldest first."""
        return await self.read_pickings(
            [["sale_id", "in", list(order_ids)], ["picking_type_code", "=", "outgoing"]]
        )

    async def delivery_shipments(
        self, order_ids: Sequence[int], *, order_refs: Mapping[int, str] | None = None
    ) -> list[Shipment]:
        """Canonical shipments of the delivery pickings of sale orders."""
        pickings = await self.delivery_pickings(order_ids)
        shipments = []
        for picking in pickings:
            if not picking.moves:
                continue
            warehouse = await self.warehouse(None, picking.company_id)
            order_ref = (order_refs or {}).get(picking.order_id or 0)
            shipments.append(
                shipment_from_picking(
                    picking, source=self.system, order_ref=order_ref, warehouse=warehouse.code
                )
            )
        return shipments

    async def process_picking(
        self,
        picking_id: int,
        quantities: Mapping[str, Decimal],
        *,
        lots: Mapping[str, Sequence[tuple[str, Decimal]]] | None = None,
        backorder: BackorderPolicy | None = None,
    ) -> TransferResult:
        """Set the processed quantity of each SKU (absent SKUs: 0) and validate the picking.

        ``lots`` gives, per tracked SKU, ``(lot or serial name, quantity)`` pairs. What was not
        processed becomes a backorder or is cancelled, per ``backorder`` (default: settings).
        """
        policy = backorder or self.settings.backorder
        found = await self.read_pickings([["id", "=", picking_id]])
        if not found:
            raise OdooBusinessError(
                f"no picking {picking_id}", model="stock.picking", record=f"id={picking_id}"
            )
        picking = found[0]
        if picking.state == "done":
            return TransferResult(picking.id, "done", await self._backorders(picking.id))
        if picking.state in ("cancel", "draft"):
            raise OdooBusinessError(
                f"picking {picking.name} is {picking.state}",
                model="stock.picking",
                record=picking.name,
            )
        unknown = set(quantities) - {m.sku for m in picking.moves}
        if unknown:
            raise OdooBusinessError(
                f"SKUs not in picking {picking.name}: {', '.join(sorted(unknown))}",
                model="stock.picking",
                record=picking.name,
            )
        context = {
            **await self.all_companies_context(),
            "skip_sms": True,
        }
        moves_by_sku: dict[str, list[MoveInfo]] = {}
        for move in picking.moves:
            if move.state not in ("done", "cancel"):
                moves_by_sku.setdefault(move.sku, []).append(move)
        if not lots and all(Decimal(quantities.get(sku, 0)) <= 0 for sku in moves_by_sku):
            raise OdooBusinessError(
                f"nothing to process in picking {picking.name}: every quantity is 0",
                model="stock.picking",
                record=picking.name,
            )
        by_value: dict[float, list[int]] = {}
        for sku, moves in moves_by_sku.items():
            left = Decimal(quantities.get(sku, Decimal(0)))
            for index, move in enumerate(moves):
                # every move of a SKU takes up to its demand; the last one takes the rest
                take = left if index == len(moves) - 1 else min(left, move.demand)
                left -= take
                move_lots = (lots or {}).get(sku)
                if move_lots and index == 0:
                    await self._write_lots(move, picking, move_lots, context)
                elif not move_lots:
                    by_value.setdefault(float(take), []).append(move.id)
        for quantity, move_ids in by_value.items():
            await self.client.write(
                "stock.move", move_ids, self.dialect.shipped_move_vals(quantity), context=context
            )
        return await self.validate(picking.id, policy, context)

    async def _write_lots(
        self,
        move: MoveInfo,
        picking: PickingInfo,
        move_lots: Sequence[tuple[str, Decimal]],
        context: Mapping[str, Any],
    ) -> None:
        rows = await self.client.read(
            "stock.move", [move.id], ["location_id", "location_dest_id"], context=context
        )
        qty_field = "qty_done" if self.dialect.major <= 16 else "quantity"
        commands: list[Any] = [(5, 0, 0)]
        for name, quantity in move_lots:
            line: dict[str, Any] = {
                "product_id": move.product_id,
                "lot_name": name,
                qty_field: float(quantity),
                "location_id": m2o_id(rows[0]["location_id"]),
                "location_dest_id": m2o_id(rows[0]["location_dest_id"]),
                "picking_id": picking.id,
            }
            if self.dialect.has_picked:
                line["picked"] = True
            commands.append((0, 0, line))
        vals: dict[str, Any] = {"move_line_ids": commands}
        if self.dialect.has_picked:
            vals["picked"] = True
        await self.client.write("stock.move", [move.id], vals, context=context)

    async def validate(
        self, picking_id: int, policy: BackorderPolicy, context: Mapping[str, Any]
    ) -> TransferResult:
        """``button_validate``, answering the wizards it opens (see the module docstring)."""
        answered = await self.validate_many([picking_id], policy, context)
        rows = await self.client.read("stock.picking", [picking_id], ["state"], context=context)
        return TransferResult(
            picking_id, str(rows[0]["state"]), await self._backorders(picking_id), answered
        )

    async def validate_many(
        self,
        picking_ids: Sequence[int],
        policy: BackorderPolicy | Mapping[int, BackorderPolicy],
        context: Mapping[str, Any],
    ) -> tuple[str, ...]:
        """One ``button_validate`` on many pickings, its wizards answered once for all of them
        (Odoo's backorder wizard lists every picking short of its demand); the answers given.

        ``policy`` may differ per picking id: when the short pickings differ, the backorder
        wizard gets one line per short picking saying whether it keeps a backorder (as a person
        unticking some in Odoo) and is answered with ``process``.
        """
        policies = (
            {int(p): policy for p in picking_ids}
            if isinstance(policy, str)
            else {int(p): policy[int(p)] for p in picking_ids}
        )
        answered: list[str] = []
        result = await self.client.call(
            "stock.picking", "button_validate", list(picking_ids), context=context
        )
        for _ in range(4):
            if not isinstance(result, dict) or result.get("res_model") not in _WIZARD_ANSWERS:
                break
            wizard_model = str(result["res_model"])
            wizard_context = {**context, **dict(result.get("context") or {})}
            answer = _WIZARD_ANSWERS[wizard_model]
            vals: dict[str, Any] = {}
            if answer is None:  # the backorder wizard
                short = _ids_of(wizard_context.get("default_pick_ids"))
                chosen = {policies.get(p, "create") for p in short} or set(policies.values())
                if len(chosen) == 1:
                    answer = "process" if chosen == {"create"} else "process_cancel_backorder"
                else:
                    answer = "process"
                    vals["backorder_confirmation_line_ids"] = [
                        (0, 0, {"picking_id": p, "to_backorder": policies.get(p) == "create"})
                        for p in short
                    ]
            [wizard_id] = await self.client.create(wizard_model, [vals], context=wizard_context)
            answered.append(f"{wizard_model}.{answer}")
            result = await self.client.call(
                wizard_model, answer, [wizard_id], context=wizard_context
            )
        else:
            raise OdooProtocolError(
                "validation kept asking questions", model="stock.picking", method="button_validate"
            )
        return tuple(answered)

    async def _backorders(self, picking_id: int) -> tuple[int, ...]:
        rows = await self.client.search_read(
            "stock.picking",
            [["backorder_id", "=", picking_id]],
            ["id"],
            context=await self.all_companies_context(),
        )
        return tuple(int(r["id"]) for r in rows)


def _ids_of(value: Any) -> list[int]:
    """Record ids of an x2many default in a context: ids or ``(4, id)`` / ``(6, 0, ids)``."""
    ids: list[int] = []
    for item in value or []:
        if isinstance(item, list | tuple):
            if item and item[0] == 6:
                ids += [int(i) for i in item[2]]
            elif item and item[0] == 4:
                ids.append(int(item[1]))
        else:
            ids.append(int(item))
    return ids
