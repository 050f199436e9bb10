"""A payment report: what a gateway or a bank says happened to a payment, in canonical terms.

``kind`` is ``captured`` (money in), ``failed`` (an attempt declined: nothing moved),
``refunded`` (money back to the customer; a bank debit is one) or ``chargeback`` (the
customer's bank took it back). ``payment_id`` is the hub's key of the payment,
``<source>:<id at the source>``: a second report with the same key is the same payment.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from crossdock.errors import CrossdockError

__all__ = ["GatewayError", "PaymentReport", "Unverified", "minor_to_decimal"]

KINDS = ("captured", "failed", "refunded", "chargeback")
ZERO_DECIMAL = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)
THREE_DECIMAL = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])


class Unverified(CrossdockError):
    """A gateway request whose signature or timestamp does not verify (answered 401)."""


class GatewayError(CrossdockError, ValueError):
    """A verified gateway payload that cannot be used (422), naming the pointer and the rule."""

    def __init__(self, pointer: str, rule: str, detail: str) -> None:
        super().__init__(f"{pointer}: {detail}")
        self.pointer = pointer
        self.rule = rule
        self.detail = detail


@dataclass(frozen=True, slots=True)
class PaymentReport:
    payment_id: str
    source: str
    kind: str
    amount: Decimal
    currency: str
    reference: str | None
    """Invoice number or payment reference (a credit note's, for a refund), or remittance text."""
    customer: str | None
    """The customer's reference (``<source>:<ref>``) or, from a bank, the debtor's name."""
    occurred_at: datetime
    provider_ref: str | None = None
    original: str | None = None
    """For a refund or chargeback: the payment it takes back, when the source says."""
    detail: str | None = None
    """Why it failed, the dispute's reason, …"""

    def data(self) -> dict[str, Any]:
        """The event data (JSON)."""
        out = asdict(self)
        out["amount"] = str(self.amount)
        out["occurred_at"] = self.occurred_at.isoformat()
        return out

    @classmethod
    def of(cls, data: dict[str, Any]) -> PaymentReport:
        values = dict(data)
        values["amount"] = Decimal(str(values["amount"]))
        values["occurred_at"] = datetime.fromisoformat(values["occurred_at"])
        known: dict[str, Any] = {k: values.get(k) for k in cls.__dataclass_fields__}
        return cls(**known)


def minor_to_decimal(amount: Any, currency: str, pointer: str) -> Decimal:
    """An integer amount in the currency's minor unit as a decimal amount."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        raise GatewayError(pointer, "integer", "a non-negative integer in minor units")
    code = currency.upper()
    exponent = 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2
    return Decimal(amount).scaleb(-exponent)
