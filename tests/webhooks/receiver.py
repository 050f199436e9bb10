"""A webhook receiver for tests: a real HTTP server on 127.0.0.1 that verifies every delivery with
the `standardwebhooks` library (against each secret it knows) and answers as its script says."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from crossdock.commands.serve import _Server


@dataclass
class Reply:
    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    hold: asyncio.Event | None = None  # answer only once set (a slow or hanging receiver)
    delay_s: float = 0.0  # simulated processing time


@dataclass
class Received:
    at: float
    msg_id: str
    headers: dict[str, str]
    body: bytes
    verified_by: list[int]  # indexes of the secrets whose signature verified

    @property
    def event(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


Script = Callable[[Received, int], Reply]  # (request, how many requests this msg_id got) -> reply


class Receiver:
    def __init__(self, secrets: list[str] | None = None, script: Script | None = None) -> None:
        self.secrets = list(secrets or [])
        self.script = script
        self.received: list[Received] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.url = ""

    def by_id(self, msg_id: str) -> list[Received]:
        return [r for r in self.received if r.msg_id == msg_id]

    def verified(self) -> list[Received]:
        return [r for r in self.received if r.verified_by]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        verified_by = []
        for index, secret in enumerate(self.secrets):
            try:
                Webhook(secret).verify(body, headers)
                verified_by.append(index)
            except (WebhookVerificationError, ValueError):
                pass
        record = Received(time.time(), headers.get("webhook-id", ""), headers, body, verified_by)
        self.received.append(record)
        reply = self.script(record, len(self.by_id(record.msg_id))) if self.script else Reply()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if reply.hold is not None:
                await reply.hold.wait()
            if reply.delay_s:
                await asyncio.sleep(reply.delay_s)
        except asyncio.CancelledError:  # the server stops with requests still held
            return
        finally:
            self.in_flight -= 1
        await send(
            {
                "type": "http.response.start",
                "status": reply.status,
                "headers": [(k.encode(), v.encode()) for k, v in reply.headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": reply.body.encode()})

    async def start(self) -> Receiver:
        config = uvicorn.Config(self, host="127.0.0.1", port=0, log_config=None, lifespan="off")
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            await asyncio.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/hook"
        return self

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            self._server.force_exit = True
            await self._task
