"""Round trips for every set and both versions: canonical → X12 → bytes → parse → canonical,
and parse → generate → parse gives the same interchange."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from crossdock.connectors.edi.x12 import TransactionSet, acknowledge, generate, load, read_997
from crossdock.connectors.edi.x12.mapping import (
    acknowledgement_from_855,
    acknowledgement_to_855,
    invoice_from_810,
    invoice_to_810,
    order_from_850,
    order_to_850,
    purchase_order_from_850,
    purchase_order_to_850,
    shipment_from_856,
    shipment_to_856,
)
from tests.connectors.edi.x12 import x12_samples as samples

VERSIONS = list(samples.VERSIONS)


def _through_bytes(transaction_set: TransactionSet, version: str) -> TransactionSet:
    """Envelope, generate, parse; the set must come back valid and the bytes stable."""
    data = generate(samples.envelope(transaction_set, version))
    [interchange] = load(data)
    assert interchange.report is not None and interchange.report.accepted
    [group] = interchange.groups
    [parsed] = group.sets
    assert parsed.result is not None
    assert parsed.result.accepted, parsed.result
    assert parsed == transaction_set
    assert generate(interchange) == data
    assert load(generate(interchange)) == [interchange]
    return parsed


CASES: dict[
    str, tuple[Callable[[], Any], Callable[[Any], TransactionSet], Callable[[TransactionSet], Any]]
] = {
    "850 order": (
        samples.order,
        lambda order: order_to_850(order, 1),
        lambda parsed: order_from_850(parsed, partner="ACME"),
    ),
    "850 purchase order": (
        samples.purchase_order,
        lambda po: purchase_order_to_850(po, 2),
        lambda parsed: purchase_order_from_850(parsed, supplier_ref="GLOBEX", source="odoo"),
    ),
    "855": (
        samples.acknowledgement,
        lambda ack: acknowledgement_to_855(ack, 3),
        lambda parsed: acknowledgement_from_855(parsed, supplier_ref="HUB", seller=True),
    ),
    "856 one package": (
        lambda: samples.shipment(packages=1),
        lambda shipment: shipment_to_856(shipment, 4),
        lambda parsed: shipment_from_856(parsed),
    ),
    "856 two packages": (
        samples.shipment,
        lambda shipment: shipment_to_856(shipment, 5),
        lambda parsed: shipment_from_856(parsed),
    ),
    "810 invoice": (
        samples.invoice,
        lambda invoice: invoice_to_810(invoice, 6),
        lambda parsed: invoice_from_810(parsed, direction="customer"),
    ),
    "810 credit note": (
        lambda: samples.invoice("credit_note"),
        lambda invoice: invoice_to_810(invoice, 7),
        lambda parsed: invoice_from_810(parsed, direction="customer"),
    ),
}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case", list(CASES))
def test_canonical_round_trip(case: str, version: str) -> None:
    make, to_x12, from_x12 = CASES[case]
    document = make()
    parsed = _through_bytes(to_x12(document), version)
    assert from_x12(parsed) == document


@pytest.mark.parametrize("version", VERSIONS)
def test_997_round_trip(version: str) -> None:
    good = order_to_850(samples.order(), 1)
    bad = order_to_850(samples.order(), 2)
    bad.segments[0] = bad.segments[0]._replace(elements=("00", "SA", "", "", "20261119"))
    interchange = samples.envelope(good, version)
    interchange.groups[0].sets.append(bad)
    [received] = load(generate(interchange))
    report = received.groups[0].report
    assert report is not None and report.status == "P"
    ack = acknowledge(report, 9, version=version)
    parsed = _through_bytes(ack, version)
    verdict = read_997(parsed)
    assert verdict.status == "P"
    assert (verdict.included, verdict.received, verdict.accepted_count) == (2, 2, 1)
    assert verdict.verdict("0001") == "accepted"
    assert verdict.verdict("0002") == "rejected"
    [_, rejected] = verdict.sets
    [segment_error] = rejected.errors
    assert (segment_error.segment_id, segment_error.position, segment_error.code) == ("BEG", 2, "8")
    assert [(e.position, e.code, e.reference) for e in segment_error.elements] == [(3, "1", "324")]
