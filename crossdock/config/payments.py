"""The ``payments`` section of ``crossdock.yaml``: the payment gateways that send us signed
webhooks, how a payment is matched to an invoice, and what a chargeback does.

.. code-block:: yaml

    payments:
      amount_tolerance: 0.01      # a payment this close to the residual pays the invoice in full
      chargeback_credit_hold: true # a chargeback puts the customer on credit hold (exception)
      finance_owner: finance      # owner role of the exceptions payments open
      journal: null               # ERP journal code payments are registered in (null: the bank's)
      gateways:
        stripe:
          kind: stripe            # Stripe-Signature (t=…,v1=…), Stripe's event shapes
          secrets: [env:STRIPE_WEBHOOK_SECRET]   # several while a secret is rolled
          tolerance_s: 300
        psp:
          kind: generic           # any gateway signing an HMAC of the body; fields by JSON path
          verification: hmac
          secrets: [env:PSP_SECRET]
          signature_header: X-Signature
          encoding: hex
          id_path: id
          type_path: event
          types: {payment.captured: captured, payment.failed: failed}
          amount_path: amount
          currency_path: currency
          reference_path: invoice
          customer_path: customer.ref
      statement_folder:           # bank statement files picked up on a schedule
        inbox: /var/lib/crossdock/statements/in
        archive: /var/lib/crossdock/statements/done
        rejected: /var/lib/crossdock/statements/rejected   # null: left in the inbox
        cron: "*/5 * * * *"

Gateways are received at ``POST /v1/payments/gateways/<name>``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from crossdock.config.base import ConfigModel
from crossdock.config.secrets import SecretRef
from crossdock.config.stripe_catchup import StripeCatchUpConfig
from crossdock.engine import cron_problem, timezone_problem

__all__ = ["PAYMENT_KINDS", "GatewayConfig", "PaymentsConfig", "StatementFolderConfig"]

PAYMENT_KINDS = ("captured", "failed", "refunded", "chargeback")
"""What a gateway event can say about a payment."""

_PATH_RE = re.compile(r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


def _check_path(value: str | None) -> str | None:
    if value is not None and not _PATH_RE.match(value):
        raise PydanticCustomError("path", "a dotted path of keys, e.g. data.object.amount")
    return value


def _check_name(value: str) -> str:
    if not _NAME_RE.match(value):
        raise PydanticCustomError("invalid_name", "lowercase letters, digits, '_' and '-'")
    return value


FieldPath = Annotated[str, AfterValidator(_check_path)]
OptionalPath = Annotated[str | None, AfterValidator(_check_path)]
GatewayName = Annotated[str, AfterValidator(_check_name)]
PaymentKind = Literal["captured", "failed", "refunded", "chargeback"]


class GatewayConfig(ConfigModel):
    """A payment gateway sending signed webhooks."""

    kind: Literal["stripe", "generic"] = "stripe"
    """``stripe``: Stripe's ``Stripe-Signature`` scheme and event shapes; ``generic``: an HMAC or
    Standard Webhooks signature, fields read by the paths below."""
    secrets: list[SecretRef] = Field(min_length=1, max_length=5)
    """Signing secrets; during a roll both the old and the new one verify."""
    tolerance_s: float = Field(default=300.0, gt=0)
    """How far the signed timestamp may be from our clock (replay protection)."""
    verification: Literal["hmac", "standard"] = "hmac"
    """``generic`` only: HMAC-SHA256 of the body in one header, or Standard Webhooks."""
    signature_header: str = "X-Signature"
    """``generic`` with ``hmac``: the header carrying the signature."""
    encoding: Literal["hex", "base64"] = "hex"
    """``generic`` with ``hmac``: how the signature is encoded."""
    timestamp_header: str | None = None
    """``generic`` with ``hmac``: a header with the send time, checked against ``tolerance_s``."""
    id_path: FieldPath = "id"
    """``generic``: the event id (deduplication)."""
    type_path: FieldPath = "type"
    """``generic``: the event type."""
    types: dict[str, PaymentKind] = Field(default_factory=dict)
    """``generic``: the gateway's event types mapped to a payment kind (others are ignored)."""
    payment_id_path: OptionalPath = None
    """``generic``: the payment's id at the gateway (default: the event id)."""
    amount_path: FieldPath = "amount"
    """``generic``: the amount."""
    minor_units: bool = False
    """``generic``: the amount is in the currency's minor units (cents)."""
    currency_path: FieldPath = "currency"
    reference_path: OptionalPath = None
    """``generic``: the invoice number or payment reference."""
    customer_path: OptionalPath = None
    """``generic``: the customer's reference."""

    catch_up: StripeCatchUpConfig = Field(default_factory=StripeCatchUpConfig)
    """``stripe``: missed events listed with ``GET /v1/events`` on a schedule (off by default;
    see :mod:`crossdock.config.stripe_catchup`)."""

    @model_validator(mode="after")
    def _catch_up_is_stripe(self) -> GatewayConfig:
        if self.catch_up.enabled and self.kind != "stripe":
            raise PydanticCustomError("catch_up", "only a stripe gateway lists missed events")
        return self

    @model_validator(mode="after")
    def _generic_needs_types(self) -> GatewayConfig:
        if self.kind == "generic" and not self.types:
            raise PydanticCustomError("types", "a generic gateway needs its event types mapped")
        return self


class StatementFolderConfig(ConfigModel):
    """Bank statement files (CAMT.053 or CSV) picked up from a folder on a schedule."""

    inbox: str = Field(min_length=1)
    """The folder the bank (or an operator) drops statement files into (names starting with
    ``.`` are being written: skipped)."""
    archive: str = Field(min_length=1)
    """Where an imported file is moved (a file of that name already there: the content hash is
    added to the name)."""
    rejected: str | None = None
    """Where a file that is no statement is moved (none: it stays in the inbox, recognised by
    its content, with its exception open)."""
    cron: str = "*/5 * * * *"
    """When the inbox is looked at (any node; one pick-up at a time across the cluster)."""
    timezone: str = "UTC"

    @model_validator(mode="after")
    def _check_schedule(self) -> StatementFolderConfig:
        for value, problem in (
            (self.cron, cron_problem(self.cron)),
            (self.timezone, timezone_problem(self.timezone)),
        ):
            if problem is not None:
                raise PydanticCustomError("schedule", f"{value!r}: {problem}")
        return self


class PaymentsConfig(ConfigModel):
    """Payments in from gateways and bank statements (see the module documentation)."""

    amount_tolerance: Decimal = Field(default=Decimal("0.01"), ge=0, le=1000)
    """A payment within this of an invoice's residual pays it in full (and matches by amount)."""
    chargeback_credit_hold: bool = True
    """A chargeback puts the customer on credit hold (an exception finance resolves)."""
    finance_owner: str = "finance"
    """Owner role of the exceptions opened by payments."""
    journal: str | None = None
    """ERP journal code payments are registered in (none: the ERP's first bank journal)."""
    gateways: dict[GatewayName, GatewayConfig] = Field(default_factory=dict)
    """Gateways by name: ``POST /v1/payments/gateways/<name>``."""
    statement_folder: StatementFolderConfig | None = None
    """Bank statement files picked up from a folder on a schedule (none: only
    ``POST /v1/payments/statements``)."""
