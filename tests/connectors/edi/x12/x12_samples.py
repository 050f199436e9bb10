"""Canonical documents and envelope helpers shared by the X12 tests (not a test module)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from crossdock.connectors.edi.x12 import (
    Delimiters,
    FunctionalGroup,
    Interchange,
    TransactionSet,
    gs_header,
    isa_header,
)
from crossdock.connectors.edi.x12.mapping import functional_id
from crossdock.model.billing import Invoice
from crossdock.model.order import Order
from crossdock.model.procurement import PurchaseOrder, SupplierAcknowledgement
from crossdock.model.shipment import Shipment

WHEN = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
VERSIONS = {"004010": ("00401", None), "005010": ("00501", "^")}
"""GS08 → (ISA12, repetition separator)."""

ADDRESS = {
    "company": "Acme Stores",
    "name": "Receiving dock 4",
    "street": "31875 Solon Rd",
    "street2": "Building B",
    "city": "Solon",
    "region": "OH",
    "postal_code": "44139",
    "country": "US",
    "phone": "+1 440 555 0100",
}


def envelope(
    transaction_set: TransactionSet,
    version: str = "005010",
    *,
    control: int = 17,
    delimiters: Delimiters | None = None,
) -> Interchange:
    """One set in one group in one interchange, HUB → ACME."""
    isa_version, repetition = VERSIONS[version]
    return Interchange(
        isa_header(("ZZ", "HUB"), ("ZZ", "ACME"), control, version=isa_version, when=WHEN),
        [
            FunctionalGroup(
                gs_header(
                    functional_id(transaction_set.id),
                    "HUB",
                    "ACME",
                    control,
                    version=version,
                    when=WHEN,
                ),
                [transaction_set],
            )
        ],
        delimiters or Delimiters("*", ">", "~", repetition, "\n"),
    )


def order() -> Order:
    return Order.model_validate(
        {
            "channel": "edi",
            "external_ref": "PO-4711",
            "customer_reference": "PO-4711",
            "currency": "USD",
            "customer": {"external_ref": "ACME", "name": "Acme Stores", "address": ADDRESS},
            "ordered_at": "2026-11-19T00:00:00Z",
            "requested_date": "2026-11-30",
            "shipping_address": ADDRESS,
            "shipping_method": "UPS GROUND",
            "lines": [
                {
                    "line_ref": "1",
                    "sku": "DESK-1",
                    "name": "Standing desk",
                    "quantity": "2",
                    "unit_price": "120.50",
                },
                {
                    "line_ref": "2",
                    "sku": "LAMP-7",
                    "quantity": "12",
                    "uom": "case",
                    "unit_price": "9.99",
                },
            ],
            "total_amount": "360.88",
            "note": "Deliver between 8 and 12",
        }
    )


def purchase_order() -> PurchaseOrder:
    return PurchaseOrder.model_validate(
        {
            "external_ref": "P00042",
            "source": "odoo",
            "supplier_ref": "GLOBEX",
            "status": "sent",
            "currency": "EUR",
            "order_date": "2026-11-18",
            "expected_date": "2026-12-01",
            "warehouse": "WH1",
            "ship_to": ADDRESS,
            "incoterm": "DAP",
            "lines": [
                {
                    "line_number": "10",
                    "sku": "DESK-1",
                    "supplier_sku": "GX-DSK-01",
                    "description": "Standing desk frame",
                    "quantity": "40",
                    "unit_price": "80",
                    "expected_date": "2026-12-01",
                },
                {"line_number": "20", "sku": "SCREW-M6", "quantity": "1000", "uom": "box"},
            ],
            "total": "3200",
            "note": "Pallets of at most 500 kg",
        }
    )


def acknowledgement() -> SupplierAcknowledgement:
    return SupplierAcknowledgement.model_validate(
        {
            "external_ref": "SO-981",
            "source": "edi",
            "purchase_order_ref": "PO-4711",
            "supplier_ref": "HUB",
            "status": "changed",
            "acknowledged_at": "2026-11-20T00:00:00Z",
            "lines": [
                {"line_number": "1", "sku": "DESK-1", "status": "accepted"},
                {
                    "line_number": "2",
                    "sku": "LAMP-7",
                    "status": "changed",
                    "quantity": "10",
                    "uom": "case",
                    "unit_price": "9.49",
                    "expected_date": "2026-12-03",
                },
                {"line_number": "3", "sku": "CHAIR-2", "status": "rejected", "quantity": "0"},
                {
                    "line_number": "4",
                    "sku": "MAT-9",
                    "status": "backordered",
                    "expected_date": "2027-01-15",
                },
            ],
        }
    )


def shipment(packages: int = 2) -> Shipment:
    return Shipment.model_validate(
        {
            "external_ref": "WH1/OUT/00077",
            "source": "edi",
            "order_ref": "PO-4711",
            "warehouse": "WH1",
            "status": "shipped",
            "ship_to": ADDRESS,
            "carrier": "UPSN",
            "service": "GROUND",
            "tracking_number": "1Z999AA10123456784",
            "ship_date": "2026-11-21",
            "estimated_delivery_date": "2026-11-25",
            "lines": [
                {
                    "sku": "DESK-1",
                    "quantity": "2",
                    "order_line_ref": "1",
                    "serials": ["SN-1", "SN-2"],
                },
                {
                    "sku": "LAMP-7",
                    "quantity": "10",
                    "uom": "case",
                    "lot": "L2026-11",
                    "order_line_ref": "2",
                },
            ],
            "packages": [
                {
                    "package_ref": f"00012345600000000{n}",
                    "tracking_number": f"1Z99{n}",
                    "weight_kg": "12.5",
                }
                for n in range(packages)
            ],
        }
    )


def invoice(kind: str = "invoice") -> Invoice:
    return Invoice.model_validate(
        {
            "external_ref": "INV/2026/0042",
            "source": "edi",
            "kind": kind,
            "direction": "customer",
            "partner_ref": "ACME",
            "order_refs": ["PO-4711", "PO-4712"],
            "reversed_invoice_ref": "INV/2026/0001" if kind == "credit_note" else None,
            "currency": "USD",
            "invoice_date": "2026-11-22",
            "due_date": "2026-12-22",
            "lines": [
                {
                    "sku": "DESK-1",
                    "description": "Standing desk",
                    "quantity": "2",
                    "unit_price": "120.50",
                    "tax_amount": "19.28",
                    "discount_amount": "10.00",
                    "order_line_ref": "1",
                },
                {"description": "Freight", "quantity": "1", "unit_price": "25"},
            ],
            "subtotal": "256.00",
            "tax_total": "19.28",
            "total": "275.28",
        }
    )


__all__ = [
    "ADDRESS",
    "VERSIONS",
    "WHEN",
    "Decimal",
    "Delimiters",
    "acknowledgement",
    "date",
    "envelope",
    "invoice",
    "order",
    "purchase_order",
    "shipment",
]
