"""Stock: the ERP's on-hand quantities against the warehouse's view (its last count plus the deltas
after it, :func:`crossdock.flows.inventory.store.warehouse_positions`), per warehouse and SKU.

Quantities are compared per warehouse and SKU, summed over locations and lots on both sides: the
WMS's location names and the ERP's internal locations need not match. A SKU whose position
changed less than ``settle_s`` ago is skipped (its change may still be on its way to the ERP).
Only warehouses the WMS reported positions for are compared (or those configured).

Finding ``stock_drift``: value is the quantity difference at the product's cost (its list price
when it has none); age counts from when a run first found it. The owner's value (when the WMS, not
the ERP, owns stock): the warehouse's stock location is counted so that the warehouse's total
becomes the WMS's (``stock.quant`` in inventory mode) — not for lot-tracked products, nor when the
ERP's stock sits in other locations so that the main location would go negative.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from crossdock.connectors.odoo.errors import OdooBusinessError
from crossdock.connectors.odoo.ops_reconcile import QuantSummary
from crossdock.flows.inventory.store import Position, warehouse_positions
from crossdock.flows.reconciliation.context import Context
from crossdock.flows.reconciliation.drift_types import STOCK_DRIFT, Finding

__all__ = ["reconcile_stock"]

CENT = Decimal("0.01")


async def reconcile_stock(ctx: Context) -> tuple[int, list[Finding], list[str]]:
    """Checked (warehouse, SKU) pairs, findings, and notes (warehouses that could not be read)."""
    settings = ctx.config.reconciliation.stock
    positions = await ctx.db.read(lambda conn: warehouse_positions(conn))
    by_warehouse: dict[str, list[Position]] = {}
    for position in positions:
        by_warehouse.setdefault(position.warehouse, []).append(position)
    codes = list(settings.warehouses) or sorted(by_warehouse)
    checked = 0
    findings: list[Finding] = []
    notes: list[str] = []
    for code in codes:
        try:
            quants = await ctx.erp.warehouse_quants(code)
        except OdooBusinessError as exc:
            notes.append(f"warehouse {code}: {exc}")
            continue
        pairs, found = await _compare(ctx, code, by_warehouse.get(code, []), quants)
        checked += pairs
        findings += found
    return checked, findings, notes


async def _compare(
    ctx: Context, code: str, positions: Sequence[Position], quants: Sequence[QuantSummary]
) -> tuple[int, list[Finding]]:
    settings = ctx.config.reconciliation.stock
    wms: dict[str, Decimal] = {}
    settling: set[str] = set()
    for p in positions:
        wms[p.sku] = wms.get(p.sku, Decimal(0)) + p.quantity
        if ctx.now - p.as_of.timestamp() < settings.settle_s:
            settling.add(p.sku)
    erp: dict[str, Decimal] = {}
    main: dict[str, Decimal] = {}
    other_locations: dict[str, set[str]] = {}
    lots: set[str] = set()
    price: dict[str, Decimal] = {}
    for q in quants:
        erp[q.sku] = erp.get(q.sku, Decimal(0)) + q.quantity
        if q.main_location:
            main[q.sku] = main.get(q.sku, Decimal(0)) + q.quantity
        elif q.quantity:
            other_locations.setdefault(q.sku, set()).add(q.location)
        if q.lot:
            lots.add(q.sku)
        price[q.sku] = q.standard_price or q.list_price
    skus = sorted((set(wms) | set(erp)) - settling)
    differing = [
        sku
        for sku in skus
        if abs(wms.get(sku, Decimal(0)) - erp.get(sku, Decimal(0))) > settings.quantity_tolerance
    ]
    unpriced = [sku for sku in differing if sku not in price]
    unknown: set[str] = set()
    tracked: set[str] = set()
    if unpriced:
        resolution = await ctx.erp.resolve_products(unpriced)
        for sku, info in resolution.found.items():
            price[sku] = info.list_price
            if info.tracking != "none":
                tracked.add(sku)
        unknown = set(resolution.errors)
    wms_owned = ctx.stock_owner != ctx.erp_system
    findings = []
    for sku in differing:
        have, want = erp.get(sku, Decimal(0)), wms.get(sku, Decimal(0))
        difference = want - have
        target_main = main.get(sku, Decimal(0)) + difference
        correction: dict[str, Any] | None = None
        why_not = None
        if not wms_owned:
            why_not = f"the ERP ({ctx.erp_system}) owns stock"
        elif sku in unknown:
            why_not = "the ERP does not know this SKU"
        elif sku in lots or sku in tracked:
            why_not = "tracked by lot or serial: count it per lot"
        elif target_main < 0:
            why_not = (
                "the ERP holds it in other locations ("
                + ", ".join(sorted(other_locations.get(sku, set())))
                + "): move or count it there"
            )
        else:
            correction = {
                "action": "set_stock",
                "warehouse": code,
                "sku": sku,
                "quantity": str(target_main),
                "expected_total": str(want),
            }
        findings.append(
            Finding(
                STOCK_DRIFT,
                f"stock:{code}:{sku}",
                ctx.now,
                (abs(difference) * price.get(sku, Decimal(0))).quantize(CENT),
                None,
                f"{sku} in {code}: the ERP has {have}, the warehouse {want}",
                {
                    "warehouse": code,
                    "sku": sku,
                    "erp_quantity": str(have),
                    "wms_quantity": str(want),
                    "difference": str(difference),
                    "unit_value": str(price.get(sku, Decimal(0))),
                    "erp_locations": sorted(
                        {q.location for q in quants if q.sku == sku and q.quantity}
                    ),
                },
                correction,
                why_not,
            )
        )
    return len(skus), findings
