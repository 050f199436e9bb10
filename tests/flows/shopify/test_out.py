"""Refunds, cancellations and fulfilments out to the simulated shop through the hub's consumers
(both real HTTP servers on 127.0.0.1): a settled return refunded once (restocked where it was
fulfilled, money back against the sale), a credited one refunded without money, a hub-side
cancellation cancelled in Shopify once; and a crash between Shopify's answer and the hub's
record (the port dies once after the shop made the write) doubles nothing and opens no
exception."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from crossdock.connectors.shopify.client import ShopifyClient
from crossdock.connectors.shopify.operations import ShopifyOperations
from crossdock.connectors.shopify.records import FulfilmentLine, RefundLine, RefundMade
from crossdock.connectors.shopify.settings import ShopifySettings
from crossdock.engine import NewEvent
from crossdock.flows.exceptions import list_exceptions
from crossdock.flows.returns.store import ReturnRecord, insert_return
from crossdock.flows.shopify.tables import shopify_writes
from crossdock.sandbox.shopify.app import ShopSandboxSettings
from crossdock.sandbox.shopify.server import ShopifySandboxServer
from crossdock.sandbox.shopify.shop import Shop
from tests.flows.shopify.conftest import DOMAIN, SECRET, TOKEN, ShopHub, published_order, serve_hub

LOCATION = "gid://shopify/Location/1"


class Crashing(ShopifyOperations):
    """The shop port of a hub that dies once right after the shop answered a write: the batch
    is tried again, as after a kill between the call and the record."""

    def __init__(self, client: ShopifyClient) -> None:
        super().__init__(client)
        self.crash_after: set[str] = set()

    def _maybe_crash(self, what: str) -> None:
        if what in self.crash_after:
            self.crash_after.discard(what)
            raise RuntimeError(f"the hub died after {what}")

    async def refund(self, *args: Any, **kwargs: Any) -> RefundMade:
        made = await super().refund(*args, **kwargs)
        self._maybe_crash("refund")
        return made

    async def fulfil(
        self,
        order_id: str,
        lines: Sequence[FulfilmentLine],
        *,
        carrier: str | None,
        tracking: str | None,
        tracking_url: str | None = None,
    ) -> str:
        made = await super().fulfil(order_id, lines, carrier=carrier, tracking=tracking)
        self._maybe_crash("fulfil")
        return made


@dataclass
class Out:
    hub: ShopHub
    server: ShopifySandboxServer
    port: Crashing

    @property
    def shop(self) -> Shop:
        shop: Shop = self.server.shop
        return shop

    async def append(self, *events: NewEvent) -> None:
        for event in events:
            await self.hub.hub.engine.append_one(event)
        await self.hub.settle()

    async def exceptions(self) -> list[Any]:
        found: list[Any] = await self.hub.hub.engine.db.read(lambda c: list_exceptions(c))
        return found

    async def writes(self) -> dict[str, str]:
        rows = await self.hub.hub.engine.db.read(
            lambda c: c.execute(select(shopify_writes.c.key, shopify_writes.c.state)).all()
        )
        return {str(r.key): str(r.state) for r in rows}

    def placed(self, number: int, **changes: Any) -> dict[str, Any]:
        order = published_order() | {"id": number, "financial_status": "paid", "gateway": "bogus"}
        order.update(changes)
        placed: dict[str, Any] = self.shop.place(order)
        return placed


@pytest.fixture
async def out(tmp_path: Path, shop_env: None) -> AsyncIterator[Out]:
    simulated = ShopSandboxSettings(
        token=TOKEN, webhook_secret=SECRET, domain=DOMAIN, restore_rate=1000.0, bucket_max=2000.0
    )
    with ShopifySandboxServer(simulated) as server:
        settings = ShopifySettings(
            name="shop",
            url=server.url,
            shop_domain=DOMAIN,
            access_token=TOKEN,
            webhook_secret=SECRET,
            locations={LOCATION: "WH1"},
            stock_channels={"shop": LOCATION},
            retry_attempts=2,
        )
        port = Crashing(ShopifyClient(settings))
        async for hub in serve_hub(tmp_path, port):
            yield Out(hub, server, port)
        await port.aclose()


async def _settled_return(out: Out, rma: str, order: str, outcome: str) -> None:
    now = time.time()
    record = ReturnRecord(
        rma=rma,
        channel="shop",
        return_ref=f"R-{rma}",
        order_id=f"hub-{order}",
        state="refunded",
        outcome=outcome,
        currency="USD",
        amount="398.00",
        body={"lines": [], "order_external_ref": order},
        erp={
            "accepted": {"IPOD2008GREEN": "1", "IPOD2008RED": "1"},
            "pickings": [
                {
                    "disposals": [
                        {"sku": "IPOD2008GREEN", "quantity": "1", "disposition": "restock"},
                        {"sku": "IPOD2008RED", "quantity": "1", "disposition": "scrap"},
                    ]
                }
            ],
        },
        created_at=now,
        updated_at=now,
    )
    await out.hub.hub.engine.db.write(lambda c: insert_return(c, record, None))


def settled(rma: str, order: str, *, refunded: bool = True, key: str = "1") -> NewEvent:
    return NewEvent(
        "return.refunded" if refunded else "return.credited",
        "crossdock.returns",
        f"return:{rma}",
        {
            "rma": rma,
            "channel": "shop",
            "return_ref": f"R-{rma}",
            "order": {"id": f"hub-{order}", "external_ref": order},
            "outcome": "refund" if refunded else "credit",
            "credit_notes": [],
            "total": "398.00",
            "currency": "USD",
        },
        idempotency_key=f"settled:{rma}:{key}",
    )


def cancelled(order: str, by: str | None = None) -> NewEvent:
    return NewEvent(
        "order.cancelled",
        "crossdock.order_to_cash",
        f"order:hub-{order}",
        {
            "order_id": f"hub-{order}",
            "channel": "shop",
            "external_ref": order,
            "reason": "credit rejected",
            "by": by,
        },
        idempotency_key=f"cancelled:{order}:{by}",
    )


async def test_a_refunded_return_is_refunded_once_in_shopify(out: Out) -> None:
    out.shop.add_item("IPOD2008GREEN", {LOCATION: 4})
    out.placed(8001)
    await out.append(settled("RMA-A", "8001"))  # no record of the return: nothing to refund
    await _settled_return(out, "RMA-B", "8001", "refund")
    await out.append(settled("RMA-B", "8001"), settled("RMA-B", "8001", key="replayed"))
    order = out.shop.order(8001)
    assert order is not None
    [refund] = order["refunds"]
    assert "RMA-B" in refund["note"]
    assert [(x["sku"], x["restock_type"]) for x in refund["refund_line_items"]] == [
        ("IPOD2008GREEN", "return"),
        ("IPOD2008RED", "no_restock"),
    ]
    assert [t["amount"] for t in refund["transactions"]] == ["398.00"]
    assert out.shop.available("IPOD2008GREEN", LOCATION) == 5
    assert (await out.writes())["refund:RMA-B"] == "done"
    [refused] = await out.exceptions()  # RMA-A named no units: Shopify refuses a refund of none
    assert refused.type == "shopify_refund_refused" and refused.subject == "return:RMA-A"


async def test_a_crash_after_the_refund_refunds_nothing_twice(out: Out) -> None:
    out.placed(8002)
    await _settled_return(out, "RMA-C", "8002", "refund")
    out.port.crash_after.add("refund")
    await out.append(settled("RMA-C", "8002"))
    order = out.shop.order(8002)
    assert order is not None and len(order["refunds"]) == 1
    assert order["financial_status"] == "partially_refunded"
    assert (await out.writes())["refund:RMA-C"] == "done"
    assert await out.exceptions() == []


async def test_a_credited_return_refunds_the_units_without_money(out: Out) -> None:
    out.placed(8003)
    await _settled_return(out, "RMA-D", "8003", "credit")
    await out.append(settled("RMA-D", "8003", refunded=False))
    order = out.shop.order(8003)
    assert order is not None
    [refund] = order["refunds"]
    assert refund["transactions"] == [] and len(refund["refund_line_items"]) == 2
    assert order["financial_status"] == "paid"


async def test_a_return_made_from_a_shopify_refund_is_not_refunded_again(out: Out) -> None:
    out.placed(8004)
    event = settled("RMA-E", "8004")
    event.data["return_ref"] = "shopify-refund:509562969"
    await out.append(event)
    order = out.shop.order(8004)
    assert order is not None and order["refunds"] == []


async def test_a_hub_cancellation_cancels_in_shopify_once(out: Out) -> None:
    out.placed(8005)
    out.placed(8006)
    await out.append(cancelled("8005"), cancelled("8006", by="shop"))
    first = out.shop.order(8005)
    assert first is not None and first["cancelled_at"] and first["financial_status"] == "refunded"
    assert out.shop.order(8006)["cancelled_at"] is None  # type: ignore[index]
    again = cancelled("8005")
    await out.append(NewEvent(again.type, again.source, again.subject, again.data, "replayed"))
    assert await out.exceptions() == []


async def test_a_refused_cancellation_is_an_exception(out: Out) -> None:
    out.placed(8007)
    await out.port.fulfil(
        "8007", [FulfilmentLine("IPOD2008RED", Decimal(1))], carrier=None, tracking=None
    )
    await out.append(cancelled("8007"))
    [refused] = await out.exceptions()
    assert refused.type == "shopify_cancel_refused" and "fulfilled" in refused.reason


async def test_a_crash_after_the_fulfilment_makes_no_second_one_and_no_exception(
    out: Out,
) -> None:
    out.placed(8008)
    out.port.crash_after.add("fulfil")
    await out.append(
        NewEvent(
            "shipment.dispatched",
            "crossdock.order_to_cash",
            "order:hub-8008",
            {
                "order_id": "hub-8008",
                "channel": "shop",
                "external_ref": "8008",
                "shipped": {"IPOD2008GREEN": "1"},
                "carrier": "DHL",
                "tracking_number": "JD0009",
            },
            idempotency_key="dispatched:8008",
        )
    )
    assert len(out.shop.fulfilments_of(8008)) == 1
    assert await out.exceptions() == []


def test_refund_lines_keep_whole_units() -> None:
    from crossdock.connectors.shopify.errors import ShopifyError
    from crossdock.flows.shopify.refunds import refund_lines

    lines = refund_lines(None, {"credit_notes": [{"quantities": {"A": "2", "B": "1.000"}}]})
    assert lines == [RefundLine("A", 2, 0), RefundLine("B", 1, 0)]
    with pytest.raises(ShopifyError, match="whole units"):
        refund_lines(None, {"credit_notes": [{"quantities": {"A": "0.5"}}]})
