"""The values the ERP port's returns operations speak in: a return picking, a line's disposal
after inspection, and a credit note. Small frozen dataclasses; each names its natural key (the
hub's RMA number), so every create can be looked up before it is made."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

__all__ = ["CreditNoteRef", "Disposition", "ReturnDisposal", "ReturnPickingRef"]

Disposition = Literal["restock", "quarantine", "scrap"]
"""What the warehouse does with a returned line: back to stock, to the quarantine location, or
scrapped (Odoo's ``stock.scrap``)."""


@dataclass(frozen=True, slots=True)
class ReturnPickingRef:
    """An incoming picking that returns goods of a delivery; ``key`` is the RMA it was made for
    (written as the picking's ``origin``)."""

    id: int
    name: str
    state: str
    key: str
    delivery_id: int


@dataclass(frozen=True, slots=True)
class ReturnDisposal:
    sku: str
    quantity: Decimal
    disposition: Disposition


@dataclass(frozen=True, slots=True)
class CreditNoteRef:
    """A customer credit note reversing (part of) an invoice; ``key`` is the RMA it was made for."""

    id: int
    number: str
    state: str
    key: str
    invoice_id: int
    currency: str
    subtotal: Decimal
    total: Decimal
