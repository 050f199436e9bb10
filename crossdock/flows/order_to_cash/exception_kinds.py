"""The exceptions the flow opens — type, owner role, resolution actions — and which one an ERP
error of a record calls for. Errors that are not about the record (transient or technical) have no
exception: they are raised so the engine retries them."""

from __future__ import annotations

from dataclasses import dataclass

from crossdock.connectors.odoo.errors import (
    ArchivedProductError,
    CurrencyUnsupportedError,
    OdooBusinessError,
    OdooError,
    OdooMissingError,
    UnknownCustomerError,
    UnknownSkuError,
)


@dataclass(frozen=True, slots=True)
class ExceptionKind:
    type: str
    owner: str
    actions: tuple[str, ...]


CREDIT_HOLD = ExceptionKind("credit_hold", "finance", ("approve", "reject"))
UNKNOWN_PRODUCT = ExceptionKind("unknown_product", "catalog", ("retry", "fail"))
UNKNOWN_CUSTOMER = ExceptionKind("unknown_customer", "sales", ("retry", "fail"))
OUT_OF_STOCK = ExceptionKind("out_of_stock", "sales", ("retry", "backorder", "fail"))
ERP_REJECTED = ExceptionKind("erp_rejected", "sales", ("retry", "fail"))
CURRENCY_UNSUPPORTED = ExceptionKind("currency_unsupported", "sales", ("retry", "fail"))
CANCEL_AFTER_RELEASE = ExceptionKind(
    "cancel_after_release", "operations", ("cancel_anyway", "keep")
)
CANCEL_FAILED = ExceptionKind("cancel_failed", "operations", ("cancel_anyway", "keep"))
SHIPMENT_REJECTED = ExceptionKind("shipment_rejected", "operations", ("retry", "ignore"))
INVOICE_FAILED = ExceptionKind("invoice_failed", "finance", ("retry", "ignore"))
CHANGE_AFTER_RELEASE = ExceptionKind("change_after_release", "operations", ("applied", "keep"))
CHANGE_FAILED = ExceptionKind("change_failed", "sales", ("applied", "keep"))

KINDS = {
    kind.type: kind
    for kind in (
        CREDIT_HOLD,
        UNKNOWN_PRODUCT,
        UNKNOWN_CUSTOMER,
        OUT_OF_STOCK,
        ERP_REJECTED,
        CURRENCY_UNSUPPORTED,
        CANCEL_AFTER_RELEASE,
        CANCEL_FAILED,
        SHIPMENT_REJECTED,
        INVOICE_FAILED,
        CHANGE_AFTER_RELEASE,
        CHANGE_FAILED,
    )
}


def is_record_error(error: BaseException) -> bool:
    """An error about one record (a person must act), not about the ERP being unavailable."""
    return isinstance(error, OdooBusinessError | OdooMissingError)


def kind_for(error: OdooError, default: ExceptionKind = ERP_REJECTED) -> ExceptionKind:
    """The exception a record's ERP error calls for."""
    if isinstance(error, UnknownSkuError | ArchivedProductError):
        return UNKNOWN_PRODUCT
    if isinstance(error, UnknownCustomerError):
        return UNKNOWN_CUSTOMER
    if isinstance(error, CurrencyUnsupportedError):
        return CURRENCY_UNSUPPORTED
    return default
