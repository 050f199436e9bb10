"""Missed Stripe events caught up: listed with ``GET /v1/events`` and handed to the webhook path.

Stripe's webhooks can be missed: our endpoint down longer than Stripe retries (three days in live
mode, a few tries in test mode), or the endpoint disabled. Stripe's remedy is to list the events
it keeps (30 days) and process those not seen. For every ``stripe`` gateway whose
``catch_up.enabled``:

* the engine schedule ``payments.stripe_catchup.<gateway>`` appends :data:`DUE` on
  ``catch_up.cron`` once per tick whatever the number of nodes; ``POST
  /v1/payments/gateways/<gateway>/catch-up`` appends one on request, on the same subject, so the
  consumer group ``payment_catchup.<gateway>`` runs one catch-up at a time across the cluster;
* a run lists the mapped event types (:data:`~crossdock.connectors.stripe.inbound.EVENT_KINDS`)
  created since the newest event the last run listed, less ``overlap_s`` (the first run:
  ``first_lookback_s`` back), every page, then handles them oldest first;
* each event goes through the webhook path's own functions, :func:`.gateways.stripe_message`
  (the Stripe mapping) and :func:`.gateways.store` (the gateway's inbox, keyed by the event id):
  an event the webhook stored is a duplicate, and a late webhook of an event the catch-up stored
  is one too, so each lands once;
* the run is recorded (``stripe_catchup_runs``) with its cursor only when it finished: a run
  killed midway lists again, and what it had stored is recognised.

Stripe not answering (429, 5xx, no answer) fails the tick: the engine retries it with
``catch_up.retry`` (the project's :class:`~crossdock.retry.Backoff`), later ticks waiting behind;
the last of ``catch_up.max_attempts`` opens a ``stripe_catchup_failed`` exception before the tick
goes to the dead letters. Stripe refusing the call (a wrong key) opens it at once. An event the
mapping cannot read opens ``stripe_event_rejected`` naming it. A last run older than Stripe's 30
days opens ``stripe_events_expired``: events of the gap may be gone from the list.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import structlog
from sqlalchemy import Connection, insert, select

from crossdock.config.payments import GatewayConfig, PaymentsConfig
from crossdock.config.stripe_catchup import RETENTION_S, StripeCatchUpConfig
from crossdock.connectors.gateway.report import GatewayError
from crossdock.connectors.stripe.api import StripeApi, StripeRefused
from crossdock.connectors.stripe.inbound import EVENT_KINDS
from crossdock.engine import Batch, Engine, NewEvent, Reject, Schedule, Subscription, new_event_id
from crossdock.errors import Unavailable
from crossdock.flows.exceptions import open_exception
from crossdock.webhooks import gateways
from crossdock.webhooks.catchup_tables import stripe_catchup_runs

__all__ = [
    "DUE",
    "CatchUpRun",
    "StripeCatchUp",
    "enabled",
    "group_name",
    "register",
    "request_event",
    "schedule_name",
]

log = structlog.get_logger("crossdock.payments")

DUE = "payments.stripe_catchup_due"
SOURCE = "webhooks.stripe_catchup"
FAILED = "stripe_catchup_failed"
REJECTED = "stripe_event_rejected"
EXPIRED = "stripe_events_expired"
VIA = {"X-Crossdock-Via": "GET /v1/events"}
"""What the inbox keeps as the headers of a listed event (no signature: our key fetched it)."""


def schedule_name(gateway: str) -> str:
    return f"payments.stripe_catchup.{gateway}"


def group_name(gateway: str) -> str:
    return f"payment_catchup.{gateway}"


def subject_of(gateway: str) -> str:
    """The subject of a gateway's ticks (the engine's ``schedule:<name>``), and of its runs on
    request: one ordered queue per gateway."""
    return f"schedule:{schedule_name(gateway)}"


def enabled(config: PaymentsConfig) -> dict[str, GatewayConfig]:
    """The gateways whose catch-up is on."""
    return {
        name: gateway
        for name, gateway in config.gateways.items()
        if gateway.kind == "stripe" and gateway.catch_up.enabled
    }


def request_event(gateway: str, by: str) -> NewEvent:
    """A run on request (``by``: who asked), queued behind the gateway's scheduled ones."""
    return NewEvent(
        DUE, SOURCE, subject_of(gateway), {"gateway": gateway, "by": by}, id=new_event_id()
    )


@dataclass(frozen=True, slots=True)
class CatchUpRun:
    gateway: str
    trigger: str
    started_at: float
    finished_at: float
    since: int
    cursor: int | None
    listed: int
    new: int
    duplicates: int
    ignored: int
    rejected: int


@dataclass(frozen=True, slots=True)
class _Last:
    started_at: float
    cursor: int | None


def _last(conn: Connection, gateway: str) -> _Last | None:
    c = stripe_catchup_runs.c
    row = conn.execute(
        select(c.started_at, c.cursor).where(c.gateway == gateway).order_by(c.id.desc()).limit(1)
    ).first()
    return None if row is None else _Last(float(row.started_at), row.cursor)


class StripeCatchUp:
    """The catch-up of the enabled Stripe gateways (see the module documentation)."""

    def __init__(
        self,
        engine: Engine,
        config: PaymentsConfig,
        *,
        clock: Callable[[], float] = time.time,
        api: Callable[[str, StripeCatchUpConfig], StripeApi] | None = None,
    ) -> None:
        self.engine = engine
        self.config = config
        self.gateways = enabled(config)
        self.clock = clock
        self._make_api = api or _api

    def schedules(self) -> list[Schedule]:
        return [
            Schedule(
                schedule_name(name), g.catch_up.cron, DUE, {"gateway": name}, g.catch_up.timezone
            )
            for name, g in self.gateways.items()
        ]

    def subscriptions(self, lane: str = "default") -> list[Subscription]:
        """One consumer group per gateway (its own attempts and back-off)."""
        out = []
        for name, gateway in self.gateways.items():
            settings = gateway.catch_up
            out.append(
                Subscription(
                    group_name(name),
                    (DUE,),
                    self._handler(name),
                    lane=lane,
                    batch_size=1,
                    max_attempts=settings.max_attempts,
                    backoff=settings.retry.backoff,
                    start_at="latest",
                )
            )
        return out

    def _handler(self, name: str) -> Callable[[Batch], Any]:
        settings = self.gateways[name].catch_up

        async def handle(batch: Batch) -> None:
            for event in batch.events:
                if event.data.get("gateway") != name:
                    continue  # another gateway's tick
                trigger = str(event.data.get("by") or "schedule")
                try:
                    await self.run(name, trigger=trigger)
                except Unavailable as exc:
                    final = batch.attempt >= settings.max_attempts
                    log.warning(
                        "payments.stripe_catchup_failed",
                        gateway=name,
                        attempt=batch.attempt,
                        final=final,
                        error=str(exc),
                    )
                    if final:
                        await self._open(
                            name,
                            FAILED,
                            f"stripe_catchup:{name}",
                            f"the catch-up of gateway {name} could not list Stripe's events after "
                            f"{batch.attempt} attempts: {exc}",
                        )
                    # a message, not the Unavailable itself: the engine would wait without
                    # counting an attempt, and the exception would never open
                    batch.fail(event, str(exc))
                except StripeRefused as exc:
                    log.error("payments.stripe_catchup_refused", gateway=name, error=str(exc))
                    await self._open(
                        name,
                        FAILED,
                        f"stripe_catchup:{name}",
                        f"Stripe refused the catch-up of gateway {name}: {exc}",
                    )
                    batch.fail(event, Reject(str(exc)))

        return handle

    async def _open(self, gateway: str, type_: str, subject: str, reason: str) -> None:
        owner = self.config.finance_owner
        now = self.clock()
        await self.engine.writer.submit(
            lambda c: open_exception(
                c,
                type=type_,
                owner=owner,
                subject=subject,
                reason=reason,
                actions=["dismiss"],
                now=now,
            )
        )

    async def run(self, gateway: str, *, trigger: str = "schedule") -> CatchUpRun:
        """List the gateway's events since its cursor and store those not seen (see above)."""
        settings = self.gateways[gateway].catch_up
        started = self.clock()
        last = await self.engine.db.read(lambda c: _last(c, gateway))
        oldest = int(started) - RETENTION_S
        if last is None:
            since = int(started) - settings.first_lookback_s
        else:
            base = last.cursor if last.cursor is not None else int(last.started_at)
            since = max(base - settings.overlap_s, oldest)
            if last.started_at < oldest:
                await self._open(
                    gateway,
                    EXPIRED,
                    f"stripe_catchup:{gateway}",
                    f"the last catch-up of gateway {gateway} ran more than 30 days ago: events "
                    "Stripe no longer lists may have been missed (compare with Stripe's "
                    "payments report)",
                )
        listed: list[dict[str, Any]] = []
        api = self._make_api(gateway, settings)
        try:
            async for page in api.list_events(
                created_gte=since, types=sorted(EVENT_KINDS), limit=settings.page_size
            ):
                listed.extend(page)
        finally:
            await api.aclose()
        # Stripe lists newest first; the flow takes them in the order they happened
        listed.reverse()
        listed.sort(key=_created)
        counts = {"new": 0, "duplicates": 0, "ignored": 0, "rejected": 0}
        for start in range(0, len(listed), settings.page_size):
            await self._store(gateway, listed[start : start + settings.page_size], counts)
        cursor = max((_created(e) for e in listed), default=None) or None
        if cursor is None and last is not None:
            cursor = last.cursor
        run = CatchUpRun(
            gateway,
            trigger[:255],
            started,
            self.clock(),
            since,
            cursor,
            len(listed),
            counts["new"],
            counts["duplicates"],
            counts["ignored"],
            counts["rejected"],
        )
        await self.engine.writer.submit(
            lambda c: c.execute(insert(stripe_catchup_runs).values(asdict(run)))
        )
        figures = {k: v for k, v in asdict(run).items() if k != "trigger"}
        log.info("payments.stripe_catchup", **figures)
        return run

    async def _store(
        self, gateway: str, events: list[dict[str, Any]], counts: dict[str, int]
    ) -> None:
        messages: list[tuple[gateways.GatewayMessage, bytes]] = []
        rejected: list[tuple[str, str]] = []
        for event in events:
            try:
                message = gateways.stripe_message(gateway, event, dict(VIA))
            except GatewayError as exc:
                rejected.append(
                    (
                        str(event.get("id")),
                        f"Stripe event {event.get('id')} ({event.get('type')}) listed by the "
                        f"catch-up of gateway {gateway} cannot be read: {exc.pointer}: "
                        f"{exc.detail} (rule {exc.rule})",
                    )
                )
                continue
            if message.report is None:
                counts["ignored"] += 1
                continue
            messages.append((message, json.dumps(event, separators=(",", ":")).encode()))
        partitions = self.engine.partitions
        owner = self.config.finance_owner
        now = self.clock()

        def write(conn: Connection) -> list[bool]:
            stored = [gateways.store(conn, gateway, m, body, partitions) for m, body in messages]
            for event_id, reason in rejected:
                open_exception(
                    conn,
                    type=REJECTED,
                    owner=owner,
                    subject=f"stripe_event:{event_id}"[:255],
                    reason=reason,
                    actions=["dismiss"],
                    now=now,
                )
            return [s.duplicate for s in stored]

        duplicates = await self.engine.writer.submit(write, appends=True)
        counts["duplicates"] += sum(duplicates)
        counts["new"] += len(duplicates) - sum(duplicates)
        counts["rejected"] += len(rejected)


def _created(event: dict[str, Any]) -> int:
    """Stripe's ``created`` (0 when missing or not an integer: handled first, no cursor)."""
    created = event.get("created")
    return created if isinstance(created, int) and not isinstance(created, bool) else 0


def _api(gateway: str, settings: StripeCatchUpConfig) -> StripeApi:
    assert settings.api_key is not None  # the configuration requires it when enabled
    return StripeApi(
        settings.api_url, settings.api_key.resolve(), timeout_s=settings.timeout_s, system=gateway
    )


def register(engine: Engine, config: PaymentsConfig, lane: str = "default") -> StripeCatchUp | None:
    """Schedule and subscribe the catch-up of the enabled Stripe gateways (None: none is)."""
    catch_up = StripeCatchUp(engine, config)
    if not catch_up.gateways:
        return None
    for schedule in catch_up.schedules():
        engine.schedule(schedule)
    for subscription in catch_up.subscriptions(lane):
        engine.subscribe(subscription)
    return catch_up
