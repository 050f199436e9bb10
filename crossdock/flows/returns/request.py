"""What a channel, a shop or customer service sends to ask for a return (`POST /v1/returns`), and
what the warehouse sends when the parcel arrives (`POST /v1/returns/{rma}/receipt`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crossdock.connectors.odoo.returns_records import Disposition
from crossdock.model.returns import ReturnCondition
from crossdock.model.types import (
    ExternalRef,
    NonNegativeQuantity,
    PositiveQuantity,
    ShortText,
    Sku,
    Text,
)

__all__ = ["Outcome", "ReturnLineRequest", "ReturnReceipt", "ReturnReceiptLine", "ReturnRequest"]

Outcome = Literal["refund", "credit", "exchange"]
"""What the customer asks for: money back (credit note, the shop refunds), a credit note kept as
credit, or the same goods again (a replacement order)."""

_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ReturnLineRequest(BaseModel):
    model_config = _STRICT

    sku: Sku = Field(description="SKU returned (a line of the order).")
    quantity: PositiveQuantity = Field(description="Quantity returned.")
    reason: ShortText | None = Field(
        default=None, description="Reason code (`wrong_item`, `damaged`, `not_needed`…)."
    )
    condition: ReturnCondition | None = Field(
        default=None, description="Condition the customer declares."
    )


class ReturnRequest(BaseModel):
    """A return asked for: the order (by the hub's id, or by the channel's own number), the lines
    and what the customer wants. `return_ref` is the channel's own return number: the request is
    idempotent by it."""

    model_config = _STRICT

    channel: ShortText = Field(description="The channel asking (the order's channel).")
    return_ref: ExternalRef = Field(description="The channel's own return reference.")
    order_id: ShortText | None = Field(default=None, description="The hub's order id.")
    order_ref: ExternalRef | None = Field(
        default=None, description="The channel's own order number (instead of `order_id`)."
    )
    outcome: Outcome = Field(description="refund, credit or exchange.")
    lines: list[ReturnLineRequest] = Field(min_length=1, max_length=500)
    note: Text | None = Field(default=None, description="Customer or agent note.")

    @model_validator(mode="after")
    def _one_order_and_unique_skus(self) -> ReturnRequest:
        if (self.order_id is None) == (self.order_ref is None):
            raise ValueError("give the order by exactly one of order_id or order_ref")
        skus = [line.sku for line in self.lines]
        if len(set(skus)) != len(skus):
            raise ValueError("each SKU may appear on one line only")
        return self


class ReturnReceiptLine(BaseModel):
    model_config = _STRICT

    sku: Sku = Field(description="SKU received.")
    quantity: NonNegativeQuantity = Field(description="Quantity received (0: it did not come).")
    condition: ReturnCondition = Field(description="Condition found at inspection.")
    disposition: Disposition = Field(description="restock, quarantine or scrap.")
    note: Text | None = None


class ReturnReceipt(BaseModel):
    """What the warehouse received of a return, inspected line by line."""

    model_config = _STRICT

    lines: list[ReturnReceiptLine] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _unique(self) -> ReturnReceipt:
        keys = [(line.sku, line.disposition) for line in self.lines]
        if len(set(keys)) != len(keys):
            raise ValueError("each SKU and disposition may appear on one line only")
        return self
