"""The canonical model: business objects as Crossdock exchanges them, independent of any system.

Every :class:`CanonicalObject` names its ``source`` system and its ``external_ref`` there, and
has a stable schema name and version; :data:`MODELS` lists them by schema name and
:func:`export_schemas` writes their JSON Schemas. Amounts and quantities are ``Decimal``; see
:mod:`crossdock.model.types` for the accepted inputs.
"""

from __future__ import annotations

from crossdock.model.base import CanonicalObject, ValueObject
from crossdock.model.billing import Invoice, InvoiceLine, Payment, PaymentAllocation
from crossdock.model.catalog import PriceListEntry, Product
from crossdock.model.charges import Charge, ChargeType, SplitMethod
from crossdock.model.freight import FreightCharge, FreightCost
from crossdock.model.order import Order, OrderLine
from crossdock.model.party import Address, Customer, OrderCustomer
from crossdock.model.planning import Forecast, ForecastPeriod
from crossdock.model.procurement import (
    AcknowledgementLine,
    AdvanceShipNotice,
    AdvanceShipNoticeLine,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    ReceiptLine,
    SupplierAcknowledgement,
)
from crossdock.model.registry import MODELS
from crossdock.model.returns import Refund, Return, ReturnInspection, ReturnLine
from crossdock.model.schema import export_schemas
from crossdock.model.shipment import (
    Package,
    ProofOfDelivery,
    Shipment,
    ShipmentLine,
    ShipmentMilestone,
)
from crossdock.model.stock import StockEvent, StockLevel
from crossdock.model.types import (
    Amount,
    CountryCode,
    CurrencyCode,
    ExternalRef,
    Money,
    NonNegativeAmount,
    NonNegativeQuantity,
    Percentage,
    PositiveAmount,
    PositiveQuantity,
    Quantity,
    Sku,
    SystemName,
    UnitOfMeasure,
)

__all__ = [
    "MODELS",
    "AcknowledgementLine",
    "Address",
    "AdvanceShipNotice",
    "AdvanceShipNoticeLine",
    "Amount",
    "CanonicalObject",
    "Charge",
    "ChargeType",
    "CountryCode",
    "CurrencyCode",
    "Customer",
    "ExternalRef",
    "Forecast",
    "ForecastPeriod",
    "FreightCharge",
    "FreightCost",
    "Invoice",
    "InvoiceLine",
    "Money",
    "NonNegativeAmount",
    "NonNegativeQuantity",
    "Order",
    "OrderCustomer",
    "OrderLine",
    "Package",
    "Payment",
    "PaymentAllocation",
    "Percentage",
    "PositiveAmount",
    "PositiveQuantity",
    "PriceListEntry",
    "Product",
    "ProofOfDelivery",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "Quantity",
    "Receipt",
    "ReceiptLine",
    "Refund",
    "Return",
    "ReturnInspection",
    "ReturnLine",
    "Shipment",
    "ShipmentLine",
    "ShipmentMilestone",
    "Sku",
    "SplitMethod",
    "StockEvent",
    "StockLevel",
    "SupplierAcknowledgement",
    "SystemName",
    "UnitOfMeasure",
    "ValueObject",
    "export_schemas",
]
