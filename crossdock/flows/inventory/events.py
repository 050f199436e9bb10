"""Event types of the inventory flow and how its events are built."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from crossdock.engine import NewEvent
from crossdock.flows.inventory.atp import Availability
from crossdock.flows.inventory.positions import qtext
from crossdock.flows.inventory.settings import SOURCE, SYNC_SUBJECT

SYNC_REQUESTED = "inventory.sync_requested"
"""Internal: stock or orders changed, or a schedule ticked — the sync loop has work."""
TICK = "inventory.tick"
"""Internal: a schedule of the flow fired (batch publication, batch ERP writes, the sweep)."""
AVAILABLE = "inventory.available"
LOW = "inventory.low"
RESTORED = "inventory.restored"

ORDER_TYPES = (
    "order.accepted",
    "order.cancelled",
    "order.failed",
    "shipment.dispatched",
)
"""Order events that start or end a reservation. (Confirmation only moves a reservation to the
warehouses of its sale orders: the next change of those SKUs takes it into account.)"""
CONSUMED = (SYNC_REQUESTED, TICK, *ORDER_TYPES)
EMITTED = (SYNC_REQUESTED, AVAILABLE, LOW, RESTORED)


def sync_request(
    reason: str, *, publish: Sequence[str] = (), erp: bool = False, sweep: bool = False
) -> NewEvent:
    data: dict[str, Any] = {"reason": reason}
    if publish:
        data["publish"] = sorted(set(publish))
    if erp:
        data["erp"] = True
    if sweep:
        data["sweep"] = True
    return NewEvent(SYNC_REQUESTED, SOURCE, SYNC_SUBJECT, data)


def channel_subject(channel: str) -> str:
    """Availability events of a channel share one subject: they reach it in order, and they sit
    in one partition of the log, so a burst of them costs the other consumer groups one skip
    instead of a round over every partition."""
    return f"availability:{channel}"


def availability_events(value: Availability, previous: tuple[str, bool] | None) -> list[NewEvent]:
    """``inventory.available`` for a changed number, plus ``inventory.low`` when it crossed the
    threshold downward (or starts at or below it) and ``inventory.restored`` when back above."""
    data: dict[str, Any] = {
        "channel": value.channel,
        "sku": value.sku,
        "available": qtext(value.available),
        "previous": previous[0] if previous else None,
        "unit": value.unit,
        "on_hand": qtext(value.on_hand),
        "reserved": qtext(value.reserved_erp + value.reserved_pending),
        "buffer": qtext(value.buffer),
    }
    subject = channel_subject(value.channel)
    out = [NewEvent(AVAILABLE, SOURCE, subject, data)]
    was_low = previous[1] if previous else False
    if value.low and not was_low:
        out.append(
            NewEvent(
                LOW,
                SOURCE,
                subject,
                {
                    "channel": value.channel,
                    "sku": value.sku,
                    "available": data["available"],
                    "threshold": qtext(value.threshold or Decimal(0)),
                    "unit": value.unit,
                },
            )
        )
    elif was_low and not value.low:
        out.append(
            NewEvent(
                RESTORED,
                SOURCE,
                subject,
                {
                    "channel": value.channel,
                    "sku": value.sku,
                    "available": data["available"],
                    "threshold": qtext(value.threshold) if value.threshold is not None else None,
                    "unit": value.unit,
                },
            )
        )
    return out
