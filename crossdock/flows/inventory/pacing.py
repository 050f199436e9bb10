"""Pacing of inventory's bulk work (stock intake, publication) around the rest of the hub.

Before each of its transactions, bulk work asks the engine's writer how long other work waits:
a no-op goes through the group commit at the inventory lane's priority. Alone it comes back in
about a millisecond and the bulk work goes on at full speed; when it waited longer, orders and
acknowledgements are queued, and the bulk work pauses as long (at most ``MAX_PAUSE_S``) so they
commit first. Bulk work never times its own transactions for this: their length says nothing
about others waiting.
"""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import Connection

from crossdock.engine import Engine

CONTENDED_S = 0.02
"""A no-op through the group commit slower than this means other work waits for the writer."""
MAX_PAUSE_S = 0.25


def _nothing(conn: Connection) -> None:
    return None


async def make_way(engine: Engine, priority: int) -> None:
    """Pause while the writer is busy with other work (see the module documentation)."""
    began = time.perf_counter()
    await engine.writer.submit(_nothing, priority=priority)
    waited = time.perf_counter() - began
    if waited > CONTENDED_S:
        await asyncio.sleep(min(waited, MAX_PAUSE_S))
