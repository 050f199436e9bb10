"""An 810's charges (``SAC01`` ``C``): the published Adobe 810 (data/README.md) with the summary
``SAC`` charges of a supplier's freight and insurance — the codes of X12 element 1300 — read as
the invoice's charges (landed costs), allowances left out, unknown codes kept as ``other``."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from crossdock.connectors.edi.x12 import load
from crossdock.connectors.edi.x12.mapping import MappingProfile, invoice_from_810
from crossdock.model import Charge

DATA = Path(__file__).parent / "data"

# after TDS: freight 285.00, insurance 12.50 with its SAC15 description, a 5.00 discount (an
# allowance: not a charge), a code the profile does not know
SUMMARY = (
    b"      SAC*C*D240***28500\r\n"
    b"      SAC*C*D980***1250**********CARGO INSURANCE\r\n"
    b"      SAC*A*C310***500\r\n"
    b"      SAC*C*A350***800\r\n"
)


def _with_charges() -> bytes:
    data = (DATA / "x12parser_810_adobe.txt").read_bytes()
    tds = b"      TDS*16000\r\n"
    assert data.count(tds) == 1 and data.count(b"SE*45*") == 1
    return data.replace(tds, tds + SUMMARY).replace(b"SE*45*", b"SE*49*")


def _invoice(profile: MappingProfile):  # type: ignore[no-untyped-def]
    [interchange] = load(_with_charges())
    assert interchange.report is not None and interchange.report.accepted
    [transaction_set] = interchange.groups[0].sets
    assert transaction_set.result is not None and transaction_set.result.accepted
    return invoice_from_810(transaction_set, profile=profile)


def test_summary_charges_become_the_invoice_charges() -> None:
    invoice = _invoice(MappingProfile(supplier="SE"))
    assert invoice.charges == [
        Charge(type="freight", amount=Decimal("285.00")),
        Charge(type="insurance", amount=Decimal("12.50"), description="CARGO INSURANCE"),
        Charge(type="other", amount=Decimal("8.00"), description="SAC A350"),
    ]
    [line] = invoice.lines  # the goods are unchanged
    assert (line.sku, line.quantity, line.unit_price) == ("7167946", 1, 160)


def test_a_partner_maps_its_own_codes() -> None:
    codes = {"D240": "freight", "A350": "handling"}  # A350: airport terminal handling
    invoice = _invoice(MappingProfile(supplier="SE", charge_codes=codes))
    assert [(c.type, c.amount) for c in invoice.charges] == [
        ("freight", Decimal("285.00")),
        ("other", Decimal("12.50")),
        ("handling", Decimal("8.00")),
    ]


def test_the_published_810_has_no_charges() -> None:
    [interchange] = load((DATA / "x12parser_810_adobe.txt").read_bytes())
    [transaction_set] = interchange.groups[0].sets
    assert invoice_from_810(transaction_set, profile=MappingProfile(supplier="SE")).charges == []
