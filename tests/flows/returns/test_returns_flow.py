"""The returns flow on the in-memory ERP: a return authorised, received with one line restocked
and one scrapped, credited in part; an exchange through order to cash; redeliveries that double
nothing; the rules that refuse a return, naming the field and the rule; approval and mismatches
waiting for customer service."""

from __future__ import annotations

from decimal import Decimal

from crossdock.connectors.memory import MemoryErp
from crossdock.connectors.odoo import StockSetting
from tests.flows.harness import make_order, shipment_confirmed
from tests.flows.returns.conftest import Hub


async def _authorized(hub: Hub, order_id: str, ref: str, **kw: object) -> str:
    lines = kw.pop(
        "lines",
        [
            {"sku": "A", "quantity": "2", "reason": "damaged"},
            {"sku": "B", "quantity": "1", "reason": "wrong_item"},
        ],
    )
    answer = await hub.ask(
        channel=kw.pop("channel", "web"),
        return_ref=ref,
        order_id=order_id,
        outcome=kw.pop("outcome", "refund"),
        lines=lines,
    )
    assert answer.status == 202, answer
    rma = str(answer.body["rma"])
    await hub.deliver_all()
    return rma


async def test_a_return_is_authorised_received_and_credited_in_part(
    hub: Hub, erp: MemoryErp
) -> None:
    order_id = await hub.invoiced("WS-1", [("A", "3"), ("B", "2"), ("C", "1")])
    rma = await _authorized(hub, order_id, "R-1")

    record = await hub.record(rma)
    assert record.state == "authorized"
    [picking] = record.erp["pickings"]
    assert picking["quantities"] == {"A": "2", "B": "1"}
    assert erp.returns.pickings[f"{rma}/{picking['delivery_id']}"].demand == {
        "A": Decimal(2),
        "B": Decimal(1),
    }
    on_hand = {sku: erp.on_hand[("WH", sku)] for sku in "AB"}

    answer = await hub.receive(
        rma,
        [
            {"sku": "A", "quantity": "2", "condition": "opened", "disposition": "restock"},
            {"sku": "B", "quantity": "1", "condition": "damaged", "disposition": "scrap"},
        ],
    )
    assert answer.status == 202
    await hub.deliver_all()

    record = await hub.record(rma)
    assert record.state == "refunded"
    assert erp.on_hand[("WH", "A")] == on_hand["A"] + 2  # back in stock
    assert erp.on_hand[("WH", "B")] == on_hand["B"]  # received, then scrapped
    assert erp.returns.scrapped == {"B": Decimal(1)}
    [note] = record.erp["credit_notes"]
    assert Decimal(note["total"]) == 30 and note["quantities"] == {"A": "2", "B": "1"}
    [credit] = erp.returns.credit_notes.values()
    assert credit.key == rma and credit.subtotal == 30
    assert await hub.emitted(rma) == ["return.authorized", "return.received", "return.refunded"]
    assert await hub.steps(rma) == ["requested", "authorized", "received", "refunded"]
    syncs = [
        e for e in await hub.engine.events_after(0, 10_000) if e.type == "inventory.sync_requested"
    ]
    assert [e.data.get("publish") for e in syncs] == [["A"]]


async def test_a_redelivered_batch_doubles_nothing_in_the_erp(hub: Hub, erp: MemoryErp) -> None:
    order_id = await hub.invoiced("WS-2", [("A", "3")])
    answer = await hub.ask(
        channel="web",
        return_ref="R-2",
        order_id=order_id,
        outcome="credit",
        lines=[{"sku": "A", "quantity": "1"}],
    )
    rma = str(answer.body["rma"])
    requested = [
        e for e in await hub.engine.events_after(0, 10_000) if e.type == "return.requested"
    ]
    await hub.deliver_returns(requested, commit=False)  # the ERP made it, the hub crashed
    await hub.deliver_returns(requested, commit=True)  # redelivered after the restart
    await hub.deliver_returns(requested, commit=True)  # and once more after the ack
    assert len(erp.returns.pickings) == 1
    assert await hub.emitted(rma) == ["return.authorized"]

    await hub.receive(
        rma, [{"sku": "A", "quantity": "1", "condition": "new", "disposition": "restock"}]
    )
    receipts = [
        e for e in await hub.engine.events_after(0, 10_000) if e.type == "return.receipt_confirmed"
    ]
    await hub.deliver_returns(receipts, commit=False)
    await hub.deliver_returns(receipts, commit=True)
    await hub.deliver_returns(receipts, commit=True)
    assert len(erp.returns.credit_notes) == 1
    assert (await hub.record(rma)).state == "credited"
    assert await hub.emitted(rma) == ["return.authorized", "return.received", "return.credited"]


async def test_an_exchange_is_a_replacement_order_through_order_to_cash(
    hub: Hub, erp: MemoryErp
) -> None:
    order_id = await hub.invoiced("WS-3", [("A", "2")])
    rma = await _authorized(
        hub,
        order_id,
        "R-3",
        outcome="exchange",
        lines=[{"sku": "A", "quantity": "1", "reason": "defective"}],
    )
    await hub.receive(
        rma, [{"sku": "A", "quantity": "1", "condition": "defective", "disposition": "quarantine"}]
    )
    await hub.deliver_all()

    record = await hub.record(rma)
    assert record.state == "exchanged"
    assert erp.returns.quarantined == {("WH/Quarantine", "A"): Decimal(1)}
    replacement = await hub.orders.order(record.erp["replacement"]["order_id"])
    assert replacement.external_ref == f"WS-3-{rma}"
    assert replacement.state == "released"  # order to cash took it on
    [so] = erp.sale_orders_of(replacement.order())
    assert so.quantities == {"A": Decimal(1)} and so.prices["A"] == 0
    assert erp.returns.credit_notes == {}
    assert await hub.emitted(rma) == ["return.authorized", "return.received", "return.exchanged"]


async def test_the_rules_refuse_a_return_naming_the_field_and_the_rule(hub: Hub) -> None:
    order_id = await hub.invoiced("WS-4", [("A", "2"), ("NR-1", "1")], channel="priced")

    more = await hub.ask(
        channel="priced",
        return_ref="R-4",
        order_id=order_id,
        outcome="refund",
        lines=[{"sku": "A", "quantity": "3"}],
    )
    assert more.status == 422
    assert more.body["errors"] == [
        {
            "pointer": "/lines/0/quantity",
            "rule": "returnable_quantity",
            "detail": "3 of A asked back; at most 2 (2 delivered, 0 returned already)",
        }
    ]
    excluded = await hub.ask(
        channel="priced",
        return_ref="R-4",
        order_id=order_id,
        outcome="refund",
        lines=[{"sku": "NR-1", "quantity": "1"}, {"sku": "Z", "quantity": "1"}],
    )
    assert [(e["pointer"], e["rule"]) for e in excluded.body["errors"]] == [
        ("/lines/0/sku", "returnable"),
        ("/lines/1/sku", "in_order"),
    ]
    unknown = await hub.ask(
        channel="priced",
        return_ref="R-4",
        order_ref="NOPE",
        outcome="refund",
        lines=[{"sku": "A", "quantity": "1"}],
    )
    assert unknown.status == 422
    assert [(e["pointer"], e["rule"]) for e in unknown.body["errors"]] == [
        ("/order_ref", "order_exists")
    ]

    first = await hub.ask(
        channel="priced",
        return_ref="R-4",
        order_ref="WS-4",
        outcome="refund",
        lines=[{"sku": "A", "quantity": "2"}],
    )
    assert first.status == 202
    again = await hub.ask(
        channel="priced",
        return_ref="R-4",
        order_ref="WS-4",
        outcome="refund",
        lines=[{"sku": "A", "quantity": "2"}],
    )
    assert again.replayed and again.body == first.body
    other = await hub.ask(
        channel="priced",
        return_ref="R-4",
        order_ref="WS-4",
        outcome="credit",
        lines=[{"sku": "A", "quantity": "2"}],
    )
    assert other.status == 409 and other.conflict
    second = await hub.ask(
        channel="priced",
        return_ref="R-5",
        order_ref="WS-4",
        outcome="refund",
        lines=[{"sku": "A", "quantity": "1"}],
    )
    assert [e["rule"] for e in second.body["errors"]] == ["returnable_quantity"]


async def test_a_closed_window_and_an_undelivered_order_are_refused(hub: Hub) -> None:
    order_id = await hub.invoiced("WS-5", [("A", "1")], channel="cut")
    closed = await hub.ask(
        channel="cut",
        return_ref="R-6",
        order_id=order_id,
        outcome="refund",
        lines=[{"sku": "A", "quantity": "1"}],
    )
    assert closed.status == 422
    [error] = closed.body["errors"]
    assert error["pointer"] == "/order_id" and error["rule"] == "return_window"

    [pending] = await hub.orders.accept(make_order("WS-6", "c-1", [("A", "1")]))
    early = await hub.ask(
        channel="web",
        return_ref="R-7",
        order_id=pending,
        outcome="refund",
        lines=[{"sku": "A", "quantity": "1"}],
    )
    assert [e["rule"] for e in early.body["errors"]] == ["delivered", "returnable_quantity"]


async def test_category_rules_name_the_category_and_the_rule(hub: Hub, erp: MemoryErp) -> None:
    lines = [("FOOD-1", "1"), ("TV-1", "1"), ("DRILL-1", "1"), ("A", "1")]
    order_id = await hub.invoiced("WS-C", lines, channel="bycat")
    erp.categories.update(
        {
            "FOOD-1": "All / Food / Fresh",  # the rule of its parent category applies
            "TV-1": "All / Electronics",
            "DRILL-1": "All / Tools",
            "A": "All",
        }
    )
    refused = await hub.ask(
        channel="bycat",
        return_ref="R-C1",
        order_id=order_id,
        outcome="refund",
        lines=[{"sku": sku, "quantity": "1"} for sku, _ in lines],
    )
    assert refused.status == 422
    assert [(e["pointer"], e["rule"]) for e in refused.body["errors"]] == [
        ("/order_id", "return_window"),  # A has no category rule: the channel's window
        ("/lines/0/sku", "category_returnable"),
        ("/lines/1/sku", "category_window"),
    ]
    food = refused.body["errors"][1]["detail"]
    assert "'All / Food / Fresh'" in food
    assert "returns.channels.bycat.categories['All / Food']" in food
    assert "returnable 0 days after delivery" in refused.body["errors"][2]["detail"]

    # the tools' own window replaces the channel's closed one
    tools = await hub.ask(
        channel="bycat",
        return_ref="R-C2",
        order_id=order_id,
        outcome="refund",
        lines=[{"sku": "DRILL-1", "quantity": "1"}],
    )
    assert tools.status == 202, tools.body
    assert erp.calls["product_categories"] == 2


async def test_above_the_amount_customer_service_approves_or_rejects(
    hub: Hub, erp: MemoryErp
) -> None:
    order_id = await hub.invoiced("WS-7", [("A", "3")], channel="bo")
    rma = await _authorized(
        hub, order_id, "R-8", channel="bo", lines=[{"sku": "A", "quantity": "2"}]
    )
    assert (await hub.record(rma)).state == "pending_approval"
    assert erp.returns.pickings == {}
    [exception] = await hub.exceptions(rma)
    assert exception.type == "return_approval" and exception.owner == "customer_service"
    await hub.resolve(exception.id, "approve")
    await hub.deliver_all()
    assert (await hub.record(rma)).state == "authorized"
    assert len(erp.returns.pickings) == 1

    small = await _authorized(
        hub, order_id, "R-9", channel="bo", lines=[{"sku": "A", "quantity": "1"}]
    )
    assert (await hub.record(small)).state == "authorized"  # 10 is not above 15


async def test_a_short_parcel_waits_for_customer_service_then_credits_what_came(
    hub: Hub, erp: MemoryErp
) -> None:
    order_id = await hub.invoiced("WS-8", [("A", "3"), ("B", "1")])
    rma = await _authorized(hub, order_id, "R-10", outcome="credit")
    await hub.receive(
        rma,
        [
            {"sku": "A", "quantity": "1", "condition": "new", "disposition": "restock"},
            {"sku": "C", "quantity": "1", "condition": "new", "disposition": "restock"},
        ],
    )
    await hub.deliver_all()
    record = await hub.record(rma)
    assert record.state == "mismatch"
    [exception] = await hub.exceptions(rma)
    assert exception.type == "return_mismatch"
    assert "1 of A missing" in exception.reason and "1 of B missing" in exception.reason
    assert "1 of C not on the return" in exception.reason
    assert erp.returns.credit_notes == {}

    await hub.resolve(exception.id, "settle_received")
    await hub.deliver_all()
    record = await hub.record(rma)
    assert record.state == "credited"
    assert [n["quantities"] for n in record.erp["credit_notes"]] == [{"A": "1"}]


async def test_an_order_invoiced_in_parts_is_credited_on_each_invoice(
    hub: Hub, erp: MemoryErp
) -> None:
    for sku in "AB":
        erp.add_product(sku, price="10")
    await erp.set_stock([StockSetting(sku="A", quantity=Decimal(10))])
    [order_id] = await hub.orders.accept(make_order("WS-9", "c-1", [("A", "2"), ("B", "1")]))
    await hub.deliver_all()
    await hub.engine.append([shipment_confirmed(order_id, [("A", "2")])])  # B backordered
    await hub.deliver_all()
    await erp.set_stock([StockSetting(sku="B", quantity=Decimal(10))])
    await hub.engine.append([shipment_confirmed(order_id, [("B", "1")])])
    await hub.deliver_all()
    order = await hub.orders.order(order_id)
    assert order.state == "invoiced" and len(order.erp["invoices"]) == 2

    first = await _authorized(
        hub,
        order_id,
        "R-11",
        outcome="credit",
        lines=[{"sku": "A", "quantity": "1"}, {"sku": "B", "quantity": "1"}],
    )
    await hub.receive(
        first,
        [
            {"sku": "A", "quantity": "1", "condition": "new", "disposition": "restock"},
            {"sku": "B", "quantity": "1", "condition": "new", "disposition": "restock"},
        ],
    )
    await hub.deliver_all()
    record = await hub.record(first)
    assert record.state == "credited"
    by_invoice = {n["invoice_id"]: n["quantities"] for n in record.erp["credit_notes"]}
    [a_invoice, b_invoice] = [e["id"] for e in order.erp["invoices"]]
    assert by_invoice == {a_invoice: {"A": "1"}, b_invoice: {"B": "1"}}

    second = await _authorized(
        hub, order_id, "R-12", outcome="refund", lines=[{"sku": "A", "quantity": "1"}]
    )
    await hub.receive(
        second,
        [
            {"sku": "A", "quantity": "1", "condition": "new", "disposition": "restock"},
        ],
    )
    await hub.deliver_all()
    [note] = (await hub.record(second)).erp["credit_notes"]
    assert (note["invoice_id"], note["quantities"]) == (a_invoice, {"A": "1"})
    assert erp.returns.credited == {(a_invoice, "A"): Decimal(2), (b_invoice, "B"): Decimal(1)}
