"""A supplier's documents over EDI: the 855, 856 and 810 a supplier partner sends answer our
purchase orders, and go through the same seam as the API's supplier routes
(:mod:`crossdock.flows.procurement.supplier`): stored once under their own reference, a duplicate
recognised, the order's timeline stepped and the procurement consumer's event appended — in the
transaction that moves the file to ``processed``.

- 855 → :class:`~crossdock.model.SupplierAcknowledgement` (BAK03 the order, BAK08 the
  acknowledgement's reference; a line status per ACK01);
- 856 → :class:`~crossdock.model.AdvanceShipNotice` per order it names (PRF01);
- 810 → the supplier's :class:`~crossdock.model.Invoice` (BIG04 the order).

Our SKU is the buyer's item (``BP``) in what the supplier sends. A set the procurement seam
refuses (an unknown order, a line not on it, other content under a used reference) is named in
the file's exception; the others of the file go on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection

from crossdock.config.edi import EdiPartner
from crossdock.connectors.edi.x12 import TransactionSet
from crossdock.connectors.edi.x12.mapping import (
    MappingError,
    MappingProfile,
    acknowledgement_from_855,
    advance_ship_notice_from_856,
    invoice_from_810,
)
from crossdock.engine import insert_events
from crossdock.flows.procurement.store import DecisionError
from crossdock.flows.procurement.supplier import (
    Received,
    receive_acknowledgement,
    receive_bill,
    receive_shipment,
)
from crossdock.model import AdvanceShipNotice

__all__ = ["SUPPLIER_SETS", "SupplierOutcome", "receive_supplier_set"]

SUPPLIER_SETS = ("855", "856", "810")
"""What a supplier partner sends about our purchase orders."""


@dataclass(frozen=True, slots=True)
class SupplierOutcome:
    """What one set did: ``new`` (stored, its event appended), ``again`` (a duplicate,
    recognised), or ``refused`` with the reason."""

    result: Literal["new", "again", "refused"]
    reason: str | None = None


def _split_by_order(asn: AdvanceShipNotice) -> dict[str, AdvanceShipNotice]:
    """An 856 may ship several of our orders: one notice per order it names."""
    refs: dict[str, list[int]] = {}
    for index, line in enumerate(asn.lines):
        refs.setdefault(line.purchase_order_ref or "", []).append(index)
    return {
        ref: asn.model_copy(update={"lines": [asn.lines[i] for i in indexes]})
        for ref, indexes in refs.items()
    }


def receive_supplier_set(
    conn: Connection,
    name: str,
    partner: EdiPartner,
    transaction_set: TransactionSet,
    *,
    profile: MappingProfile,
    now: float,
    partitions: Callable[[], int],
) -> SupplierOutcome:
    """Hand one accepted 855/856/810 of supplier partner ``name`` to procurement."""
    supplier = partner.supplier
    if supplier is None:
        return SupplierOutcome("refused", "the profile names no supplier")
    via = f"edi:{name}"
    source = f"edi-{name}"
    label = f"{transaction_set.id} {transaction_set.control_number}"
    received: list[Received] = []
    try:
        with conn.begin_nested():
            if transaction_set.id == "855":
                ack = acknowledgement_from_855(
                    transaction_set, supplier_ref=supplier, source=source, profile=profile
                )
                received.append(
                    receive_acknowledgement(conn, ack.purchase_order_ref, ack, now=now, via=via)
                )
            elif transaction_set.id == "856":
                asn = advance_ship_notice_from_856(
                    transaction_set, supplier_ref=supplier, source=source, profile=profile
                )
                for ref, notice in _split_by_order(asn).items():
                    if not ref:
                        raise MappingError("856 names no purchase order (PRF01) for its items")
                    received.append(receive_shipment(conn, ref, notice, now=now, via=via))
            elif transaction_set.id == "810":
                invoice = invoice_from_810(
                    transaction_set,
                    source=source,
                    direction="supplier",
                    partner_ref=supplier,
                    profile=profile,
                )
                if not invoice.order_refs:
                    raise MappingError("810 names no purchase order (BIG04)", "BIG", 2)
                received.append(
                    receive_bill(conn, invoice.order_refs[0], invoice, now=now, via=via)
                )
            else:
                return SupplierOutcome("refused", f"{label}: not a supplier's document")
            events = [r.event for r in received if r.event is not None]
            if events:
                insert_events(conn, events, partitions())
    except (MappingError, DecisionError) as exc:
        return SupplierOutcome("refused", f"{label}: {exc}")
    if all(r.duplicate for r in received):
        return SupplierOutcome("again")
    return SupplierOutcome("new")
