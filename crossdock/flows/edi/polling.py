"""Partners polled on the engine's schedules: one schedule per partner (``edi.poll.<partner>``,
``edi.poll_schedule``) appends ``edi.poll_requested`` once per tick whatever the number of nodes,
and the consumer group ``edi-poll`` polls that partner.

The engine gives the guarantees: a tick is one event (its idempotency key), a partner's ticks
share one subject (``schedule:edi.poll.<partner>``), so one worker of one node handles them, in
order, never two at once. A poll that fails is failed as an event: retried with the group's
backoff (``edi.retry``, the project's :class:`~crossdock.retry.Backoff`) while later ticks of
that partner wait behind it; its last attempt (``edi.max_attempts``) opens an ``edi_transport``
exception before the event goes to the dead letters. No tick is skipped silently.
"""

from __future__ import annotations

import structlog

from crossdock.config.edi import EdiConfig
from crossdock.engine import Batch, Reject, Schedule, Subscription
from crossdock.flows.edi.inbound import TransportFailed
from crossdock.flows.edi.service import EdiService

__all__ = ["GROUP", "POLL", "schedules", "subscription"]

log = structlog.get_logger("crossdock.edi")

POLL = "edi.poll_requested"
GROUP = "edi-poll"


def schedule_name(partner: str) -> str:
    return f"edi.poll.{partner}"


def schedules(config: EdiConfig) -> list[Schedule]:
    """One schedule per partner: its polls (none when ``poll_schedule`` is null)."""
    if config.poll_schedule is None:
        return []
    return [
        Schedule(schedule_name(name), config.poll_schedule, POLL, {"partner": name})
        for name in config.partners
    ]


def subscription(config: EdiConfig, service: EdiService) -> Subscription:
    """The ``edi-poll`` consumer group: a partner's poll per scheduled tick."""

    async def handle(batch: Batch) -> None:
        for event in batch.events:
            name = str(event.data.get("partner"))
            if name not in service.transports:
                batch.fail(event, Reject(f"partner {name} is not in the configuration"))
                continue
            final = batch.attempt >= config.max_attempts
            try:
                await service.poll(name, final=final, attempt=batch.attempt)
            except TransportFailed as exc:
                log.warning("edi.poll_failed", partner=name, attempt=batch.attempt, error=str(exc))
                batch.fail(event, exc)

    return Subscription(
        GROUP,
        (POLL,),
        handle,
        batch_size=1,
        max_attempts=config.max_attempts,
        backoff=config.retry.backoff,
        start_at="latest",
    )
