"""The durable event engine: an event log on SQL with consumer groups, per-subject ordering,
leases, retries, dead letters, replay, lanes, rate limits and schedules (SQLite or PostgreSQL).

It knows no business object: events carry JSON data, and handlers give it meaning.
"""

from crossdock.engine.consumers import (
    Batch,
    Failed,
    Handler,
    Reject,
    Subscription,
)
from crossdock.engine.core import (
    DEFAULT_LANES,
    Engine,
    EngineSettings,
    GroupBacklog,
    SchemaMissing,
)
from crossdock.engine.deadletters import DeadLetter
from crossdock.engine.dispatch import Lane, Stats
from crossdock.engine.envelope import EnvelopeError, Event, NewEvent, new_event_id
from crossdock.engine.limits import Limiter, TokenBucket
from crossdock.engine.schedules import Schedule, cron_problem, timezone_problem
from crossdock.errors import Unavailable
from crossdock.retry import Backoff

__all__ = [
    "DEFAULT_LANES",
    "Backoff",
    "Batch",
    "DeadLetter",
    "Engine",
    "EngineSettings",
    "EnvelopeError",
    "Event",
    "Failed",
    "GroupBacklog",
    "Handler",
    "Lane",
    "Limiter",
    "NewEvent",
    "Reject",
    "Schedule",
    "SchemaMissing",
    "Stats",
    "Subscription",
    "TokenBucket",
    "Unavailable",
    "cron_problem",
    "new_event_id",
    "timezone_problem",
]
