"""Landed costs of purchase orders: the charges on a supplier's bill (freight, duty, insurance,
handling — the 810's ``SAC`` charges, the API bill's ``charges``) or on a separate carrier's or
customs broker's bill, capitalised into the value of the goods the order received.

A supplier's bill lands its charges once it matches (the consumer, after the vendor bill); a
cost bill (:class:`CostBill`, ``POST /v1/purchase-orders/{ref}/landed-costs``) is stored like
every supplier message (:func:`receive_cost_bill`: once under its reference, a duplicate
recognised) and landed by the consumer. Either way one ERP landed cost is made on the order's
validated receipts, one cost line per charge with the landed-cost product configured for its
type (``procurement.landed_costs``), computed and validated per policy; its natural key is
``<source>:<order>:<partner>:<bill>`` so that a re-sent bill never lands twice — and a bill whose
charges could not land (no receipt yet, a product not configured, the ERP's module missing) is
an exception for accounts payable, landed later by posting its charges as a cost bill (same
partner and reference: the same key).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import Field, model_validator
from sqlalchemy import Connection

from crossdock.config.landed_costs import LandedCostsConfig
from crossdock.connectors.odoo.landed_cost_records import LandedCharge, LandedCostRequest
from crossdock.connectors.odoo.port import ErpPort
from crossdock.engine import NewEvent, new_event_id
from crossdock.flows.exceptions import open_exception
from crossdock.flows.procurement.events import COST_BILL_POSTED, SOURCE, supplier_event
from crossdock.flows.procurement.store import DecisionError, RecommendationRow, add_step
from crossdock.flows.procurement.supplier import (
    Received,
    _store,
    mark_message,
    ordered_recommendation,
)
from crossdock.model import Charge, ValueObject
from crossdock.model.types import CurrencyCode, ExternalRef, PositiveAmount, SystemName
from crossdock.model.validation import raise_field_error

__all__ = [
    "EXCEPTION_LANDED",
    "CostBill",
    "Landed",
    "land_charges",
    "landed_key",
    "landed_subject",
    "receive_cost_bill",
    "record_landed",
    "retried_message",
]

EXCEPTION_LANDED = "procurement.landed_cost"
OWNER_PAYABLE = "accounts_payable"


class CostBill(ValueObject):
    """A carrier's, customs broker's or insurer's bill of charges on a purchase order's goods."""

    external_ref: ExternalRef = Field(description="The bill's number at its issuer.")
    source: SystemName = Field(description="System the bill came from.")
    partner_ref: ExternalRef = Field(description="The carrier's or broker's reference.")
    currency: CurrencyCode = Field(description="ISO 4217 currency of the charges.")
    bill_date: date = Field(description="Date of the bill (the landed cost's date).")
    charges: list[Charge] = Field(min_length=1, description="The charges to land.")
    total: PositiveAmount | None = Field(default=None, description="Sum of the charges.")

    @model_validator(mode="after")
    def _total(self) -> CostBill:
        expected = sum((c.amount for c in self.charges), Decimal(0))
        if self.total is not None and self.total != expected:
            raise_field_error(
                type(self).__name__,
                ("total",),
                "amount_mismatch",
                f"must equal {expected}, the sum of the charges",
                str(self.total),
            )
        return self


def landed_key(source: str, order_ref: str, partner: str, bill_ref: str) -> str:
    """The natural key of the landed cost of a bill's charges on an order."""
    return f"{source}:{order_ref}:{partner}:{bill_ref}"


def receive_cost_bill(
    conn: Connection, ref: str, bill: CostBill, *, now: float, via: str
) -> Received:
    """Store a cost bill against order ``ref`` (the consumer lands it). Sent again after its
    charges could not land (an exception), it is handed to the consumer again."""
    rec = ordered_recommendation(conn, ref)
    if bill.currency != rec.currency:
        raise DecisionError(
            422,
            f"currency: charges land in the order's currency {rec.currency}, not {bill.currency}",
            "/currency",
        )
    body = bill.model_dump(mode="json")
    key = f"{bill.partner_ref}:{bill.external_ref}"
    message_id, duplicate, state = _store(conn, rec, "cost-bill", key, body, now)
    if duplicate and state != "exception":
        return Received(message_id, True, state, None)
    if not duplicate:
        return Received(
            message_id, False, state, supplier_event(COST_BILL_POSTED, rec.ref, message_id)
        )
    # a retry: handed to the consumer again; the landed cost's key keeps it from doubling
    mark_message(conn, message_id, "received", {"retried_at": now})
    retry = NewEvent(
        COST_BILL_POSTED,
        SOURCE,
        f"purchase:{rec.ref}",
        {"ref": rec.ref, "message_id": message_id},
        idempotency_key=f"{COST_BILL_POSTED}:{message_id}:{now}",
        id=new_event_id(),
    )
    return Received(message_id, True, "received", retry)


@dataclass(frozen=True, slots=True)
class Landed:
    """What landing a bill's charges did: ``step`` on the order's timeline with its details,
    or ``problem`` (an exception for accounts payable)."""

    step: str
    details: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None


def _charge_json(charge: Charge) -> dict[str, Any]:
    out: dict[str, Any] = {"type": charge.type, "amount": format(charge.amount, "f")}
    if charge.description:
        out["description"] = charge.description
    if charge.split_method:
        out["split_method"] = charge.split_method
    return out


async def land_charges(
    erp: ErpPort,
    config: LandedCostsConfig,
    *,
    source: str,
    rec: RecommendationRow,
    partner: str,
    bill_ref: str,
    currency: str,
    charges: list[Charge],
    bill_date: date | None,
    on_vendor_bill: bool = False,
) -> Landed | None:
    """Land ``charges`` of bill ``bill_ref`` (from ``partner``) on order ``rec``; ``None``
    when there is nothing to land. ``on_vendor_bill``: the charges are the supplier's, billed
    on the order's draft vendor bill too. ERP outages propagate (the batch waits and
    resumes)."""
    if not charges:
        return None
    details: dict[str, Any] = {
        "bill": bill_ref,
        "partner": partner,
        "charges": [_charge_json(c) for c in charges],
    }
    if not config.enabled:
        return Landed(
            "charges-noted", {**details, "reason": "procurement.landed_costs has no products"}
        )
    missing = sorted({c.type for c in charges if c.type not in config.products})
    if missing:
        return Landed(
            "landed-cost-held",
            details,
            "no landed-cost product for "
            + ", ".join(f"{t} (procurement.landed_costs.products.{t})" for t in missing),
        )
    if currency != rec.currency:
        return Landed(
            "landed-cost-held",
            details,
            f"charges in {currency}: they land in the order's currency {rec.currency}",
        )
    key = landed_key(source, rec.ref, partner, bill_ref)
    request = LandedCostRequest(
        key=key,
        order_id=int(rec.po_id or 0),
        charges=tuple(
            LandedCharge(
                product_sku=config.products[c.type],
                label=c.description or f"{c.type.capitalize()} {bill_ref}",
                amount=c.amount,
                split_method=c.split_method or config.split_methods.get(c.type),
            )
            for c in charges
        ),
        date=bill_date,
        validate=config.validate_costs,
        on_vendor_bill=on_vendor_bill,
    )
    outcome = await erp.create_landed_costs([request])
    if key in outcome.failed:
        return Landed("landed-cost-held", details, str(outcome.failed[key]))
    cost = outcome.done[key]
    return Landed(
        "landed-cost",
        {
            **details,
            "landed_cost": cost.name,
            "state": cost.state,
            "amount": format(cost.amount_total, "f"),
            "receipts": list(cost.pickings),
            "on_vendor_bill": cost.vendor_bill_id is not None,
            "again": key in outcome.existing,
        },
    )


def landed_subject(ref: str, message_id: str) -> str:
    """The subject of the exception of a bill (message) whose charges could not land."""
    return f"landed:{ref}:{message_id}"


def retried_message(subject: str) -> str | None:
    """The bill (message id) a ``retry`` of a landed-cost exception is about."""
    parts = subject.split(":")
    return parts[-1] if len(parts) >= 3 and parts[0] == "landed" else None


def record_landed(
    conn: Connection,
    *,
    rec: RecommendationRow,
    landed: Landed,
    message_id: str,
    now: float | None = None,
) -> None:
    """The order's timeline step, and the exception for accounts payable when it could not
    land (its ``retry`` lands the bill's charges again)."""
    at = time.time() if now is None else now
    if landed.problem is not None:
        open_exception(
            conn,
            type=EXCEPTION_LANDED,
            owner=OWNER_PAYABLE,
            subject=landed_subject(rec.ref, message_id),
            reason=f"charges of bill {landed.details.get('bill')} on {rec.ref} not landed: "
            + landed.problem,
            actions=["retry", "dismiss"],
            now=at,
        )
        add_step(
            conn, rec.id, landed.step, actor="hub", now=at,
            details={**landed.details, "problem": landed.problem},
        )  # fmt: skip
        return
    add_step(conn, rec.id, landed.step, actor="hub", now=at, details=landed.details)
