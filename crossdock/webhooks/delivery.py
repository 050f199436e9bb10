"""The delivery worker: claims due messages, sends them (Standard Webhooks), records each attempt.

One loop per hub process claims as many due messages as it has free slots (`concurrency`), each
claim one group-commit transaction; every claimed message is sent by its own task, and its result
is recorded (fenced by the lease token) in another shared transaction. Idle, the loop sleeps until
kicked (the fan-out recorded messages, or a slot became free) or `poll_interval_ms` passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from functools import partial

import structlog

from crossdock import __version__
from crossdock.config.webhooks import WebhooksConfig
from crossdock.engine import Engine, Notifier
from crossdock.ops.metrics import counter, histogram
from crossdock.retry import Backoff
from crossdock.webhooks.claims import (
    Claimed,
    Recorded,
    Result,
    claim_due,
    record_attempt,
    record_delivered,
)
from crossdock.webhooks.destinations import DestinationPolicy, DestinationRefused
from crossdock.webhooks.schedule import retry_after_s
from crossdock.webhooks.signing import secret_key, signature_header
from crossdock.webhooks.transport import Pool, TransportError

log = structlog.get_logger(__name__)

USER_AGENT = f"Crossdock-Webhooks/{__version__}"
RESPONSE_HEAD_BYTES = 512
STOP_GRACE_S = 5.0

# Every attempt, per endpoint id: success is a 2xx answer; anything else (another status, a
# timeout, a refused destination) is a failure.
DELIVERIES = counter(
    "webhook_deliveries_total", "Webhook delivery attempts, by outcome.", ["endpoint", "outcome"]
)
DELIVERY_SECONDS = histogram(
    "webhook_delivery_seconds", "Duration of one webhook delivery attempt.", ["endpoint"]
)


class DeliveryWorker:
    """Sends due messages of every endpoint (see module doc)."""

    def __init__(
        self,
        engine: Engine,
        settings: WebhooksConfig,
        policy: DestinationPolicy,
        schedule: Backoff,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.policy = policy
        self.schedule = schedule
        self.clock = clock
        self.notifier = Notifier()
        self.delivered = 0
        self.on_result: Callable[[Claimed, Result, Recorded], None] | None = None
        self._pool: Pool | None = None
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._keys: dict[str, bytes] = {}
        self._successes: list[tuple[Claimed, Result, asyncio.Future[bool]]] = []
        self._flushing = False

    async def start(self) -> None:
        self._pool = Pool(max_idle_per_host=self.settings.concurrency, user_agent=USER_AGENT)
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="crossdock-webhooks")

    async def stop(self) -> None:
        self._stopping.set()
        self.notifier.notify()
        if self._task is not None:
            await self._task
            self._task = None
        if self._inflight:
            _, pending = await asyncio.wait(self._inflight, timeout=STOP_GRACE_S)
            for task in pending:  # their leases expire; another worker sends them again
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @property
    def busy(self) -> int:
        """Deliveries in flight (sending or being recorded)."""
        return len(self._inflight)

    def kick(self) -> None:
        """Look for due messages now (new messages were recorded, or a slot freed up)."""
        self.notifier.notify()

    # -- the loop ------------------------------------------------------------------------------

    async def _run(self) -> None:
        poll = self.settings.poll_interval_ms / 1000
        while not self._stopping.is_set():
            token = self.notifier.token()
            free = self.settings.concurrency - len(self._inflight)
            if free > 0:
                try:
                    claimed = await self.engine.writer.submit(
                        partial(
                            claim_due,
                            owner=self.engine.node,
                            now=self.clock(),
                            limit=free,
                            lease_s=self.settings.lease_s,
                            default_cap=self.settings.max_in_flight,
                        )
                    )
                except Exception as exc:
                    log.warning("webhooks.claim_failed", error=repr(exc))
                    claimed = []
                for item in claimed:
                    task = asyncio.create_task(self._deliver(item))
                    self._inflight.add(task)
                    task.add_done_callback(self._done)
                if claimed and len(claimed) == free:
                    continue
            await self.notifier.wait(token, poll)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self.notifier.notify()

    # -- one attempt ---------------------------------------------------------------------------

    def _key(self, secret: str) -> bytes:
        key = self._keys.get(secret)
        if key is None:
            key = self._keys[secret] = secret_key(secret)
        return key

    async def send_once(self, claimed: Claimed) -> Result:
        """`send` a message that is not queued (a test event): on the worker's connections when
        it runs in this process, else on one opened for this attempt."""
        if self._pool is not None:
            return await self.send(claimed)
        pool = Pool(max_idle_per_host=1, user_agent=USER_AGENT)
        try:
            return await self.send(claimed, pool)
        finally:
            await pool.close()

    async def send(self, claimed: Claimed, pool: Pool | None = None) -> Result:
        """One HTTP attempt, bounded by `timeout_s` overall; never raises."""
        pool = pool or self._pool
        assert pool is not None
        started = time.perf_counter()

        def elapsed() -> float:
            return (time.perf_counter() - started) * 1000

        try:
            await self.policy.check(claimed.url)
        except DestinationRefused as exc:
            return Result(None, elapsed(), error=f"destination refused: {exc}")
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "webhook-id": claimed.msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(
                [self._key(s) for s in claimed.secrets], claimed.msg_id, timestamp, claimed.body
            ),
        }
        if claimed.traceparent:
            headers["traceparent"] = claimed.traceparent
        try:
            async with asyncio.timeout(self.settings.timeout_s):
                answer = await pool.post(claimed.url, claimed.body, headers, RESPONSE_HEAD_BYTES)
        except TimeoutError:
            return Result(None, elapsed(), error=f"timed out after {self.settings.timeout_s:g} s")
        except TransportError as exc:
            return Result(None, elapsed(), error=str(exc)[:500])
        return Result(
            answer.status,
            elapsed(),
            answer.head.decode("utf-8", "replace"),
            retry_after_s=retry_after_s(answer.headers.get("retry-after")),
        )

    async def _record_success(self, claimed: Claimed, result: Result) -> Recorded:
        """Successes are recorded together: one statement per kind for the whole group."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._successes.append((claimed, result, future))
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(self._flush()))
        kept = await future
        return Recorded("delivered" if kept else "lost")

    async def _flush(self) -> None:
        try:
            while self._successes:
                group, self._successes = self._successes, []
                items = [(c, r) for c, r, _ in group]
                try:
                    kept = await self.engine.writer.submit(
                        lambda conn, items=items: record_delivered(conn, items, self.clock())  # type: ignore[misc]
                    )
                except Exception as exc:
                    for _, _, future in group:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, _, future), ok in zip(group, kept, strict=True):
                    if not future.done():
                        future.set_result(ok)
        finally:
            self._flushing = False

    async def _deliver(self, claimed: Claimed) -> None:
        result = await self.send(claimed)
        DELIVERIES.labels(claimed.endpoint_id, "success" if result.ok else "failure").inc()
        DELIVERY_SECONDS.labels(claimed.endpoint_id).observe(result.latency_ms / 1000)
        appends = not result.ok
        for attempt in range(5):
            try:
                if result.ok:
                    recorded = await self._record_success(claimed, result)
                    break
                recorded = await self.engine.writer.submit(
                    partial(
                        record_attempt,
                        claimed=claimed,
                        result=result,
                        schedule=self.schedule,
                        failing_days=self.settings.failing_days,
                        partitions=self.engine.partitions,
                        now=self.clock(),
                    ),
                    appends=appends,
                )
                break
            except Exception as exc:  # the lease keeps the message; retry the write shortly
                log.warning("webhooks.record_failed", error=repr(exc), attempt=attempt)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=0.2 * (attempt + 1))
        else:
            return
        if recorded.outcome == "delivered":
            self.delivered += 1
        elif recorded.outcome == "lost":
            log.warning("webhooks.lease_lost", message_id=claimed.message_id)
        if recorded.disabled:
            log.warning("webhooks.endpoint_disabled", endpoint_id=claimed.endpoint_id)
        if self.on_result is not None:
            self.on_result(claimed, result, recorded)
