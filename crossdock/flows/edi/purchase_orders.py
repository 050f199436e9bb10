"""Our purchase orders to the suppliers that trade by EDI: ``purchase.ordered`` (procure-to-stock
placed and confirmed the order in the ERP) → an 850 to the partner whose ``supplier`` is the
order's supplier and whose profile sends 850s.

The consumer group ``edi-suppliers`` queues the 850 (control numbers allocated, file recorded,
its 997 then expected) and steps the order's timeline to ``sent`` in the batch's
acknowledgement, so one 850 exists per order. An order that cannot be written as an 850 (a unit
the partner's mapping has no code for) opens an exception for buying naming the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import structlog
from sqlalchemy import Connection

from crossdock.config.edi import EdiConfig, EdiPartner
from crossdock.connectors.edi.x12.mapping import purchase_order_to_850
from crossdock.engine import Batch, Event, Subscription
from crossdock.errors import CrossdockError
from crossdock.flows.edi.documents import profile_of, queue_sets
from crossdock.flows.exceptions import open_exception
from crossdock.flows.procurement.events import ORDERED
from crossdock.flows.procurement.store import add_step, get_recommendation
from crossdock.model import PurchaseOrder

__all__ = ["GROUP", "edi_suppliers", "purchase_orders_for", "subscription"]

log = structlog.get_logger("crossdock.edi")

GROUP = "edi-suppliers"
OWNER = "buying"


def edi_suppliers(config: EdiConfig) -> dict[str, tuple[str, EdiPartner]]:
    """The suppliers whose purchase orders go out as 850s: supplier ref → (partner, profile)."""
    return {
        p.supplier: (name, p)
        for name, p in config.partners.items()
        if p.supplier is not None and "850" in p.send
    }


def purchase_orders_for(
    config: EdiConfig, clock: Callable[[], float]
) -> Callable[[Connection, list[Event]], int]:
    """The batch write that queues the 850s of ``events``; answers how many were queued."""
    suppliers = edi_suppliers(config)

    def write(conn: Connection, events: list[Event]) -> int:
        queued = 0
        for event in events:
            found = suppliers.get(str(event.data.get("supplier_ref")))
            if found is None:
                continue
            name, partner = found
            now = clock()
            ref = str(event.data.get("external_ref"))
            try:
                order = PurchaseOrder.model_validate(event.data)
                profile = profile_of(partner)
                with conn.begin_nested():
                    record = queue_sets(
                        conn,
                        name,
                        partner,
                        "850",
                        "PO",
                        [partial(purchase_order_to_850, order, profile=profile)],
                        now=now,
                        detail={"event_id": event.id, "purchase_order": ref},
                    )
                rec = get_recommendation(conn, ref)
                if rec is not None:
                    add_step(
                        conn,
                        rec.id,
                        "sent",
                        actor="hub",
                        now=now,
                        details={
                            "via": "edi",
                            "partner": name,
                            "file": record.id,
                            "interchange": record.interchange,
                        },
                    )
                queued += 1
                log.info("edi.purchase_order_queued", partner=name, purchase_order=ref)
            except (CrossdockError, ValueError) as exc:
                open_exception(
                    conn,
                    type="edi_document_failed",
                    owner=OWNER,
                    subject=f"purchase:{ref}",
                    reason=f"partner {name}: 850 for purchase order {ref} could not be made: {exc}",
                    actions=["retry", "cancel"],
                    now=now,
                )
                log.error("edi.document_failed", partner=name, set_id="850", error=str(exc))
        return queued

    return write


def subscription(config: EdiConfig, clock: Callable[[], float]) -> Subscription:
    """The ``edi-suppliers`` consumer group: 850s from ``purchase.ordered``."""
    write = purchase_orders_for(config, clock)

    async def handle(batch: Batch) -> None:
        events = list(batch.events)

        def queue(conn: Connection) -> None:
            write(conn, events)

        batch.write(queue)

    # From the latest: orders placed before a supplier traded by EDI were sent another way.
    return Subscription(GROUP, (ORDERED,), handle, start_at="latest")
