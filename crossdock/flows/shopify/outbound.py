"""Toward Shopify, and the missed-webhook pull: three consumers on the shop port (and refunds and
cancellations, :mod:`.refunds`).

* **Pull** (``shopify.pull_due``, from the shop's schedule): orders updated since the last mark
  (less an overlap, for clocks and slow writers) are read page by page and appended as
  ``shopify.order_received`` versions, with the mark, in the transaction that acknowledges the
  tick; the versions then take the webhooks' path. A version already seen is stale there, and
  its idempotency key (``pull:<system>:<id>:<updated_at>``) stops a second append, so a missed
  webhook is found and nothing is doubled.
* **Fulfilments** (``shipment.dispatched`` of an order whose channel is a shop): the shipped
  quantities are fulfilled on the order's open fulfilment order lines, with carrier and
  tracking; a partial shipment is a partial fulfilment.
* **Stock** (``inventory.available`` of a channel that publishes to a shop's location): the
  quantities are set compare-and-set, in batches; one that changed in Shopify meanwhile is left
  for the inventory flow's next publication instead of being overwritten.

The shop down or throttling raises :class:`~crossdock.errors.Unavailable`: the engine keeps the
batch and tries it again later, in order (per subject), so nothing is lost. A refusal by the shop
(a fulfilment with nothing left to fulfil) opens an exception naming it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any

import structlog
from sqlalchemy import Connection, insert, select

from crossdock.connectors.shopify.errors import ShopifyError
from crossdock.connectors.shopify.port import ShopPort
from crossdock.connectors.shopify.records import FulfilmentLine, InventoryChange
from crossdock.engine import Batch, Engine, Subscription
from crossdock.flows.exceptions import open_exception
from crossdock.flows.shopify.orders import received_event
from crossdock.flows.shopify.refunds import CONSUMED as REFUNDS_CONSUMED
from crossdock.flows.shopify.refunds import Refunds
from crossdock.flows.shopify.tables import shopify_marks

__all__ = [
    "PULL_DUE",
    "Outbound",
    "pull_subject",
]

PULL_DUE = "shopify.pull_due"
DISPATCHED = "shipment.dispatched"
AVAILABLE = "inventory.available"
REFUSED = "shopify_fulfilment_refused"
UNMAPPED = "shopify_location_unmapped"
INITIAL_LOOKBACK_S = 86400.0
"""The first pull of a shop reads the last day (what webhooks may have missed before)."""
log = structlog.get_logger(__name__)


def pull_subject(system: str) -> str:
    return f"shopify:{system}:pull"


def _mark(conn: Connection, system: str) -> float | None:
    row = conn.execute(
        select(shopify_marks.c.pulled_to).where(shopify_marks.c.system == system)
    ).first()
    return None if row is None else float(row.pulled_to)


def _set_mark(conn: Connection, system: str, pulled_to: float) -> None:
    current = _mark(conn, system)
    if current is None:
        conn.execute(
            insert(shopify_marks).values(system=system, pulled_to=pulled_to, at=time.time())
        )
    elif pulled_to > current:
        conn.execute(
            shopify_marks.update()
            .where(shopify_marks.c.system == system)
            .values(pulled_to=pulled_to, at=time.time())
        )


def _stamp(value: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class Outbound:
    """The three consumers over the connected shops' ports (by system name)."""

    def __init__(
        self,
        engine: Engine,
        shops: Mapping[str, ShopPort],
        *,
        stock_channels: Mapping[str, tuple[str, str]],
        overlap_s: Mapping[str, float],
    ) -> None:
        self.engine = engine
        self.shops = dict(shops)
        self.stock_channels = dict(stock_channels)
        """(system, location gid) by inventory channel name."""
        self.overlap_s = dict(overlap_s)

    # -- pull -------------------------------------------------------------------------------

    async def pull(self, batch: Batch) -> None:
        systems = sorted({str(e.data.get("system")) for e in batch.events} & set(self.shops))
        for system in systems:
            mark = await self.engine.db.read(partial(_mark, system=system))
            now = time.time()
            since = (mark if mark is not None else now - INITIAL_LOOKBACK_S) - self.overlap_s.get(
                system, 300.0
            )
            latest = mark or 0.0
            found = 0
            async for page in self.shops[system].orders_updated_since(
                datetime.fromtimestamp(since, UTC)
            ):
                for payload in page:
                    stamp = _stamp(payload.get("updated_at")) or 0.0
                    latest = max(latest, stamp)
                    topic = "orders/cancelled" if payload.get("cancelled_at") else "orders/updated"
                    key = f"pull:{system}:{payload.get('id')}:{payload.get('updated_at')}"
                    batch.emit(received_event(system, topic, payload, via="pull", key=key))
                    found += 1
            pulled_to = latest

            def write(conn: Connection, s: str = system, to: float = pulled_to) -> None:
                if to:
                    _set_mark(conn, s, to)

            batch.write(write)
            log.info("shopify.pulled", system=system, orders=found, since=since)
            await self._check_locations(batch, system)

    async def _check_locations(self, batch: Batch, system: str) -> None:
        """A location of the shop that no warehouse is mapped to may hold stock or take orders
        the hub knows nothing of: each is an exception, never ignored."""
        shop = self.shops[system]
        mapped = shop.options().locations
        unmapped = {
            gid: name for gid, name in (await shop.locations()).items() if gid not in mapped
        }
        if not unmapped:
            return

        def write(conn: Connection) -> None:
            for gid, name in sorted(unmapped.items()):
                open_exception(
                    conn,
                    type=UNMAPPED,
                    owner="operations",
                    subject=f"shopify:{system}:location:{gid.rsplit('/', 1)[-1]}",
                    reason=f"{system}: location {name!r} ({gid}) is mapped to no warehouse "
                    "(systems.<name>.options.locations)",
                    actions=["mapped", "ignore"],
                    now=time.time(),
                )

        batch.write(write)

    # -- fulfilments ------------------------------------------------------------------------

    async def fulfil(self, batch: Batch) -> None:
        refused: list[tuple[str, str, str]] = []
        for event in batch.events:
            data = event.data
            system = str(data.get("channel"))
            shop = self.shops.get(system)
            if shop is None:
                continue
            lines = [
                FulfilmentLine(sku, Decimal(str(quantity)))
                for sku, quantity in sorted((data.get("shipped") or {}).items())
                if Decimal(str(quantity)) > 0
            ]
            if not lines:
                continue
            try:
                made = await shop.fulfil(
                    str(data.get("external_ref")),
                    lines,
                    carrier=data.get("carrier"),
                    tracking=data.get("tracking_number"),
                )
            except ShopifyError as exc:
                refused.append((event.subject, system, str(exc)))
                continue
            log.info("shopify.fulfilled", system=system, subject=event.subject, fulfillment=made)
        if refused:

            def write(conn: Connection) -> None:
                for subject, system, reason in refused:
                    open_exception(
                        conn,
                        type=REFUSED,
                        owner="operations",
                        subject=subject,
                        reason=f"{system} refused the fulfilment: {reason}",
                        actions=["fulfilled_by_hand", "ignore"],
                        now=time.time(),
                    )

            batch.write(write)

    # -- stock ------------------------------------------------------------------------------

    async def publish(self, batch: Batch) -> None:
        by_system: dict[str, dict[tuple[str, str], InventoryChange]] = {}
        for event in batch.events:  # in log order: the last quantity of a SKU wins
            target = self.stock_channels.get(str(event.data.get("channel")))
            if target is None:
                continue
            system, location = target
            available = Decimal(str(event.data.get("available") or "0"))
            quantity = max(0, int(available))  # Shopify counts whole units
            sku = str(event.data.get("sku"))
            by_system.setdefault(system, {})[(sku, location)] = InventoryChange(
                sku, location, quantity
            )
        for system, changes in sorted(by_system.items()):
            outcome = await self.shops[system].set_inventory(list(changes.values()))
            log.info(
                "shopify.stock_published",
                system=system,
                set=outcome.set,
                conflicts=len(outcome.conflicts),
                unknown=len(outcome.unknown),
            )


def subscriptions(outbound: Outbound, engine: Engine, config: Any) -> list[Subscription]:
    backoff = config.engine.backoff
    common: dict[str, Any] = {
        "batch_size": config.engine.batch_size,
        "max_attempts": config.engine.max_attempts,
        "backoff": backoff,
    }
    return [
        Subscription("shopify_pull", (PULL_DUE,), outbound.pull, **common),
        Subscription("shopify_fulfilments", (DISPATCHED,), outbound.fulfil, **common),
        Subscription("shopify_stock", (AVAILABLE,), outbound.publish, start_at="latest", **common),
        # from now on: returns settled and orders cancelled before the group existed were
        # reflected by hand, and must not be refunded again
        Subscription(
            "shopify_refunds",
            REFUNDS_CONSUMED,
            Refunds(engine, outbound.shops).handle,
            start_at="latest",
            **common,
        ),
    ]
