"""Real-world files from public X12 parser projects (see data/README.md): read, validated,
mapped, and written back the same."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from crossdock.connectors.edi.x12 import Use, acknowledge, generate, load, vary
from crossdock.connectors.edi.x12.mapping import (
    MappingProfile,
    acknowledgement_from_855,
    advance_ship_notice_from_856,
    invoice_from_810,
    order_from_850,
)
from crossdock.connectors.edi.x12.sets import ASN_856

DATA = Path(__file__).parent / "data"


def _only_set(name: str, **kwargs: object):  # type: ignore[no-untyped-def]
    [interchange] = load((DATA / name).read_bytes(), **kwargs)  # type: ignore[arg-type]
    assert interchange.report is not None and interchange.report.accepted
    [group] = interchange.groups
    [transaction_set] = group.sets
    return interchange, group, transaction_set


def test_node_x12_850_becomes_an_order() -> None:
    interchange, group, po = _only_set("node-x12_850.edi")
    assert interchange.version == "00400" and group.version == "004010VICS"
    assert po.result is not None and po.result.accepted
    order = order_from_850(po, partner="XYZRETAIL")
    assert order.external_ref == "08292233294"
    assert [line.sku for line in order.lines] == [
        "AB3542",
        "RD5322",
        "XY5266",
        "VX2332",
        "RV0524",
        "DX1875",
    ]
    assert order.lines[0].quantity == 120 and order.lines[0].unit_price == Decimal("9.25")
    assert order.lines[0].name == "SMALL WIDGET"
    assert str(order.requested_date) == "2010-12-14"
    assert order.shipping_address is not None and order.shipping_address.city == "SOLON"
    # The same file through the generator: the bytes come back as published.
    assert generate(interchange) == (DATA / "node-x12_850.edi").read_bytes() + b"\n"


def test_adobe_855_line_status_and_partner_item_qualifier() -> None:
    interchange, _, ack = _only_set("x12parser_855_adobe.txt")
    assert interchange.delimiters.segment == "\r" and interchange.delimiters.suffix == "\n"
    assert ack.result is not None and ack.result.accepted
    # Adobe puts its manufacturer's part number (MG) where our SKU is: a profile setting.
    answer = acknowledgement_from_855(ack, profile=MappingProfile(buyer_item="MG", supplier="SE"))
    assert answer.purchase_order_ref == "0132710645"
    assert answer.supplier_ref == "ADUS"
    assert answer.status == "accepted"
    [line] = answer.lines
    assert (line.sku, line.status, line.unit_price) == ("00065008880AD01A00", "accepted", 369)


def test_adobe_810_becomes_a_supplier_invoice() -> None:
    _, _, invoice_set = _only_set("x12parser_810_adobe.txt")
    assert invoice_set.result is not None and invoice_set.result.accepted
    invoice = invoice_from_810(invoice_set, profile=MappingProfile(supplier="SE"))
    assert (invoice.external_ref, invoice.partner_ref) == ("0013833070", "ADUS")
    assert invoice.order_refs == ["V8748745"]
    assert invoice.total == Decimal("160.00") and invoice.tax_total == 0
    [line] = invoice.lines
    assert (line.sku, line.quantity, line.unit_price) == ("7167946", 1, 160)


def test_856_with_ctt_first_is_rejected_unless_the_partner_variation_says_so() -> None:
    data = (DATA / "x12parser_856_example1.txt").read_bytes()
    [interchange] = load(data)
    assert interchange.delimiters.element == "~" and interchange.delimiters.segment == "*"
    report = interchange.groups[0].report
    assert report is not None and report.status == "R"
    [result] = report.sets
    assert [(e.segment_id, e.position, e.code) for e in result.segment_errors] == [
        ("HL", 5, "3"),
        ("HL", 6, "7"),
    ]
    ak = acknowledge(report, 1)
    assert [s.elements for s in ak.segments if s.id == "AK3"] == [
        ("HL", "5", "", "3"),
        ("HL", "6", "", "7"),
    ]
    partner = {"856": vary(ASN_856, insert={"before:HL": Use("CTT")})}
    _, group, asn_set = _only_set("x12parser_856_example1.txt", specs=partner)
    assert group.report is not None and group.report.status == "A"
    asn = advance_ship_notice_from_856(
        asn_set, supplier_ref="ACME", profile=MappingProfile(buyer_item="CB")
    )
    assert asn.warehouse == "201495124" and str(asn.expected_arrival) == "2001-04-22"
    assert [(line.sku, line.quantity, line.uom, line.purchase_order_ref) for line in asn.lines] == [
        ("1234-123456", 16, "piece", "123456"),
        ("1234-654321", 23, "lb", "123456"),
        ("1234-223456", 16, "piece", "123456"),
    ]
