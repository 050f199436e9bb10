"""The event catalog lists every event type the hub appends: the set is read from the code (every
``NewEvent`` and ``Schedule`` under ``crossdock/``, see :mod:`tests.catalog.published`), so a flow
that starts publishing a new type fails here until the catalog describes it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from crossdock.catalog.registry import CATALOG
from tests.catalog.published import Found, published_types, source_of

# The only place whose type is the sender's: the generic inbound webhook takes `type` from the
# body, allowed per source by configuration (`webhooks.sources.*.event_types`) and validated
# against the catalog's schema when the catalog has the type.
FROM_OUTSIDE = {"crossdock/webhooks/inbound.py:map_envelope"}


@pytest.fixture(scope="module")
def found() -> Found:
    return published_types()


def test_every_type_the_hub_appends_is_in_the_catalog(found: Found) -> None:
    missing = {name: sorted(places) for name, places in found.types.items() if name not in CATALOG}
    assert not missing, f"add to crossdock/catalog/registry.py: {missing}"


def test_every_type_argument_is_read_except_the_inbound_webhooks(found: Found) -> None:
    assert set(found.unresolved) == FROM_OUTSIDE, found.unresolved


def test_the_reader_follows_each_way_a_type_is_named(found: Found) -> None:
    ways = {
        "order.accepted": "crossdock/flows/order_to_cash/accept.py",  # a literal
        "inventory.low": "crossdock/flows/inventory/events.py",  # a module constant
        "payment.failed": "crossdock/flows/payments/handler.py",  # ev.FAILED
        "order.changed": "crossdock/flows/order_to_cash/events.py",  # order_event(ev.CHANGED)
        "purchase.bill_posted": "crossdock/flows/procurement/events.py",  # supplier_event(kind)
        "forecast.rejected": "crossdock/flows/procurement/forecasting.py",  # kind = A if … else B
        "forecasting.export_requested": "crossdock/flows/procurement/forecasting.py",  # API's kind
        "payments.statements_due": "crossdock/flows/payments/folder.py",  # a Schedule
    }
    for name, module in ways.items():
        assert any(p.startswith(module) for p in found.types.get(name, ())), name


def test_a_new_type_in_a_flow_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = tmp_path / "invented_flow.py"
    module.write_text(
        textwrap.dedent(
            """
            from crossdock.engine import NewEvent

            SHIPPED_TWICE = "shipment.shipped_twice"

            def made(kind: str) -> NewEvent:
                return NewEvent(kind, "flows.invented", "order:1", {})

            def publish() -> NewEvent:
                return made(SHIPPED_TWICE)
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    extra = published_types([source_of(module, tmp_path)])
    assert extra.types["shipment.shipped_twice"] == {"invented_flow.py:7"}
    assert "shipment.shipped_twice" not in CATALOG
