"""The receipts of one batch of events validated in the ERP together.

Odoo validates many receipts in one ``button_validate`` far cheaper than one call each, so the
receipts within tolerance of a batch go to ``ErpPort.receive_many`` together, each with its own
backorder policy. An order's receipts must stay in their order (the
second takes what the first left open): each call takes at most one receipt per order, so an
order with several receipts in the batch takes them in successive calls, and once one of them is
refused the later ones are not sent (they come again with it, as later events of its subject).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from crossdock.connectors.odoo import OdooError
from crossdock.connectors.odoo.port import ErpPort
from crossdock.connectors.odoo.records import BackorderPolicy, TransferResult
from crossdock.model import Receipt

__all__ = ["ReceiptToValidate", "ReceiptsValidated", "validate_receipts"]


@dataclass(frozen=True)
class ReceiptToValidate:
    message_id: str
    order_key: str
    """What orders the receipts of one purchase order (the recommendation's id)."""
    order_id: int
    receipt: Receipt
    backorder: BackorderPolicy


@dataclass
class ReceiptsValidated:
    done: dict[str, TransferResult] = field(default_factory=dict)
    """By message id."""
    failed: dict[str, OdooError] = field(default_factory=dict)
    """The refused receipt of an order, by message id (its order's later ones were not sent)."""
    refused_orders: set[str] = field(default_factory=set)


async def validate_receipts(
    erp: ErpPort, receipts: Sequence[ReceiptToValidate]
) -> ReceiptsValidated:
    """Validate ``receipts`` (in event order) in as few calls as their orders allow."""
    out = ReceiptsValidated()
    pending = list(receipts)
    while pending:
        now: list[ReceiptToValidate] = []
        later: list[ReceiptToValidate] = []
        keys: set[str] = set()
        ids: set[int] = set()
        for item in pending:
            taken = item.order_key in keys or item.order_id in ids
            (later if taken else now).append(item)
            keys.add(item.order_key)
            ids.add(item.order_id)
        outcome = await erp.receive_many(
            [(item.order_id, item.receipt) for item in now],
            policies=[item.backorder for item in now],
        )
        for item in now:
            if item.order_id in outcome.failed:
                out.failed[item.message_id] = outcome.failed[item.order_id]
                out.refused_orders.add(item.order_key)
            elif item.order_id in outcome.done:
                out.done[item.message_id] = outcome.done[item.order_id]
        pending = [item for item in later if item.order_key not in out.refused_orders]
    return out
