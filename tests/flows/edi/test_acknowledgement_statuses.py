"""The 855 says what the ERP confirmed of each line of a customer's order: accepted (all of it
at the price asked), changed (less placed, or another price), backordered (part waits for
stock), rejected (none placed); written as ACK01 IA/IC/IB/IR and read back the same. While the
ERP is down the 855 waits for it. Each line carries the delivery date the ERP promises it (ACK04
017, ACK05); a line promised for another day than the customer asked is changed."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast

import pytest

from crossdock.config.edi import EdiConfig
from crossdock.connectors.edi.x12.mapping import acknowledgement_from_855, acknowledgement_to_855
from crossdock.connectors.odoo import OdooTransientError
from crossdock.connectors.odoo.port import ErpPort
from crossdock.engine import Batch, Event, Unavailable
from crossdock.flows.edi.events import acknowledgement_of, subscription
from crossdock.model import Order
from tests.flows.edi.support import partner

AT = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def order(lines: list[tuple[str, str, str]]) -> Order:
    return Order.model_validate(
        {
            "external_ref": "PO-77",
            "source": "edi-acme",
            "channel": "edi-acme",
            "currency": "USD",
            "customer": {"external_ref": "ACME", "name": "Acme Stores"},
            "lines": [
                {"sku": sku, "quantity": q, "unit_price": p, "line_ref": str(n)}
                for n, (sku, q, p) in enumerate(lines, start=1)
            ],
        }
    )


def statuses(ack: Any) -> list[tuple[str, str, str | None, str | None]]:
    return [
        (
            ln.sku,
            ln.status,
            None if ln.quantity is None else format(ln.quantity.normalize(), "f"),
            None if ln.unit_price is None else format(ln.unit_price.normalize(), "f"),
        )
        for ln in ack.lines
    ]


def test_each_line_says_what_the_erp_confirmed() -> None:
    placed = order(
        [("A", "5", "10"), ("B", "4", "2.50"), ("C", "6", "3"), ("D", "8", "1"), ("E", "2", "7")]
    )
    confirmed = {
        "A": (Decimal(5), Decimal("10.0"), None),  # all of it, at the price asked
        "B": (Decimal(4), Decimal("2.75"), None),  # another price (the channel's pricelist)
        "C": (Decimal(4), Decimal(3), None),  # less placed
        "D": (Decimal(8), Decimal(1), None),  # all placed, 3 of them wait for stock
    }  # E: nothing placed
    ack = acknowledgement_of(placed, {"backordered": {"D": "3"}}, AT, confirmed)
    assert statuses(ack) == [
        ("A", "accepted", None, "10"),
        ("B", "changed", None, "2.75"),
        ("C", "changed", "4", "3"),
        ("D", "backordered", "5", "1"),
        ("E", "rejected", "0", "7"),
    ]
    assert ack.status == "changed"
    # Written as an 855 and read back: the same statuses, BAK02 AC (with changes).
    written = acknowledgement_to_855(ack, 1)
    assert written.find("BAK").get(2) == "AC"  # type: ignore[union-attr]
    assert [s.get(1) for s in written.segments if s.id == "ACK"] == ["IA", "IC", "IC", "IB", "IR"]
    back = acknowledgement_from_855(written, seller=True)
    assert [(ln.sku, ln.status) for ln in back.lines] == [(s, st) for s, st, *_ in statuses(ack)]


def test_all_accepted_or_all_rejected() -> None:
    placed = order([("A", "1", "1"), ("B", "2", "1")])
    everything = {"A": (Decimal(1), Decimal(1), None), "B": (Decimal(2), Decimal(1), None)}
    accepted = acknowledgement_of(placed, {}, AT, everything)
    assert accepted.status == "accepted"
    assert acknowledgement_to_855(accepted, 1).find("BAK").get(2) == "AD"  # type: ignore[union-attr]
    rejected = acknowledgement_of(placed, {}, AT, {})
    assert rejected.status == "rejected"
    assert acknowledgement_to_855(rejected, 1).find("BAK").get(2) == "RD"  # type: ignore[union-attr]


def test_without_the_erp_the_plan_says_backordered() -> None:
    placed = order([("A", "5", "1"), ("B", "2", "1")])
    ack = acknowledgement_of(placed, {"backordered": {"A": "2"}}, AT)
    assert statuses(ack) == [("A", "backordered", "3", "1"), ("B", "accepted", None, "1")]


def test_each_line_says_its_promised_delivery_date() -> None:
    placed = order([("A", "5", "1"), ("B", "2", "1"), ("C", "1", "1")]).model_copy(
        update={"requested_date": date(2026, 12, 14)}
    )
    confirmed = {
        "A": (Decimal(5), Decimal(1), date(2026, 12, 14)),  # on the day asked
        "B": (Decimal(2), Decimal(1), date(2026, 12, 18)),  # later than asked
    }  # C: nothing placed, no date
    ack = acknowledgement_of(placed, {}, AT, confirmed)
    assert [(ln.sku, ln.status, ln.expected_date) for ln in ack.lines] == [
        ("A", "accepted", date(2026, 12, 14)),
        ("B", "changed", date(2026, 12, 18)),
        ("C", "rejected", None),
    ]
    written = acknowledgement_to_855(ack, 1)
    assert [s.elements for s in written.segments if s.id == "ACK"] == [
        ("IA", "", "", "017", "20261214"),
        ("IC", "", "", "017", "20261218"),
        ("IR", "0", "EA"),
    ]
    back = acknowledgement_from_855(written, seller=True)
    assert [ln.expected_date for ln in back.lines] == [ln.expected_date for ln in ack.lines]
    # Without the ERP the plan promises the day asked.
    planned = acknowledgement_of(placed, {}, AT)
    assert {ln.expected_date for ln in planned.lines} == {date(2026, 12, 14)}


class DownErp:
    """An ERP whose circuit is open."""

    async def sale_order_lines(self, order_ids: Any, *, scheduled: bool = False) -> Any:
        raise OdooTransientError("connection refused")

    def unavailable_for(self) -> float | None:
        return 7.0


async def test_the_855_waits_for_the_erp() -> None:
    acme = partner({"kind": "directory", "inbound": "/tmp/in", "outbound": "/tmp/out"})
    sub = subscription(EdiConfig(partners={"acme": acme}), time.time, cast(ErpPort, DownErp()))
    event = Event(
        "e1",
        "order.confirmed",
        "order_to_cash",
        "order:1",
        AT,
        {"channel": "edi-acme", "order_id": "1", "sale_orders": [{"id": 5}]},
    )
    batch = Batch("edi", [event])
    with pytest.raises(Unavailable) as raised:
        await sub.handler(batch)
    assert raised.value.retry_after_s == 7.0  # the engine waits, no attempt counted
    assert batch.writes == []
