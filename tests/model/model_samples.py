"""Sample payloads shared by the canonical-model tests (not a test module)."""

from __future__ import annotations

from typing import Any


def sample_body() -> dict[str, Any]:
    """The intake API's documented request body."""
    return {
        "channel": "webshop",
        "external_ref": "WS-1001",
        "currency": "USD",
        "customer": {
            "external_ref": "C-42",
            "name": "Acme Ltd",
            "email": "buyer@acme.example",
            "address": {
                "street": "1 Main St",
                "city": "Springfield",
                "postal_code": "12345",
                "country": "US",
            },
        },
        "lines": [{"sku": "DESK-1", "quantity": "2", "unit_price": "120.00"}],
        "requested_date": "2026-11-30",
    }



ADDRESS = {"street": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}

SAMPLES: dict[str, dict[str, Any]] = {
    "customer": {
        "external_ref": "C-42",
        "source": "crm",
        "name": "Acme Ltd",
        "kind": "company",
        "email": "buyer@acme.example",
        "tax_id": "US123456789",
        "address": ADDRESS,
        "language": "en_US",
        "refs": {"odoo": "res.partner:7"},
    },
    "product": {
        "external_ref": "P-1",
        "source": "odoo",
        "sku": "DESK-1",
        "name": "Standing desk",
        "uom": "unit",
        "barcode": "4006381333931",
        "tracking": "serial",
        "list_price": {"amount": "499.00", "currency": "EUR"},
        "weight_kg": "32.5",
        "hs_code": "940330",
        "country_of_origin": "DE",
    },
    "price_list_entry": {
        "external_ref": "PL-B2B/DESK-1/10",
        "source": "odoo",
        "price_list": "B2B",
        "sku": "DESK-1",
        "currency": "EUR",
        "unit_price": "449.0000",
        "min_quantity": "10",
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
    },
    "order": {
        "channel": "webshop",
        "external_ref": "WS-1001",
        "currency": "USD",
        "customer": {"external_ref": "C-42", "name": "Acme Ltd", "address": ADDRESS},
        "lines": [{"sku": "DESK-1", "quantity": "2", "unit_price": "120.00"}],
    },
    "stock_level": {
        "external_ref": "WH1/DESK-1",
        "source": "wms",
        "warehouse": "WH1",
        "sku": "DESK-1",
        "on_hand": "12",
        "reserved": "2",
        "available": "10",
        "as_of": "2026-11-22T08:00:00Z",
    },
    "stock_event": {
        "external_ref": "MV-981",
        "source": "wms",
        "warehouse": "WH1",
        "location": "WH1/A-01-02",
        "sku": "DESK-1",
        "kind": "pick",
        "quantity": "-2",
        "occurred_at": "2026-11-22T08:05:00+01:00",
        "sequence": 981,
        "reference": "WS-1001",
    },
    "shipment": {
        "external_ref": "SH-1",
        "source": "wms",
        "order_ref": "WS-1001",
        "warehouse": "WH1",
        "status": "delivered",
        "ship_to": ADDRESS,
        "lines": [{"sku": "DESK-1", "quantity": "2", "serials": ["SN-1", "SN-2"]}],
        "carrier": "ups",
        "service": "Ground",
        "tracking_number": "1Z999AA10123456784",
        "ship_date": "2026-11-22",
        "packages": [{"tracking_number": "1Z999AA10123456784", "weight_kg": "66"}],
        "milestones": [
            {"code": "picked_up", "occurred_at": "2026-11-22T15:00:00Z", "location": "Springfield"},
            {"code": "in_transit", "occurred_at": "2026-11-23T02:00:00Z"},
            {"code": "delivered", "occurred_at": "2026-11-24T11:30:00Z", "country": "US"},
        ],
        "proof_of_delivery": {
            "delivered_at": "2026-11-24T11:30:00Z",
            "signed_by": "J. Doe",
            "document_url": "https://carrier.example/pod/1",
        },
    },
    "invoice": {
        "external_ref": "INV/2026/0001",
        "source": "odoo",
        "partner_ref": "C-42",
        "order_refs": ["WS-1001"],
        "currency": "USD",
        "invoice_date": "2026-11-24",
        "due_date": "2026-12-24",
        "lines": [
            {
                "sku": "DESK-1",
                "description": "Standing desk",
                "quantity": "2",
                "unit_price": "120.00",
                "subtotal": "240.00",
            },
            {
                "description": "Down payment",
                "quantity": "-1",
                "unit_price": "40.00",
                "subtotal": "-40.00",
            },
        ],
        "subtotal": "200.00",
        "tax_total": "16.00",
        "total": "216.00",
    },
    "payment": {
        "external_ref": "PAY-1",
        "source": "stripe",
        "partner_ref": "C-42",
        "amount": "216.00",
        "currency": "USD",
        "fee": "3.43",
        "method": "card",
        "paid_at": "2026-11-24T12:00:00Z",
        "allocations": [{"invoice_ref": "INV/2026/0001", "amount": "216.00"}],
    },
    "return": {
        "external_ref": "RMA-7",
        "source": "portal",
        "status": "refunded",
        "order_ref": "WS-1001",
        "requested_at": "2026-11-25T09:00:00Z",
        "lines": [
            {
                "sku": "DESK-1",
                "quantity": "1",
                "reason": "damaged",
                "serials": ["SN-2"],
                "received_quantity": "1",
                "inspection": {
                    "inspected_at": "2026-11-28T10:00:00Z",
                    "condition": "damaged",
                    "disposition": "return_to_vendor",
                    "accepted_quantity": "1",
                },
            }
        ],
        "refund": {"amount": {"amount": "120.00", "currency": "USD"}, "status": "completed"},
    },
    "purchase_order": {
        "external_ref": "PO-0001",
        "source": "odoo",
        "supplier_ref": "S-9",
        "currency": "EUR",
        "order_date": "2026-11-01",
        "warehouse": "WH1",
        "incoterm": "DAP",
        "lines": [
            {"line_number": "1", "sku": "DESK-1", "quantity": "50", "unit_price": "300.00"},
            {"line_number": "2", "sku": "DESK-1", "quantity": "50", "expected_date": "2026-12-15"},
        ],
    },
    "supplier_acknowledgement": {
        "external_ref": "ACK-PO-0001",
        "source": "edi",
        "purchase_order_ref": "PO-0001",
        "supplier_ref": "S-9",
        "status": "changed",
        "acknowledged_at": "2026-11-02T08:00:00Z",
        "lines": [{"line_number": "2", "sku": "DESK-1", "status": "changed", "quantity": "40"}],
    },
    "advance_ship_notice": {
        "external_ref": "ASN-55",
        "source": "edi",
        "supplier_ref": "S-9",
        "warehouse": "WH1",
        "ship_date": "2026-11-10",
        "expected_arrival": "2026-11-12",
        "lines": [
            {
                "sku": "DESK-1",
                "quantity": "50",
                "purchase_order_ref": "PO-0001",
                "purchase_order_line": "1",
                "lot": "L2026-11",
                "package_ref": "003456789012345678",
                "over_tolerance_percent": "2",
                "under_tolerance_percent": "5",
            }
        ],
    },
    "receipt": {
        "external_ref": "REC-88",
        "source": "wms",
        "warehouse": "WH1",
        "advance_ship_notice_ref": "ASN-55",
        "received_at": "2026-11-12T14:00:00Z",
        "lines": [{"sku": "DESK-1", "quantity": "49", "lot": "L2026-11"}],
    },
    "forecast": {
        "external_ref": "FC-DESK-1-2026W48",
        "source": "planner",
        "sku": "DESK-1",
        "granularity": "week",
        "generated_at": "2026-11-22T00:00:00Z",
        "periods": [
            {"start": "2026-11-23", "end": "2026-11-29", "quantity": "14.5"},
            {
                "start": "2026-11-30",
                "end": "2026-12-06",
                "quantity": "12",
                "lower": "8",
                "upper": "16",
            },
        ],
    },
    "freight_cost": {
        "external_ref": "FRT-1",
        "source": "ups",
        "kind": "invoiced",
        "carrier": "ups",
        "shipment_ref": "SH-1",
        "currency": "USD",
        "charges": [
            {"kind": "base", "amount": "38.20"},
            {"kind": "fuel", "amount": "5.10"},
            {"kind": "discount", "amount": "-3.30"},
        ],
        "total": "40.00",
    },
}

