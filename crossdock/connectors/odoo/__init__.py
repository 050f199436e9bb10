"""The Odoo connector: client (JSON-2 and JSON-RPC), typed errors, and the ERP operations.

>>> ops = OdooOperations.from_system("odoo", config.systems["odoo"])   # doctest: +SKIP
>>> outcome = await ops.create_sale_orders(orders)                     # doctest: +SKIP
"""

from crossdock.connectors.odoo.batching import BatchOutcome, bisect_batch
from crossdock.connectors.odoo.client import OdooClient, ServerInfo
from crossdock.connectors.odoo.dialect import OdooDialect, dialect_for
from crossdock.connectors.odoo.errors import (
    ArchivedProductError,
    CompanyMismatchError,
    CurrencyUnsupportedError,
    OdooAccessError,
    OdooBusinessError,
    OdooError,
    OdooMissingError,
    OdooProtocolError,
    OdooServerError,
    OdooTimeoutError,
    OdooTransientError,
    UnknownCustomerError,
    UnknownSkuError,
)
from crossdock.connectors.odoo.operations import OdooOperations
from crossdock.connectors.odoo.port import ErpPort
from crossdock.connectors.odoo.records import (
    MoveInfo,
    PickingInfo,
    ProductInfo,
    PurchaseRef,
    SaleOrderRef,
    StockSetting,
    TransferResult,
)
from crossdock.connectors.odoo.settings import OdooSettings

__all__ = [
    "ArchivedProductError",
    "BatchOutcome",
    "CompanyMismatchError",
    "CurrencyUnsupportedError",
    "ErpPort",
    "MoveInfo",
    "OdooAccessError",
    "OdooBusinessError",
    "OdooClient",
    "OdooDialect",
    "OdooError",
    "OdooMissingError",
    "OdooOperations",
    "OdooProtocolError",
    "OdooServerError",
    "OdooSettings",
    "OdooTimeoutError",
    "OdooTransientError",
    "PickingInfo",
    "ProductInfo",
    "PurchaseRef",
    "SaleOrderRef",
    "ServerInfo",
    "StockSetting",
    "TransferResult",
    "UnknownCustomerError",
    "UnknownSkuError",
    "bisect_batch",
    "dialect_for",
]
