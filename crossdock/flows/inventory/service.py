"""Stock intake as the API uses it: check a request whole (off the event loop), write it in short
transactions of its own below the engine's group commits, then ring the sync loop when nobody
else has.

Rejections carry every :class:`~.deltas.Issue` (a JSON pointer or a line number, the rule, why);
nothing is written for a rejected request, and for a count nothing against the configured policy.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from sqlalchemy import Connection

from crossdock.connectors.odoo.port import ErpPort
from crossdock.engine import Engine
from crossdock.errors import CrossdockError
from crossdock.flows.inventory import deltas as dl
from crossdock.flows.inventory import snapshot as sn
from crossdock.flows.inventory.events import sync_request
from crossdock.flows.inventory.known_skus import KnownSkus
from crossdock.flows.inventory.pacing import make_way
from crossdock.flows.inventory.settings import InventorySettings
from crossdock.ops.metrics import counter

EVENTS = counter("inventory_events_total", "Stock events received, by outcome.", ["outcome"])
SNAPSHOT_LINES = counter("inventory_snapshot_lines_total", "Count lines, by outcome.", ["outcome"])


WRITE_PRIORITY = -10
"""Stock is written in its own transactions on the database's writer thread, queued below the
engine's group commits (priority 0): order traffic waits at most for the one stock transaction in
progress, never behind a queue of them, and never shares a transaction with one. Nothing is
appended there (the sync loop's ring goes through the engine's writer)."""


WRITE_CHUNK = 250
"""Deltas per transaction. A request is applied in transactions of this many deltas, in sequence
order, so order traffic never waits behind more than one short one. Each part is whole; a crash
between parts leaves the earlier ones applied, and the sender's retry of the request gets them
back as duplicates while the rest is applied — the positions end the same."""


def _applier(part: list[dl.Delta]) -> Callable[[Connection], list[dl.DeltaReport]]:
    return lambda conn: dl.apply_requests(conn, [part])


class Rejected(CrossdockError):
    """The input broke rules: nothing (or, for a count under ``apply_valid``, only the valid
    lines) was applied."""

    def __init__(self, issues: list[dl.Issue], detail: str, status: int = 422) -> None:
        super().__init__(detail)
        self.issues = issues
        self.detail = detail
        self.status = status


@dataclass
class SnapshotOutcome:
    report: sn.SnapshotReport
    issues: list[dl.Issue]


class InventoryIntake:
    """What ``/v1/inventory`` needs: settings, the known SKUs and the engine."""

    def __init__(self, engine: Engine, settings: InventorySettings, erp: ErpPort | None) -> None:
        self.engine = engine
        self.settings = settings
        self.known_skus = KnownSkus(erp, settings.config.unknown_sku_recheck_s)
        lane = engine.lanes.get(settings.lane)
        self.priority = lane.priority if lane is not None else 0
        # One request checked and one written at a time per process: a burst then holds at most
        # one thread and one transaction of stock (the two stages overlap, so throughput stays
        # high).
        self._checking = asyncio.Semaphore(1)
        self._writing = asyncio.Semaphore(1)

    async def _write_none(self, fn: Callable[[Connection], None]) -> None:
        await self.engine.writer.submit(fn, priority=self.priority)

    async def unknown_skus(self, skus: set[str]) -> set[str]:
        return await self.known_skus.unknown(
            self.engine.db, self._write_none, skus, priority=self.priority
        )

    async def deltas(self, raw: bytes | dl.StockEventsIn) -> dl.DeltaReport:
        """Apply a request of deltas: the JSON body (validated off the event loop, so other
        requests go on meanwhile) or a model. Raises :class:`Rejected`, or pydantic's
        ``ValidationError`` for a body that is not a request of stock events."""
        async with self._checking:
            checked, issues, body = await asyncio.to_thread(self._check, raw)
        if body is None:
            raise Rejected(issues, issues[0].detail, 413)
        unknown = await self.unknown_skus({e.sku for e in body.events})
        issues += dl.unknown_sku_issues(body, unknown)
        if issues:
            EVENTS.labels("rejected").inc(len(body.events))
            raise Rejected(issues, f"{len(issues)} problem(s) in the events: nothing was applied")
        report = dl.DeltaReport()
        ordered = dl.in_order(checked)
        async with self._writing:
            for start in range(0, len(ordered), WRITE_CHUNK):
                await make_way(self.engine, self.priority)
                part = ordered[start : start + WRITE_CHUNK]
                [done] = await self.engine.db.write(_applier(part), priority=WRITE_PRIORITY)
                report.merge(done)
        EVENTS.labels("applied").inc(report.applied)
        EVENTS.labels("duplicate").inc(report.duplicate_count)
        if report.ring:
            await self.ring()
        return report

    def _check(
        self, raw: bytes | dl.StockEventsIn
    ) -> tuple[list[dl.Delta], list[dl.Issue], dl.StockEventsIn | None]:
        body = (
            raw if isinstance(raw, dl.StockEventsIn) else dl.StockEventsIn.model_validate_json(raw)
        )
        limit = self.settings.config.max_events_per_request
        if len(body.events) > limit:
            detail = f"{len(body.events)} events in one request: at most {limit}"
            return [], [dl.Issue("/events", "too_many", detail)], None
        checked, issues = dl.check_deltas(body, self.settings)
        return checked, issues, body

    async def ring(self) -> None:
        await self.engine.append([sync_request("stock")])

    async def snapshot(
        self,
        warehouse: str,
        kind: str,
        chunks: AsyncIterator[bytes],
        *,
        sequence: int | None,
        as_of: float | None,
    ) -> SnapshotOutcome:
        """Parse, check and apply a count (raises :class:`Rejected` per the policy, and
        :class:`~.snapshot.SnapshotConflict` for a count older than the last one)."""
        if warehouse not in self.settings.warehouses:
            raise Rejected(
                [
                    dl.Issue(
                        "/warehouse",
                        "unknown_warehouse",
                        f"unknown warehouse {warehouse!r} "
                        f"(known: {', '.join(self.settings.warehouses)})",
                    )
                ],
                f"unknown warehouse {warehouse!r}: nothing was applied",
            )
        parsed = await sn.parse(kind, chunks, self.settings)
        if parsed.counts:
            unknown = await self.unknown_skus({sku for _, sku in parsed.counts})
            sn.reject_unknown_skus(parsed, unknown)
        issues = sorted(parsed.issues, key=lambda i: i.line or 0)
        refuse = self.settings.config.snapshot_errors == "refuse"
        if issues and (refuse or not parsed.counts):
            SNAPSHOT_LINES.labels("rejected").inc(parsed.lines)
            raise Rejected(
                issues,
                f"{len({i.line for i in issues})} bad line(s) in the count: nothing was applied"
                + (" (inventory.snapshot_errors: refuse)" if refuse else ""),
            )
        if not parsed.counts and not issues:
            # an empty body would zero the whole warehouse: never taken for a count
            raise Rejected([dl.Issue("/", "empty", "the count has no lines")], "empty count")
        moment = as_of if as_of is not None else time.time()
        report = await self.engine.db.write(
            lambda conn: sn.apply_snapshot(
                conn,
                warehouse,
                parsed,
                sequence=sequence,
                as_of=moment,
                complete=not issues,
            ),
            priority=WRITE_PRIORITY,
        )
        SNAPSHOT_LINES.labels("applied").inc(report.applied)
        SNAPSHOT_LINES.labels("rejected").inc(report.rejected)
        if report.ring:
            await self.ring()
        return SnapshotOutcome(report, issues)
