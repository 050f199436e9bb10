"""The durable event engine: an event log on SQL with consumer groups, per-subject ordering,
leases, retries, dead letters, replay, lanes, rate limits and schedules (SQLite or PostgreSQL).

It knows no business object: events carry JSON data, and handlers give it meaning.

This package is the engine's only face: code outside `crossdock/engine/` imports from here, never
from a submodule (an import-linter contract in pyproject.toml checks it). What it offers:

- append: `prepare` + `insert_prepared` (or `insert_events`) inside a caller's transaction;
- units of work: a consumer's `Batch` (write the flow's rows, emit events, acknowledge the batch:
  one commit) and a request's `Batched` (rows and events of concurrent requests, one group commit);
- consumers (`Subscription`, `Handler`, `Reject`, `RetryAfter`, `Unavailable`, `Failed`, `Backoff`;
  groups added and removed while running: `Engine.add_group`, `Engine.remove_group`, with
  `Engine.add_lane`; a group whose existence is a caller's row: `open_group`, `forget_group`,
  `skip_unread`, `unread`, `count_unread`, `parked_positions`), dead letters and replay
  (`DeadLetter`, `list_dead`, `get_dead`, `replay_dead`, `replay_dead_many`, `dead_id_of`;
  `requeue` hands a handled event over again), schedules
  (`Schedule`), rate limits (`Limiter`, `TokenBucket`, `SharedTokenBucket`, `background`);
- the database handle (`Database`, `Dialect`, `one_shot_engine`…) and the engine's tables that
  others read or reference (`events_table`, `dead_letters_table`, `cursors_table`, `Position`,
  `engine_metadata`), plus the row helpers flows use for set-based writes (`insert_values`…).
"""

from crossdock.engine.bulk import fetch_rows, insert_values, update_values
from crossdock.engine.consumers import (
    TYPE_PATTERN,
    Batch,
    Failed,
    Handler,
    Reject,
    RetryAfter,
    Subscription,
)
from crossdock.engine.core import (
    DEFAULT_LANES,
    DEFAULT_PARTITIONS,
    Engine,
    EngineSettings,
    GroupBacklog,
    SchemaMissing,
    open_group,
)
from crossdock.engine.database import Database, Dialect, dialect_of, one_shot_engine, sqlite_path
from crossdock.engine.deadletters import DeadLetter, dead_id_of, get_dead, list_dead, requeue
from crossdock.engine.deadletters import replay as replay_dead
from crossdock.engine.deadletters import replay_many as replay_dead_many
from crossdock.engine.dispatch import Lane, Stats
from crossdock.engine.envelope import (
    EnvelopeError,
    Event,
    NewEvent,
    format_time,
    new_event_id,
    parse_time,
    utcnow,
)
from crossdock.engine.limits import (
    SHARED_DIR_ENV,
    Limiter,
    SharedTokenBucket,
    TokenBucket,
    background,
)
from crossdock.engine.log import (
    EVENT_COLUMNS,
    Prepared,
    dump_data,
    find_event,
    insert_events,
    insert_prepared,
    partition_of,
    prepare,
    read_positions,
    row_to_event,
)
from crossdock.engine.observer import HandlerScope, NullObserver, Observer
from crossdock.engine.progress import (
    count_unread,
    forget_group,
    insert_ignore,
    parked_positions,
    skip_unread,
    unread,
)
from crossdock.engine.schedules import Schedule, cron_problem, timezone_problem
from crossdock.engine.tables import Position
from crossdock.engine.tables import cursors as cursors_table
from crossdock.engine.tables import dead_letters as dead_letters_table
from crossdock.engine.tables import events as events_table
from crossdock.engine.tables import metadata as engine_metadata
from crossdock.engine.wakeup import Notifier
from crossdock.engine.writer import Batched
from crossdock.errors import Unavailable
from crossdock.retry import Backoff

__all__ = [
    "DEFAULT_LANES",
    "DEFAULT_PARTITIONS",
    "EVENT_COLUMNS",
    "SHARED_DIR_ENV",
    "TYPE_PATTERN",
    "Backoff",
    "Batch",
    "Batched",
    "Database",
    "DeadLetter",
    "Dialect",
    "Engine",
    "EngineSettings",
    "EnvelopeError",
    "Event",
    "Failed",
    "GroupBacklog",
    "Handler",
    "HandlerScope",
    "Lane",
    "Limiter",
    "NewEvent",
    "Notifier",
    "NullObserver",
    "Observer",
    "Position",
    "Prepared",
    "Reject",
    "RetryAfter",
    "Schedule",
    "SchemaMissing",
    "SharedTokenBucket",
    "Stats",
    "Subscription",
    "TokenBucket",
    "Unavailable",
    "background",
    "count_unread",
    "cron_problem",
    "cursors_table",
    "dead_id_of",
    "dead_letters_table",
    "dialect_of",
    "dump_data",
    "engine_metadata",
    "events_table",
    "fetch_rows",
    "find_event",
    "forget_group",
    "format_time",
    "get_dead",
    "insert_events",
    "insert_ignore",
    "insert_prepared",
    "insert_values",
    "list_dead",
    "new_event_id",
    "one_shot_engine",
    "open_group",
    "parked_positions",
    "parse_time",
    "partition_of",
    "prepare",
    "read_positions",
    "replay_dead",
    "replay_dead_many",
    "requeue",
    "row_to_event",
    "skip_unread",
    "sqlite_path",
    "timezone_problem",
    "unread",
    "update_values",
    "utcnow",
]
