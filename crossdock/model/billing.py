"""Billing: invoices and credit notes (customer or supplier side, EDI 810) and payments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from crossdock.model.base import CanonicalObject, ValueObject
from crossdock.model.charges import Charge
from crossdock.model.types import (
    Amount,
    CurrencyCode,
    ExternalRef,
    NonNegativeAmount,
    PositiveAmount,
    Quantity,
    ShortText,
    Sku,
    SystemName,
    UnitOfMeasure,
)
from crossdock.model.validation import raise_field_error, raise_line_errors

__all__ = [
    "Invoice",
    "InvoiceKind",
    "InvoiceLine",
    "InvoiceStatus",
    "Payment",
    "PaymentAllocation",
    "PaymentStatus",
]

InvoiceKind = Literal["invoice", "credit_note"]
"""An invoice or a credit note; amounts of both are positive, the kind gives the direction."""

InvoiceStatus = Literal["draft", "posted", "partially_paid", "paid", "cancelled"]
"""Lifecycle of an invoice."""

PaymentStatus = Literal[
    "pending", "authorized", "captured", "settled", "failed", "refunded", "cancelled"
]
"""Lifecycle of a payment, from authorization by the provider to settlement."""


def _amount_mismatch(field: str, actual: Decimal, expected: Decimal) -> InitErrorDetails:
    return InitErrorDetails(
        type=PydanticCustomError(
            "amount_mismatch",
            "must equal {expected}, the sum of its parts",
            {"expected": str(expected)},
        ),
        loc=(field,),
        input=str(actual),
    )


class InvoiceLine(ValueObject):
    """One invoiced line; `subtotal` is the line amount before tax, as rounded by the issuer.

    Quantity and unit price are signed: ERPs express deductions (down payments already invoiced,
    rewards) as lines with a negative quantity or price.
    """

    sku: Sku | None = Field(default=None, description="SKU invoiced; absent for service lines.")
    description: ShortText = Field(description="Line label as printed on the invoice.")
    quantity: Quantity = Field(description="Quantity invoiced, in `uom`.")
    uom: UnitOfMeasure = Field(default="unit", description="Unit of `quantity`.")
    unit_price: Amount = Field(description="Price per unit, before discount and tax.")
    discount_amount: NonNegativeAmount | None = Field(default=None, description="Line discount.")
    tax_amount: Amount | None = Field(default=None, description="Tax on the line.")
    subtotal: Amount | None = Field(
        default=None, description="Line amount before tax, after discount."
    )
    order_line_ref: ExternalRef | None = Field(
        default=None, description="Order line this line bills."
    )


class Invoice(CanonicalObject):
    """An invoice or credit note in one currency.

    When given, `total` must equal `subtotal + tax_total`, and `subtotal` must equal the sum of
    the lines' `subtotal` if every line has one.
    """

    SCHEMA_NAME: ClassVar[str] = "invoice"

    kind: InvoiceKind = Field(default="invoice", description="Invoice or credit note.")
    direction: Literal["customer", "supplier"] = Field(
        default="customer", description="Issued to a customer, or received from a supplier."
    )
    status: InvoiceStatus = Field(default="posted", description="Lifecycle status.")
    partner_ref: ExternalRef = Field(
        description="External reference of the customer or supplier billed."
    )
    order_refs: list[ExternalRef] = Field(
        default_factory=list, description="Sales or purchase orders this invoice bills."
    )
    reversed_invoice_ref: ExternalRef | None = Field(
        default=None, description="For a credit note: the invoice it reverses."
    )
    currency: CurrencyCode = Field(description="ISO 4217 currency of every amount.")
    invoice_date: date = Field(description="Invoice date.")
    due_date: date | None = Field(default=None, description="Payment due date.")
    lines: list[InvoiceLine] = Field(min_length=1, description="Invoiced lines.")
    subtotal: Amount | None = Field(default=None, description="Total before tax.")
    tax_total: Amount | None = Field(default=None, description="Total tax.")
    total: Amount | None = Field(default=None, description="Total including tax.")
    amount_due: Amount | None = Field(default=None, description="Amount still to be paid.")
    charges: list[Charge] = Field(
        default_factory=list,
        description="Charges beside the lines (freight, duty, …): landed costs of the goods.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Invoice:
        title = type(self).__name__
        if self.due_date is not None and self.due_date < self.invoice_date:
            raise_field_error(
                title, ("due_date",), "date_order", "must not be before invoice_date", self.due_date
            )
        errors: list[InitErrorDetails] = []
        line_subtotals = [line.subtotal for line in self.lines]
        if self.subtotal is not None and all(value is not None for value in line_subtotals):
            expected = sum((value for value in line_subtotals if value is not None), Decimal(0))
            if expected != self.subtotal:
                errors.append(_amount_mismatch("subtotal", self.subtotal, expected))
        if None not in (self.subtotal, self.tax_total, self.total):
            assert self.subtotal is not None and self.tax_total is not None
            expected = self.subtotal + self.tax_total
            if self.total is not None and expected != self.total:
                errors.append(_amount_mismatch("total", self.total, expected))
        raise_line_errors(title, errors)
        return self


class PaymentAllocation(ValueObject):
    """The part of a payment applied to one invoice."""

    invoice_ref: ExternalRef = Field(description="External reference of the invoice paid.")
    amount: PositiveAmount = Field(description="Amount applied, in the payment's currency.")


class Payment(CanonicalObject):
    """Money received from a customer or paid to a supplier, optionally applied to invoices.

    The allocations may not exceed the payment's `amount`.
    """

    SCHEMA_NAME: ClassVar[str] = "payment"

    direction: Literal["inbound", "outbound"] = Field(
        default="inbound", description="Received (from a customer) or sent (to a supplier)."
    )
    status: PaymentStatus = Field(default="settled", description="Lifecycle status.")
    partner_ref: ExternalRef | None = Field(
        default=None, description="External reference of the paying or paid party."
    )
    order_ref: ExternalRef | None = Field(
        default=None, description="Order paid for, for payments taken at checkout."
    )
    amount: PositiveAmount = Field(description="Amount paid.")
    currency: CurrencyCode = Field(description="ISO 4217 currency of `amount` and allocations.")
    fee: NonNegativeAmount | None = Field(default=None, description="Provider fee withheld.")
    method: ShortText | None = Field(
        default=None, description="Payment method (`card`, `bank_transfer`, `paypal`, ...)."
    )
    provider: SystemName | None = Field(
        default=None, description="Payment provider or bank (e.g. `stripe`)."
    )
    provider_ref: ExternalRef | None = Field(
        default=None, description="Transaction id at the provider."
    )
    paid_at: AwareDatetime = Field(description="When the payment was made or authorized.")
    allocations: list[PaymentAllocation] = Field(
        default_factory=list, description="Invoices the payment is applied to."
    )

    @model_validator(mode="after")
    def _allocations_within_amount(self) -> Payment:
        allocated = sum((allocation.amount for allocation in self.allocations), Decimal(0))
        if allocated > self.amount:
            raise_field_error(
                type(self).__name__,
                ("allocations",),
                "allocation_exceeds_amount",
                f"allocations sum to {allocated}, more than the payment amount {self.amount}",
                [str(allocation.amount) for allocation in self.allocations],
            )
        return self
