"""Cron schedules that fire once per tick across all nodes.

Every node computes the latest tick of each schedule and appends an event whose idempotency key is
`<schedule>@<tick>`: whichever node is first creates it, the others get the original back. Handlers
subscribe to the schedule's event type like any other. After downtime the latest missed tick fires
once (not every missed tick); a schedule seen for the first time starts at the next tick.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from sqlalchemy import Connection, select, update

from crossdock.engine.database import Dialect
from crossdock.engine.envelope import Event, NewEvent, format_time
from crossdock.engine.log import insert_events
from crossdock.engine.progress import insert_ignore
from crossdock.engine.tables import schedule_ticks

SCHEDULER_SOURCE = "crossdock.scheduler"
CRON_MACROS = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)


def cron_problem(expr: str) -> str | None:
    """Why ``expr`` is not a schedule, or None: the one cron rule of the project (the
    configuration's schedules and the engine's `Schedule` alike).

    A standard 5-field expression (minute hour day month weekday) or an ``@`` macro. croniter also
    accepts 6 and 7 fields (seconds and years at the *end*), which reads like a different standard
    and surprises people; those are refused.
    """
    text = expr.strip()
    if text in CRON_MACROS or (len(text.split()) == 5 and croniter.is_valid(text)):
        return None
    return "not a valid cron expression"


def timezone_problem(name: str) -> str | None:
    """Why ``name`` is not a time zone a schedule can be read in, or None (IANA names)."""
    if name == "UTC":
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "unknown time zone (use an IANA name such as Europe/Brussels)"
    return None


@dataclass(frozen=True)
class Schedule:
    """A cron schedule read in ``timezone`` (IANA name): ``0 2 * * *`` in Europe/Brussels fires
    at 02:00 local time, winter and summer alike."""

    name: str
    cron: str
    event_type: str
    data: Mapping[str, Any] = field(default_factory=dict)
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        for value, problem in (
            (self.cron, cron_problem(self.cron)),
            (self.timezone, timezone_problem(self.timezone)),
        ):
            if problem is not None:
                raise ValueError(f"schedule {self.name}: {value!r}: {problem}")

    def _local(self, now: float) -> datetime:
        zone = UTC if self.timezone == "UTC" else ZoneInfo(self.timezone)
        return datetime.fromtimestamp(now, zone)

    def latest_tick(self, now: float) -> float:
        moment = self._local(now).replace(microsecond=0)
        if croniter.match(self.cron, moment):
            return moment.timestamp()
        return float(croniter(self.cron, moment).get_prev(float))

    def next_tick(self, now: float) -> float:
        return float(croniter(self.cron, self._local(now)).get_next(float))


def fire_due(
    conn: Connection,
    dialect: Dialect,
    schedules: list[Schedule],
    now: float,
    partitions: int,
) -> list[Event]:
    """Append one event per schedule whose latest tick has not fired yet (holds the append lock)."""
    fired: list[Event] = []
    names = [s.name for s in schedules]
    last = {
        row.name: row.last_tick
        for row in conn.execute(
            select(schedule_ticks.c.name, schedule_ticks.c.last_tick).where(
                schedule_ticks.c.name.in_(names)
            )
        )
    }
    for schedule in schedules:
        tick = schedule.latest_tick(now)
        previous = last.get(schedule.name)
        if previous is None:
            conn.execute(
                insert_ignore(dialect, schedule_ticks, [{"name": schedule.name, "last_tick": tick}])
            )
            continue
        if tick <= previous:
            continue
        stamp = format_time(datetime.fromtimestamp(tick, UTC))
        appended = insert_events(
            conn,
            [
                NewEvent(
                    type=schedule.event_type,
                    source=SCHEDULER_SOURCE,
                    subject=f"schedule:{schedule.name}",
                    data={"schedule": schedule.name, "tick": stamp, **schedule.data},
                    idempotency_key=f"{schedule.name}@{stamp}",
                    time=datetime.fromtimestamp(tick, UTC),
                )
            ],
            partitions,
        )
        conn.execute(
            update(schedule_ticks)
            .where(schedule_ticks.c.name == schedule.name, schedule_ticks.c.last_tick < tick)
            .values(last_tick=tick)
        )
        fired.extend(a.event for a in appended if a.new)
    return fired
