"""Running a reconciliation: compare, match with the stored drift items, correct or open
exceptions, store the run — and the schedule and consumer group that run them in the hub.

One run of one kind:

1. the kind's reconciler compares the systems (:mod:`.orders`, :mod:`.invoices`, :mod:`.stock`)
   and returns findings;
2. each finding is matched with the open item of the same key (the same item, seen again);
3. the owner's value is applied (:mod:`.correct`) when automatic correction is on for the kind
   (``reconciliation.<kind>.auto_correct``, or ``--fix``) or a person resolved the item's
   exception with ``correct`` — and the finding allows it (ownership, state). Otherwise an
   exception is opened for the type's role, unless one is open, or the item was resolved with
   ``ignore``. A correction that did not take (the item is still there on a later run, past the
   kind's grace) becomes an exception;
4. the run, its items, exceptions, audit entries and any events for the flow are written in one
   transaction; items of the kind no longer found are closed and their exceptions withdrawn.

In the hub (:func:`register`): a cron schedule per kind appends ``reconciliation.requested``
(data ``kind``); the consumer group ``reconciliation`` (lane ``sync.reconciliation.lane``, else
``batch``) runs it, and runs a kind again when a person resolves one of its exceptions with
``correct``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import Connection

from crossdock.config.reconciliation import KINDS
from crossdock.config.schema import Config
from crossdock.connectors.odoo.errors import OdooTransientError
from crossdock.connectors.odoo.port import ErpPort
from crossdock.engine import (
    Backoff,
    Batch,
    Engine,
    NewEvent,
    Schedule,
    Subscription,
    Unavailable,
    new_event_id,
)
from crossdock.flows.exceptions import open_exception
from crossdock.flows.reconciliation import metrics
from crossdock.flows.reconciliation.context import Context
from crossdock.flows.reconciliation.correct import ACTOR, SOURCE, Applied, apply_correction
from crossdock.flows.reconciliation.correct import describe as describe_correction
from crossdock.flows.reconciliation.drift_types import FIXED, IGNORE, TYPES, Finding
from crossdock.flows.reconciliation.invoices import reconcile_invoices
from crossdock.flows.reconciliation.orders import reconcile_orders
from crossdock.flows.reconciliation.payments import reconcile_payments
from crossdock.flows.reconciliation.stock import reconcile_stock
from crossdock.flows.reconciliation.store import (
    ItemWrite,
    Report,
    Run,
    StoredItem,
    close_exception,
    get_item,
    open_drift,
    open_items,
    write_items,
    write_run,
)
from crossdock.ops.audit import AuditRecord, append_audit_many

__all__ = [
    "GROUP",
    "REQUESTED",
    "Reconciliation",
    "Report",
    "register",
    "requested_event",
]

log = structlog.get_logger(__name__)

GROUP = "reconciliation"
REQUESTED = "reconciliation.requested"
RESOLVED = "exception.resolved"
CENT = Decimal("0.01")

Reconciler = Callable[[Context], Awaitable[tuple[int, list[Finding], list[str]]]]


async def _orders(ctx: Context) -> tuple[int, list[Finding], list[str]]:
    checked, findings = await reconcile_orders(ctx)
    return checked, findings, []


async def _invoices(ctx: Context) -> tuple[int, list[Finding], list[str]]:
    checked, findings = await reconcile_invoices(ctx)
    return checked, findings, []


RECONCILERS: dict[str, Reconciler] = {
    "orders": _orders,
    "invoices": _invoices,
    "stock": reconcile_stock,
    "payments": reconcile_payments,
}


def exception_subject(item_subject: str) -> str:
    """Exceptions of drift items live on their own subject: an exception on ``order:<id>`` would
    hold the order in the flow (it waits while an exception of its order is open)."""
    return f"drift:{item_subject}"


def requested_event(kind: str, *, fix: bool | None = None, by: str = "api") -> NewEvent:
    """``reconciliation.requested`` for ``kind`` (the API and the schedule append it)."""
    data: dict[str, Any] = {"kind": kind, "by": by}
    if fix is not None:
        data["fix"] = fix
    return NewEvent(REQUESTED, SOURCE, f"reconciliation:{kind}", data, id=new_event_id())


def _grace(config: Config, kind: str) -> float:
    settings = config.reconciliation
    return {
        "orders": settings.orders.missing_after_s,
        "invoices": settings.invoices.invoice_after_s,
        "stock": settings.stock.settle_s,
    }[kind]


@dataclass
class _Decision:
    finding: Finding
    write: ItemWrite
    correct: bool = False
    open_exception: bool = False
    reason: str = ""
    offer_correct: bool = True
    """Offer ``correct`` in the exception (not once the owner's value was applied in vain)."""
    applied: Applied | None = None


class Reconciliation:
    """Runs reconciliations against one ERP for one hub's engine."""

    def __init__(
        self,
        engine: Engine,
        erp: ErpPort,
        config: Config,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.erp = erp
        self.config = config
        self.clock = clock

    async def run_all(self, *, fix: bool | None = None, trigger: str = "cli") -> list[Report]:
        return [await self.run(kind, fix=fix, trigger=trigger) for kind in KINDS]

    async def run(self, kind: str, *, fix: bool | None = None, trigger: str = "cli") -> Report:
        """One run of ``kind``; ``fix`` overrides ``reconciliation.<kind>.auto_correct``.
        A failure (the ERP unavailable) is recorded as a failed run, then raised."""
        if kind not in RECONCILERS:
            raise ValueError(f"unknown reconciliation {kind!r} (one of {', '.join(KINDS)})")
        fixing = self.config.reconciliation.kind(kind).auto_correct if fix is None else fix
        run_id = new_event_id()
        started = self.clock()
        ctx = Context(self.engine.db, self.erp, self.config, started)
        try:
            checked, findings, notes = await RECONCILERS[kind](ctx)
            stored = await self.engine.db.read(lambda conn: open_items(conn, kind))
            decisions = self._decide(kind, findings, stored, fixing, started)
            for decision in decisions:
                if decision.correct:
                    await self._correct(ctx, decision, run_id)
        except Exception as exc:
            await self._failed(kind, run_id, trigger, fixing, started, exc)
            raise
        report = await self._commit(
            kind, run_id, trigger, fixing, started, checked, decisions, notes
        )
        metrics.observe_run(
            report, [(d.write.type, d.applied.ok) for d in decisions if d.applied is not None]
        )
        await metrics.refresh(self.engine.db)
        log.info(
            "reconciliation.run",
            kind=kind,
            run_id=run_id,
            found=report.run.found,
            new=report.run.new,
            closed=report.run.closed,
            corrected=report.run.corrected,
            exceptions=report.run.exceptions,
        )
        return report

    # ------------------------------------------------------------------ deciding

    def _decide(
        self,
        kind: str,
        findings: Sequence[Finding],
        stored: dict[str, StoredItem],
        fixing: bool,
        now: float,
    ) -> list[_Decision]:
        decisions: list[_Decision] = []
        seen: set[str] = set()
        owner = Context(self.engine.db, self.erp, self.config, now).owner_of(kind)
        for finding in findings:
            if finding.key in seen:
                continue
            seen.add(finding.key)
            known = stored.get(finding.key)
            existing = known.item if known else None
            details = dict(finding.details)
            if finding.correction is not None:
                details["correction"] = describe_correction(finding.correction)
            elif finding.why_not:
                details["not_corrected"] = finding.why_not
            write = ItemWrite(
                id=existing.id if existing else new_event_id(),
                kind=kind,
                type=finding.type.type,
                key=finding.key,
                subject=finding.subject,
                owner=owner,
                value=finding.value.quantize(CENT),
                currency=finding.currency,
                since=finding.since,
                summary=finding.summary,
                details=details,
                existing=existing,
                state=existing.state if existing else "open",
                exception_id=existing.exception_id if existing else None,
                correction=existing.correction if existing else None,
            )
            decision = _Decision(finding, write)
            decisions.append(decision)
            asked = known is not None and known.exception_resolution == "correct"
            attempted = existing is not None and bool((existing.correction or {}).get("ok"))
            if finding.correction is not None and (fixing or asked) and not attempted:
                decision.correct = True
                continue
            if attempted and existing is not None and existing.state == "correcting":
                at = float((existing.correction or {}).get("at") or 0)
                if now - at < _grace(self.config, kind):
                    continue  # handed to the flow a moment ago: give it time
                write.state = "open"
                decision.offer_correct = False
                decision.reason = (
                    f"the owner's value was applied ({(existing.correction or {}).get('action')})"
                    " but the difference is still there"
                )
            if known is not None and known.exception_state == "open":
                continue
            if known is not None and known.exception_resolution == IGNORE:
                continue  # a person accepted it: no new exception while it lasts
            decision.open_exception = True
        return decisions

    async def _correct(self, ctx: Context, decision: _Decision, run_id: str) -> None:
        finding, write = decision.finding, decision.write
        assert finding.correction is not None
        applied = await apply_correction(ctx, finding.correction, item_id=write.id, run_id=run_id)
        decision.applied = applied
        write.correction = {
            **finding.correction,
            "at": ctx.now,
            "run_id": run_id,
            "ok": applied.ok,
            "result": applied.result,
            "error": applied.error,
        }
        if applied.ok:
            write.state = applied.state
            if applied.state == "closed":
                write.resolution = "corrected"
            return
        write.state = "open"
        decision.reason = f"applying the owner's value failed: {applied.error}"
        decision.open_exception = True

    # ------------------------------------------------------------------ writing

    async def _commit(
        self,
        kind: str,
        run_id: str,
        trigger: str,
        fixing: bool,
        started: float,
        checked: int,
        decisions: Sequence[_Decision],
        notes: list[str],
    ) -> Report:
        finished = self.clock()
        partitions = self.engine.partitions
        counts: dict[str, int] = {}
        for d in decisions:
            counts[d.write.type] = counts.get(d.write.type, 0) + 1
        corrected = [d for d in decisions if d.applied is not None and d.applied.ok]

        def write(conn: Connection) -> Report:
            opened = 0
            for d in decisions:
                if d.open_exception:
                    opened += self._open_exception(conn, d, finished)
                if d.applied is not None and d.applied.write is not None:
                    d.applied.write(conn, partitions)
            items = [d.write for d in decisions]
            closed = write_items(conn, kind, run_id, finished, items)
            for d in decisions:
                if d.write.state == "closed" and d.write.exception_id:
                    close_exception(
                        conn, d.write.exception_id, now=finished, note=f"corrected by run {run_id}"
                    )
            append_audit_many(
                conn,
                [
                    AuditRecord(
                        ACTOR,
                        "reconciliation.corrected",
                        d.write.subject,
                        {
                            "run_id": run_id,
                            "drift_item": d.write.id,
                            "type": d.write.type,
                            "correction": d.finding.correction,
                            "result": d.applied.result if d.applied else None,
                        },
                    )
                    for d in corrected
                ],
                finished,
            )
            active = [d.write for d in decisions if d.write.state != "closed"]
            run = Run(
                id=run_id,
                kind=kind,
                trigger=trigger,
                fix=fixing,
                status="ok",
                started_at=started,
                finished_at=finished,
                checked=checked,
                found=len(active),
                new=sum(1 for d in decisions if d.write.existing is None),
                closed=len(closed) + sum(1 for d in decisions if d.write.state == "closed"),
                corrected=len(corrected),
                exceptions=opened,
                value=sum((i.value for i in active), Decimal(0)).quantize(CENT),
                summary={
                    "by_type": counts,
                    "notes": notes,
                    "value_by_currency": _by_currency(active),
                },
            )
            write_run(conn, run)
            now_items = open_drift(conn, kind, limit=100_000)
            just_closed = [d.write.id for d in decisions if d.write.state == "closed"]
            closed_now = [c for c in (get_item(conn, i) for i in just_closed) if c is not None]
            return Report(run, now_items, [*closed_now, *closed], notes)

        return await self.engine.writer.submit(write, appends=True)

    def _open_exception(self, conn: Connection, d: _Decision, now: float) -> int:
        finding, item = d.finding, d.write
        reason = (
            f"{finding.summary} (value {item.value}{' ' + item.currency if item.currency else ''})"
        )
        if d.reason:
            reason += f"; {d.reason}"
        elif finding.why_not:
            reason += f"; not corrected automatically: {finding.why_not}"
        elif finding.correction is not None:
            reason += f"; `correct` would {describe_correction(finding.correction)}"
        record = open_exception(
            conn,
            type=finding.type.type,
            owner=finding.type.role,
            subject=exception_subject(item.subject),
            reason=reason,
            actions=finding.actions() if d.offer_correct else [FIXED, IGNORE],
            now=now,
        )
        item.exception_id = record.id
        return int(record.created_at == now)

    async def _failed(
        self, kind: str, run_id: str, trigger: str, fixing: bool, started: float, exc: Exception
    ) -> None:
        error = f"{type(exc).__name__}: {exc}"
        run = Run(
            id=run_id,
            kind=kind,
            trigger=trigger,
            fix=fixing,
            status="failed",
            started_at=started,
            finished_at=self.clock(),
            checked=0,
            found=0,
            new=0,
            closed=0,
            corrected=0,
            exceptions=0,
            value=Decimal(0),
            summary={"error": error[:2000]},
        )
        log.warning("reconciliation.failed", kind=kind, run_id=run_id, error=error)
        try:
            await self.engine.writer.submit(lambda conn: write_run(conn, run))
        except Exception:  # the database itself may be what failed
            log.exception("reconciliation.failed_run_not_recorded", kind=kind)
        metrics.observe_failure(kind)

    # ------------------------------------------------------------------ in the hub

    async def handle(self, batch: Batch) -> None:
        """``reconciliation.requested``: run the kind; ``exception.resolved`` with ``correct``
        on a drift exception: run its kind again (it applies the owner's value)."""
        todo: dict[str, tuple[bool | None, str]] = {}
        for event in batch.events:
            data = event.data
            if event.type == REQUESTED:
                kinds = list(KINDS) if data.get("kind") == "all" else [str(data.get("kind"))]
                fix = data.get("fix")
                trigger = "schedule" if event.source != SOURCE else f"api:{data.get('by')}"
                for kind in kinds:
                    if kind in RECONCILERS:
                        todo[kind] = (fix if isinstance(fix, bool) else None, trigger)
            elif (
                event.type == RESOLVED
                and data.get("type") in TYPES
                and data.get("action") == "correct"
            ):
                todo.setdefault(TYPES[str(data["type"])].kind, (None, "exception"))
        for kind, (fix, trigger) in todo.items():
            await self._run_or_pause(kind, fix, trigger)

    async def _run_or_pause(self, kind: str, fix: bool | None, trigger: str) -> None:
        """An unavailable ERP is not a failure: the batch pauses without counting an attempt
        and runs once the ERP's circuit lets calls through again."""
        wait = self.erp.unavailable_for()
        if wait is not None:
            raise Unavailable(
                f"the ERP is unavailable: reconciliation {kind} waits", max(1.0, wait)
            )
        try:
            await self.run(kind, fix=fix, trigger=trigger)
        except (OdooTransientError, Unavailable) as exc:
            wait = self.erp.unavailable_for()
            if wait is None:
                raise
            raise Unavailable(f"the ERP is unavailable: {exc}", max(1.0, wait)) from exc


def register(engine: Engine, erp: ErpPort, config: Config) -> Reconciliation:
    """Schedule each kind (before the engine starts) and subscribe the consumer group."""
    service = Reconciliation(engine, erp, config)
    policy = config.sync.get("reconciliation")  # its time zone reads every kind's cron
    for kind in KINDS:
        cron = schedule_of(config, kind)
        if cron is not None:
            engine.schedule(
                Schedule(
                    f"reconcile-{kind}",
                    cron,
                    REQUESTED,
                    {"kind": kind, "by": "schedule"},
                    policy.timezone if policy is not None else "UTC",
                )
            )
    lane = (policy.lane if policy else None) or "batch"
    engine.subscribe(
        Subscription(
            GROUP,
            [REQUESTED, RESOLVED],
            service.handle,
            lane=lane if lane in engine.lanes else "default",
            batch_size=20,
            max_attempts=config.engine.max_attempts,
            backoff=Backoff(base_s=max(config.engine.backoff_base_s, 30.0), max_s=3600.0),
            start_at="latest",
        )
    )
    return service


def schedule_of(config: Config, kind: str) -> str | None:
    """The cron of a kind: its own ``schedule``, else ``sync.reconciliation``'s when batch."""
    own = config.reconciliation.kind(kind).schedule
    if own == "off":
        return None
    if own is not None:
        return own
    policy = config.sync.get("reconciliation")
    if policy is not None and policy.mode == "batch" and policy.cron:
        return policy.cron
    return None


def _by_currency(items: Sequence[ItemWrite]) -> dict[str, str]:
    """The items' money per currency (``""``: items without one): amounts in different
    currencies are never added up."""
    sums: dict[str, Decimal] = {}
    for item in items:
        sums[item.currency or ""] = sums.get(item.currency or "", Decimal(0)) + item.value
    return {c: str(v.quantize(CENT)) for c, v in sorted(sums.items())}
