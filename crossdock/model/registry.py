"""The registry of canonical objects: stable schema name -> model class."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from crossdock.model.base import CanonicalObject
from crossdock.model.billing import Invoice, Payment
from crossdock.model.catalog import PriceListEntry, Product
from crossdock.model.freight import FreightCost
from crossdock.model.order import Order
from crossdock.model.party import Customer
from crossdock.model.planning import Forecast
from crossdock.model.procurement import (
    AdvanceShipNotice,
    PurchaseOrder,
    Receipt,
    SupplierAcknowledgement,
)
from crossdock.model.returns import Return
from crossdock.model.shipment import Shipment
from crossdock.model.stock import StockEvent, StockLevel

__all__ = ["MODELS"]

_CLASSES: tuple[type[CanonicalObject], ...] = (
    Customer,
    Product,
    PriceListEntry,
    Order,
    StockLevel,
    StockEvent,
    Shipment,
    Invoice,
    Payment,
    Return,
    PurchaseOrder,
    SupplierAcknowledgement,
    AdvanceShipNotice,
    Receipt,
    Forecast,
    FreightCost,
)


def _build(classes: tuple[type[CanonicalObject], ...]) -> Mapping[str, type[CanonicalObject]]:
    registry: dict[str, type[CanonicalObject]] = {}
    for cls in classes:
        name = cls.SCHEMA_NAME
        if not name or name in registry:
            raise RuntimeError(f"{cls.__name__}: missing or duplicate SCHEMA_NAME {name!r}")
        registry[name] = cls
    return MappingProxyType(dict(sorted(registry.items())))


MODELS: Mapping[str, type[CanonicalObject]] = _build(_CLASSES)
"""Every canonical object by its stable schema name (``order`` -> :class:`Order`), sorted."""
