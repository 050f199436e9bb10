"""Parties: customers and postal addresses."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import ConfigDict, Field

from crossdock.model.base import CanonicalObject, ValueObject, schema_fields_optional
from crossdock.model.types import CountryCode, Email, Phone, ShortText

__all__ = ["Address", "Customer", "OrderCustomer"]


class Address(ValueObject):
    """A postal address; street, city, postal code and country are required."""

    name: ShortText | None = Field(default=None, description="Recipient or contact name.")
    company: ShortText | None = Field(default=None, description="Company name.")
    street: ShortText = Field(description="Street and house number.")
    street2: ShortText | None = Field(default=None, description="Additional address line.")
    city: ShortText = Field(description="City or town.")
    region: ShortText | None = Field(
        default=None, description="State, province or region (code or name)."
    )
    postal_code: str = Field(
        min_length=1, max_length=20, description="Postal or ZIP code as written locally."
    )
    country: CountryCode = Field(description="ISO 3166-1 alpha-2 country code.")
    phone: Phone | None = Field(default=None, description="Phone number for this address.")


class Customer(CanonicalObject):
    """A customer (a person or a company) who buys from the distributor."""

    SCHEMA_NAME: ClassVar[str] = "customer"

    name: ShortText = Field(description="Display name of the customer.")
    kind: Literal["person", "company"] | None = Field(
        default=None, description="Whether the customer is a person or a company."
    )
    email: Email | None = Field(default=None, description="E-mail address.")
    phone: Phone | None = Field(default=None, description="Phone number.")
    tax_id: ShortText | None = Field(
        default=None, description="VAT or other tax identification number."
    )
    address: Address | None = Field(default=None, description="Main (invoicing) address.")
    language: str | None = Field(
        default=None,
        pattern=r"^[a-z]{2,3}([_-][A-Za-z0-9]{2,8})*$",
        max_length=35,
        description="Preferred language as an IETF/POSIX tag (`en`, `de_CH`, `fr-CA`).",
    )


class OrderCustomer(Customer):
    """A customer embedded in an order: `source` may be omitted and defaults to the order's."""

    model_config = ConfigDict(json_schema_extra=schema_fields_optional("source"))
