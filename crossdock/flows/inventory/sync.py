"""The sync loop: coalesced writes of stock to the ERP and change-only publication per channel.

Stock intake only writes positions and rings the loop: an ``inventory.sync_requested`` event on
one subject (``inventory:sync``), so exactly one worker of the cluster runs the loop at a time and
a ring is appended only when none is waiting (the ``pending`` flag). Order events that change
reservations and the flow's schedules ring it too.

One run of the loop (a handler call, in the ``inventory`` lane) waits until stock events pause
(``coalescing.quiet_ms``) or a change has waited its maximum delay, then:

* **publishes** the availability of every SKU that changed to each real-time channel, appending
  ``inventory.available`` only where the number differs from the last one published (and
  ``inventory.low`` / ``inventory.restored`` when it crosses the reorder threshold); batch channels
  are recomputed whole at their cron ticks;
* **writes the ERP** when the warehouse system owns stock: every changed position, summed per
  SKU and ERP location, in batches of ``erp_batch_size`` through the port's ``set_stock``
  (``stock.quant`` in inventory mode) — only the latest quantity, once per window. A record the
  ERP refuses is isolated (bisection) and left to reconciliation; a transient failure backs off
  (1 s doubling to 60 s) while publication goes on. These calls are bulk work
  (the engine's `background`): each waits for a pause in the ERP's other calls,
  so orders going through meet at most one stock call in progress.

It repeats until nothing waits, or hands over to a fresh ring after a while so one handler call
never holds its batch for long.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import Connection, bindparam, delete, func, select, update

from crossdock.connectors.odoo.batching import bisect_batch
from crossdock.connectors.odoo.port import ErpPort
from crossdock.connectors.odoo.records import StockSetting
from crossdock.engine import (
    Batch,
    Engine,
    Event,
    NewEvent,
    Prepared,
    background,
    fetch_rows,
    insert_prepared,
    insert_values,
    prepare,
    update_values,
)
from crossdock.flows.inventory import atp
from crossdock.flows.inventory import events as ev
from crossdock.flows.inventory.pacing import make_way
from crossdock.flows.inventory.positions import (
    SYNC_ROW,
    from_units,
    mark_skus_changed,
    qtext,
)
from crossdock.flows.inventory.settings import InventorySettings
from crossdock.flows.inventory.tables import (
    inventory_atp,
    inventory_sku_changes,
    inventory_sync,
    stock_events,
    stock_positions,
)
from crossdock.flows.tables import orders
from crossdock.ops.metrics import counter, histogram

log = structlog.get_logger(__name__)

ERP_WRITES = counter(
    "inventory_erp_writes_total", "Stock quantities written to the ERP (one per quant).", []
)
PUBLISHED = counter(
    "inventory_published_total", "Availability events published, by type.", ["type"]
)
CYCLE_SECONDS = histogram(
    "inventory_sync_seconds", "Duration of one publication or ERP write pass.", ["step"]
)
BACKOFF_MAX_S = 60.0


@dataclass(frozen=True, slots=True)
class SyncState:
    pending: bool
    last_change_at: float | None
    unflushed_since: float | None
    unpublished_since: float | None
    erp_writes: int


def read_state(conn: Connection) -> SyncState:
    row = conn.execute(select(inventory_sync).where(inventory_sync.c.name == SYNC_ROW)).one()
    return SyncState(
        bool(row.pending),
        row.last_change_at,
        row.unflushed_since,
        row.unpublished_since,
        int(row.erp_writes),
    )


def _set_sync(conn: Connection, **values: Any) -> None:
    conn.execute(update(inventory_sync).where(inventory_sync.c.name == SYNC_ROW).values(**values))


def _refresh_unflushed(conn: Connection) -> None:
    c = stock_positions.c
    oldest = conn.execute(select(func.min(c.updated_at)).where(c.version != c.erp_version)).scalar()
    _set_sync(conn, unflushed_since=oldest)


def _refresh_unpublished(conn: Connection) -> None:
    c = inventory_sku_changes.c
    orders_oldest = conn.execute(
        select(func.min(c.changed_at)).where(c.version != c.published_version)
    ).scalar()
    p = stock_positions.c
    stock_oldest = conn.execute(
        select(func.min(p.updated_at)).where(p.version != p.atp_version)
    ).scalar()
    known = [t for t in (orders_oldest, stock_oldest) if t is not None]
    _set_sync(conn, unpublished_since=min(known) if known else None)


class InventorySync:
    """The flow's handler (group ``inventory``) and its loop."""

    def __init__(
        self,
        engine: Engine,
        erp: ErpPort | None,
        settings: InventorySettings,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.erp = erp
        self.settings = settings
        self.clock = clock
        self.lines = atp.OrderLines()
        lane = engine.lanes.get(settings.lane)
        self.priority = lane.priority if lane is not None else 0
        co = settings.config.coalescing
        self.quiet_s = co.quiet_ms / 1000
        self.max_cycle_s = max(co.erp_max_delay_s, co.publish_max_delay_s) + 10.0
        self._erp_retry_at = 0.0
        self._erp_failures = 0
        publishing = {c: settings.channel(c) for c in settings.channels}
        self.realtime = [
            c for c, s in publishing.items() if s.publish and s.sync.mode == "realtime"
        ]
        self.batch_channels = {
            c for c, s in publishing.items() if s.publish and s.sync.mode == "batch"
        }

    # -- the handler ----------------------------------------------------------------------

    async def handle(self, batch: Batch) -> None:
        requests = [e for e in batch.events if e.type == ev.SYNC_REQUESTED]
        ticks = [e for e in batch.events if e.type == ev.TICK]
        changes = [e for e in batch.events if e.type in ev.ORDER_TYPES]
        rings: list[tuple[str, list[str], bool, bool]] = []
        for tick in ticks:
            channel = tick.data.get("channel")
            rings.append(
                (
                    "tick",
                    [str(channel)] if channel else [],
                    bool(tick.data.get("erp")),
                    bool(tick.data.get("sweep")),
                )
            )
        if changes:
            skus = await self._order_skus(changes)
            if skus:
                now = self.clock()

                def mark(conn: Connection) -> None:
                    mark_skus_changed(conn, skus, now)
                    _set_sync(
                        conn,
                        unpublished_since=func.coalesce(inventory_sync.c.unpublished_since, now),
                    )

                batch.write(mark)
                rings.append(("orders", [], False, False))
        for reason, publish, erp, sweep in rings:
            batch.emit(ev.sync_request(reason, publish=publish, erp=erp, sweep=sweep))
        if requests:
            await self._cycle(batch, requests)

    async def _order_skus(self, changes: Sequence[Event]) -> set[str]:
        ids = sorted(
            {e.subject.split(":", 1)[1] for e in changes if e.subject.startswith("order:")}
        )
        if not ids:
            return set()

        def read(conn: Connection) -> set[str]:
            skus: set[str] = set()
            unknown = []
            for order_id in ids:
                lines = self.lines.known(order_id)
                if lines is None:
                    unknown.append(order_id)
                else:
                    skus.update(lines)
            for start in range(0, len(unknown), 500):
                chunk = {"ids": unknown[start : start + 500]}
                for order_id, body in fetch_rows(conn, _ORDER_BODIES, chunk):
                    skus.update(self.lines.of(order_id, body))
            # Only SKUs the hub holds stock of (or told a channel about) can change availability.
            wanted = sorted(skus)
            stocked: set[str] = set()
            for start in range(0, len(wanted), 500):
                skus_chunk = {"skus": wanted[start : start + 500]}
                for query in _HELD_SKUS:
                    stocked.update(row[0] for row in fetch_rows(conn, query, skus_chunk))
            return stocked

        return await self.engine.db.read(read, priority=self.priority)

    # -- the loop -------------------------------------------------------------------------

    async def _cycle(self, batch: Batch, requests: Sequence[Event]) -> None:
        publish_due = {
            c for e in requests for c in e.data.get("publish", ()) if c in self.batch_channels
        }
        erp_tick = any(e.data.get("erp") for e in requests)
        sweep = any(e.data.get("sweep") for e in requests)
        await self._write(lambda c: _set_sync(c, pending=False))
        started = self.clock()
        batch_erp = self.settings.erp_cron is not None
        while True:
            # Read through the writer: stock writes queued behind a long transaction commit
            # first, so a stall of the writer never looks like a pause of the warehouse.
            state = await self._write(read_state)
            now = self.clock()
            quiet = state.last_change_at is None or now - state.last_change_at >= self.quiet_s
            co = self.settings.config.coalescing
            publish_now = state.unpublished_since is not None and (
                quiet or now - state.unpublished_since >= co.publish_max_delay_s
            )
            if batch_erp:
                erp_now = state.unflushed_since is not None and erp_tick
            else:
                erp_now = (
                    state.unflushed_since is not None
                    and (quiet or now - state.unflushed_since >= co.erp_max_delay_s)
                    and now >= self._erp_retry_at
                )
            steps: list[Coroutine[Any, Any, Any]] = []
            if publish_now or publish_due:
                steps.append(self.publish(realtime=publish_now, batch=sorted(publish_due)))
                publish_due = set()
            if erp_now:
                erp_tick = False
                steps.append(self._flush_guarded())
            # Channels and the ERP are told side by side: the ERP's pace never delays the shops.
            await asyncio.gather(*steps)
            if sweep:
                sweep = False
                await self._sweep()
            state = await self._read(read_state)
            waiting_erp = state.unflushed_since is not None and not batch_erp
            if state.unpublished_since is None and not waiting_erp:
                return
            if self.clock() - started >= self.max_cycle_s:
                break
            await asyncio.sleep(self._until_due(state, batch_erp))
        if not state.pending:
            # Work remains and nobody rang: hand over to a fresh run.
            batch.emit(ev.sync_request("continue"))
            batch.write(lambda c: _set_sync(c, pending=True))

    def _until_due(self, state: SyncState, batch_erp: bool) -> float:
        co = self.settings.config.coalescing
        now = self.clock()
        quiet_at = (state.last_change_at or now) + self.quiet_s
        moments = []
        if state.unpublished_since is not None:
            moments.append(min(quiet_at, state.unpublished_since + co.publish_max_delay_s))
        if state.unflushed_since is not None and not batch_erp:
            due = min(quiet_at, state.unflushed_since + co.erp_max_delay_s)
            moments.append(max(due, self._erp_retry_at))
        wake = min(moments, default=now + self.quiet_s) - now
        return min(max(wake, 0.01), max(self.quiet_s, 0.05), 5.0)

    async def _read(self, fn: Callable[[Connection], Any]) -> Any:
        return await self.engine.db.read(fn, priority=self.priority)

    async def _write(self, fn: Callable[[Connection], Any], *, appends: bool = False) -> Any:
        return await self.engine.writer.submit(fn, priority=self.priority, appends=appends)

    # -- publication ----------------------------------------------------------------------

    async def publish(self, *, realtime: bool, batch: Sequence[str] = ()) -> int:
        """Publish changed availability: real-time channels for the SKUs that changed, the given
        batch channels for every SKU. Returns the events appended."""
        began = time.perf_counter()
        settings = self.settings
        channels_rt = self.realtime if realtime else []

        def read(conn: Connection) -> tuple[Changed, atp.AtpInputs, set[str]]:
            changed: Changed = {}
            if realtime:
                c = inventory_sku_changes.c
                for row in conn.execute(
                    select(c.sku, c.version).where(c.version != c.published_version)
                ):
                    changed.setdefault(row.sku, ([], []))[0].append(row.version)
                p = stock_positions.c
                for position in conn.execute(
                    select(p.warehouse, p.location, p.sku, p.version).where(
                        p.version != p.atp_version
                    )
                ):
                    changed.setdefault(position.sku, ([], []))[1].append(
                        (position.warehouse, position.location, position.version)
                    )
            everything: set[str] = set()
            if batch:
                everything = {r[0] for r in conn.execute(select(stock_positions.c.sku).distinct())}
                everything |= atp.published_skus(conn)
            skus = set(changed) | everything
            inputs = atp.AtpInputs(
                on_hand=atp.read_on_hand(conn, None if batch else skus),
                reservations=atp.read_reservations(conn, settings, self.lines),
                published=atp.read_published(conn, [*channels_rt, *batch], None if batch else skus),
            )
            return changed, inputs, everything

        changed, inputs, everything = await self._read(read)
        now = self.clock()
        partitions = self.engine.partitions
        # Slices of SKUs, each computed on the event loop and written before the next: the work
        # interleaves with order traffic instead of holding the loop, a thread or the writer.
        slices: list[tuple[Sequence[str], list[str]]] = [
            (channels_rt, part) for part in _slices(sorted(changed))
        ] + [(batch, part) for part in _slices(sorted(everything))]
        appended = 0
        for index in range(max(len(slices), 1)):
            if index and self.engine.writer.waiting_above(self.priority):
                # Orders wait for the writer: they commit before the next slice.
                await make_way(self.engine, self.priority)
            channels, skus = slices[index] if slices else ((), [])
            events_part, rows = _piece(inputs, settings, channels, skus, now)
            # Ids, times and JSON are made here, so the writer's thread only inserts.
            prepared = prepare(events_part, partitions)
            last = index >= len(slices) - 1
            mine = [
                (sku, changed[sku]) for sku in skus if sku in changed and channels is channels_rt
            ]
            orders_done = [(v, sku, v) for sku, (versions, _) in mine for v in versions]
            stock_done = [(v, w, loc, sku, v) for sku, (_, places) in mine for w, loc, v in places]

            def write(
                conn: Connection,
                prepared: list[Prepared] = prepared,
                rows: list[tuple[Any, ...]] = rows,
                orders_done: list[tuple[Any, ...]] = orders_done,
                stock_done: list[tuple[Any, ...]] = stock_done,
                last: bool = last,
            ) -> None:
                # Each slice is whole: its events, what the channels were told, and which SKUs
                # are published — so a crash between slices repeats nothing and loses nothing.
                if prepared:
                    insert_prepared(conn, prepared)
                _upsert_atp(conn, rows)
                update_values(
                    conn,
                    "inventory_sku_changes",
                    ["published_version"],
                    ["sku", "version"],
                    orders_done,
                )
                update_values(
                    conn,
                    "stock_positions",
                    ["atp_version"],
                    ["warehouse", "location", "sku", "version"],
                    stock_done,
                )
                if last:
                    _refresh_unpublished(conn)
                    _set_sync(conn, last_publish_at=time.time())

            await self._write(write, appends=bool(prepared))
            appended += len(events_part)
            for kind, count in Counter(e.type for e in events_part).items():
                PUBLISHED.labels(kind).inc(count)
        CYCLE_SECONDS.labels("publish").observe(time.perf_counter() - began)
        if appended:
            log.info(
                "inventory.published",
                skus=len(changed) + len(everything),
                events=appended,
                channels=[*channels_rt, *batch],
            )
        return appended

    # -- the ERP --------------------------------------------------------------------------

    async def _flush_guarded(self) -> None:
        try:
            await self.flush()
        except Exception as exc:
            self._erp_failures += 1
            delay = min(BACKOFF_MAX_S, 2.0 ** (self._erp_failures - 1))
            self._erp_retry_at = self.clock() + delay
            log.warning("inventory.erp_write_failed", error=repr(exc), retry_in_s=delay)
            message = f"{type(exc).__name__}: {exc}"[:2000]
            await self._write(lambda c: _set_sync(c, last_error=message))
        else:
            self._erp_failures = 0
            self._erp_retry_at = 0.0

    async def flush(self) -> int:
        """Write every changed position to the ERP (latest quantity per SKU and ERP location);
        returns the quantities written."""
        began = time.perf_counter()
        c = stock_positions.c
        dirty = await self._read(
            lambda conn: conn.execute(
                select(c.warehouse, c.location, c.sku, c.version).where(c.version != c.erp_version)
            ).all()
        )
        if not dirty:
            await self._write(_refresh_unflushed)
            return 0
        if not self.settings.erp_writes or self.erp is None:
            # The ERP owns stock: positions are the warehouse's view, kept for reconciliation.
            await self._write(lambda conn: _clear(conn, dirty, 0))
            return 0
        locations = self.settings.config.erp_locations

        def target(warehouse: str, location: str, sku: str) -> tuple[str, int | None, str]:
            return warehouse, locations.get(warehouse, {}).get(location), sku

        members: dict[tuple[str, int | None, str], list[Any]] = {}
        for row in dirty:
            members.setdefault(target(row[0], row[1], row[2]), []).append(tuple(row))
        skus = sorted({key[2] for key in members})
        wanted = {(key[0], key[2]) for key in members}
        totals: dict[tuple[str, int | None, str], Decimal] = {}

        def read_totals(conn: Connection) -> None:
            for start in range(0, len(skus), 500):
                rows = conn.execute(
                    select(c.warehouse, c.location, c.sku, c.quantity).where(
                        c.sku.in_(skus[start : start + 500])
                    )
                )
                for warehouse, location, sku, quantity in rows:
                    if (warehouse, sku) in wanted:
                        key = target(warehouse, location, sku)
                        totals[key] = totals.get(key, Decimal(0)) + from_units(quantity)

        await self._read(read_totals)
        with background():
            resolution = await self.erp.resolve_products(skus)
        writable: list[tuple[str, int | None, str]] = []
        skipped: list[tuple[str, int | None, str]] = []
        for key in members:
            info = resolution.found.get(key[2])
            ok = info is not None and info.storable and info.tracking == "none"
            (writable if ok else skipped).append(key)
        if skipped:
            log.warning(
                "inventory.erp_skipped",
                count=len(skipped),
                skus=sorted({k[2] for k in skipped})[:20],
                reason="unknown, not storable or tracked by lot/serial in the ERP",
            )
            await self._write(
                lambda conn: _clear(conn, [m for k in skipped for m in members[k]], 0)
            )
        gate = asyncio.Semaphore(self.settings.config.erp_concurrency)
        size = self.settings.config.erp_batch_size
        written = 0

        def setting(key: tuple[str, int | None, str]) -> StockSetting:
            quantity = max(totals.get(key, Decimal(0)), Decimal(0))
            return StockSetting(sku=key[2], quantity=quantity, warehouse=key[0], location_id=key[1])

        erp = self.erp

        async def send_batch(keys: Sequence[tuple[str, int | None, str]]) -> None:
            nonlocal written
            async with gate:

                async def send(part: Sequence[tuple[str, int | None, str]]) -> list[int]:
                    with background():  # orders' calls to the ERP go first
                        return await erp.set_stock([setting(k) for k in part])

                done, failed = await bisect_batch(keys, send, name=lambda k: f"{k[0]}:{k[2]}")
            for key, error in failed:
                log.warning("inventory.erp_refused", warehouse=key[0], sku=key[2], error=str(error))
            settled = [m for key, _ in [*done, *failed] for m in members[key]]
            count = len(done)
            refused = "; ".join(f"{k[0]}:{k[2]}: {e}" for k, e in failed)[:2000] or None
            await self._write(lambda conn: _clear(conn, settled, count, refused, refresh=False))
            written += count
            ERP_WRITES.inc(count)

        batches = [writable[i : i + size] for i in range(0, len(writable), size)]
        results = await asyncio.gather(*(send_batch(b) for b in batches), return_exceptions=True)
        await self._write(_refresh_unflushed)
        CYCLE_SECONDS.labels("erp").observe(time.perf_counter() - began)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        log.info("inventory.erp_written", quants=written, positions=len(dirty))
        return written

    async def _sweep(self) -> None:
        retention = self.settings.config.journal_retention_days * 86400
        now = self.clock()

        def sweep(conn: Connection) -> None:
            conn.execute(delete(stock_events).where(stock_events.c.received_at < now - retention))
            ch = inventory_sku_changes.c
            conn.execute(
                delete(inventory_sku_changes).where(
                    ch.version == ch.published_version, ch.changed_at < now - 86400
                )
            )

        await self._write(sweep)


Changed = dict[str, tuple[list[int], list[tuple[str, str, int]]]]
"""SKU -> (its order-change versions, its changed positions as (warehouse, location, version))."""
SLICE_SKUS = 250
"""SKUs published per transaction (under a thousand events), so order traffic interleaves."""


def _slices(skus: list[str]) -> list[list[str]]:
    return [skus[i : i + SLICE_SKUS] for i in range(0, len(skus), SLICE_SKUS)]


def _piece(
    inputs: atp.AtpInputs,
    settings: InventorySettings,
    channels: Sequence[str],
    skus: list[str],
    now: float,
) -> tuple[list[NewEvent], list[tuple[Any, ...]]]:
    """What to tell ``channels`` about ``skus``: the events and the rows of ``inventory_atp``."""
    events: list[NewEvent] = []
    rows: list[tuple[Any, ...]] = []
    for value in atp.compute(inputs, settings, channels, skus):
        before = inputs.published.get((value.channel, value.sku))
        if before is not None and before[0] == value.available and before[1] == value.low:
            continue
        if before is None and not value.available:
            continue  # never told and nothing to sell: nothing changed for the channel
        previous = (qtext(before[0]), before[1]) if before is not None else None
        told = ev.availability_events(value, previous)
        if before is not None and before[0] == value.available:
            told = told[1:]  # only the threshold moved (configuration changed)
        events += told
        rows.append((value.channel, value.sku, qtext(value.available), value.low, now))
    return events, rows


def _clear(
    conn: Connection,
    members: Iterable[Any],
    written: int,
    error: str | None = None,
    *,
    refresh: bool = True,
) -> None:
    """The ERP has these positions as they were (version unchanged since read)."""
    update_values(
        conn,
        "stock_positions",
        ["erp_version"],
        ["warehouse", "location", "sku", "version"],
        [(version, w, loc, sku, version) for w, loc, sku, version in members],
    )
    if refresh:
        _refresh_unflushed(conn)
    values: dict[str, Any] = {"last_flush_at": time.time()}
    if written:
        values["erp_writes"] = inventory_sync.c.erp_writes + written
    if error is not None or written:
        values["last_error"] = error
    _set_sync(conn, **values)


# Built once: `fetch_rows` wraps each statement it is given once.
_ORDER_BODIES = select(orders.c.id, orders.c.body).where(
    orders.c.id.in_(bindparam("ids", expanding=True))
)
_HELD_SKUS = tuple(
    select(table.c.sku).where(table.c.sku.in_(bindparam("skus", expanding=True)))
    for table in (stock_positions, inventory_atp)
)


def _upsert_atp(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Rows of distinct (channel, SKU)."""
    insert_values(
        conn,
        "INSERT INTO inventory_atp (channel, sku, available, low, published_at)",
        rows,
        "ON CONFLICT (channel, sku) DO UPDATE SET available = excluded.available, "
        "low = excluded.low, published_at = excluded.published_at",
    )
