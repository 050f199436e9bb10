"""The ``channels`` section: per sales channel, pricing, warehouses, fulfilment fallbacks,
short-pick policy and company."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from crossdock.config.base import ConfigModel
from crossdock.model.types import CurrencyCode

DEFAULT_CHANNEL = "default"

FulfilmentStep = Literal["preferred", "any_warehouse", "split", "backorder", "reject"]
"""One fallback of a channel's fulfilment, tried in the order listed:

- ``preferred``     — the whole order from the first warehouse of ``warehouses``;
- ``any_warehouse`` — the whole order from the first warehouse (in preference order) that has it;
- ``split``         — lines (and quantities) spread over warehouses, in preference order;
- ``backorder``     — ship what is free now, the rest waits as a backorder (always succeeds);
- ``reject``        — stop here: the order goes to the exceptions queue (``out_of_stock``).

Running out of steps is the same as ``reject``."""

_WAREHOUSE_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$")


def _check_warehouse_code(value: str) -> str:
    if not _WAREHOUSE_CODE_RE.match(value):
        raise PydanticCustomError(
            "warehouse_code", "invalid warehouse code (letters, digits, '_' or '-', at most 16)"
        )
    return value


WarehouseCode = Annotated[str, AfterValidator(_check_warehouse_code)]


def _default_fulfilment() -> list[FulfilmentStep]:
    return ["preferred", "any_warehouse", "split", "backorder"]


class ChannelPolicy(ConfigModel):
    """How orders of one sales channel are priced, fulfilled and routed."""

    pricing: Literal["channel", "pricelist"] = "channel"
    """``channel``: keep the price the channel sent; ``pricelist``: the ERP's pricelist price.
    Taxes are always computed by the ERP."""
    pricelist_id: int | None = Field(default=None, ge=1)
    """ERP pricelist used with ``pricing: pricelist`` for orders in its currency (orders in
    another currency take the pricelist of theirs, see ``pricelists``)."""
    pricelists: dict[CurrencyCode, Annotated[int, Field(ge=1)]] = Field(default_factory=dict)
    """ERP pricelist by order currency (``{EUR: 3}``). An order's currency decides the sale
    order's pricelist, so its currency: this map first, else the ERP's first active pricelist of
    that currency; a currency with neither is an exception ``currency_unsupported``."""
    warehouses: list[WarehouseCode] = Field(default_factory=list)
    """Warehouse codes in order of preference; empty: the company's first warehouse."""
    fulfilment: list[FulfilmentStep] = Field(default_factory=_default_fulfilment)
    """Fallbacks tried in order when stock is short (see :data:`FulfilmentStep`)."""
    short_pick: Literal["backorder", "cancel"] = "backorder"
    """What a shipment short of the picking becomes: a backorder for the rest, or the rest is
    cancelled."""
    company: int | str | None = None
    """The ERP company of this channel's orders (id or name); overrides the ERP's own routing
    (``systems.<erp>.options.companies_by_channel`` / ``companies_by_country``)."""

    @field_validator("pricelist_id")
    @classmethod
    def _pricelist_needs_pricing(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and info.data.get("pricing") == "channel":
            raise PydanticCustomError("pricelist_channel", "only allowed with pricing: pricelist")
        return value

    @field_validator("warehouses")
    @classmethod
    def _unique_warehouses(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise PydanticCustomError("duplicate_warehouse", "lists a warehouse twice")
        return value

    @field_validator("fulfilment")
    @classmethod
    def _reachable_steps(cls, value: list[str]) -> list[str]:
        if not value:
            raise PydanticCustomError("fulfilment_empty", "list at least one step")
        if len(set(value)) != len(value):
            raise PydanticCustomError("fulfilment_duplicate", "lists a step twice")
        for final in ("backorder", "reject"):
            if final in value and value.index(final) != len(value) - 1:
                raise PydanticCustomError(
                    "fulfilment_unreachable", f"{final} must be the last step (it always decides)"
                )
        return value

    @field_validator("company")
    @classmethod
    def _company(cls, value: int | str | None) -> int | str | None:
        if isinstance(value, bool) or (isinstance(value, int) and value < 1):
            raise PydanticCustomError("company", "must be a company id (>= 1) or name")
        if isinstance(value, str) and not value.strip():
            raise PydanticCustomError("company", "must be a company id (>= 1) or name")
        return value


def default_channels() -> dict[str, ChannelPolicy]:
    """Only the ``default`` entry: channel prices, one warehouse, every fallback up to
    backorder."""
    return {DEFAULT_CHANNEL: ChannelPolicy()}
