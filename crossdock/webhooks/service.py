"""`WebhookService`: what the hub holds — the fan-out consumer group, the delivery worker, the
destination policy and the retry schedule, built from the `webhooks` configuration section."""

from __future__ import annotations

import time

from sqlalchemy import Connection

from crossdock.config.webhooks import WebhooksConfig
from crossdock.engine import Backoff, Batch, Engine, Subscription
from crossdock.webhooks.delivery import DeliveryWorker
from crossdock.webhooks.destinations import DestinationPolicy
from crossdock.webhooks.fanout import FANOUT_GROUP, fan_out


class WebhookService:
    """Subscribes the fan-out group at construction (before the engine starts); `start` and
    `stop` run the delivery worker in processes that run workers."""

    def __init__(self, settings: WebhooksConfig, engine: Engine, *, lane: str = "default") -> None:
        self.settings = settings
        self.engine = engine
        self.policy = DestinationPolicy(settings.allow_private)
        self.schedule = Backoff.schedule(settings.retry_schedule_s, settings.jitter)
        self.worker = DeliveryWorker(engine, settings, self.policy, self.schedule)
        engine.subscribe(
            Subscription(
                FANOUT_GROUP,
                ["*"],
                self._fan_out,
                lane=lane,
                batch_size=500,
                start_at="latest",
                backoff=Backoff(base_s=0.5, max_s=60.0),
            )
        )
        self.running = False

    async def _fan_out(self, batch: Batch) -> None:
        events = list(batch.events)
        dialect = self.engine.db.dialect

        def write(conn: Connection) -> None:
            fan_out(conn, dialect, events, time.time())

        batch.write(write)
        if self.running:
            self.worker.kick()

    async def start(self) -> None:
        await self.worker.start()
        self.running = True

    async def stop(self) -> None:
        self.running = False
        await self.worker.stop()
