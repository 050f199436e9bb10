"""Partners polled on the engine's schedules, two nodes on one database: a tick fired by both
nodes is one poll of one node; a partner whose SFTP server is down is polled again with the
configured backoff and, after ``max_attempts``, an ``edi_transport`` exception is open and the
tick is in the dead letters with every attempt — never skipped silently."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from crossdock.config.edi import EdiConfig
from crossdock.connectors.edi.port import EdiTransport, RemoteFile
from crossdock.connectors.edi.transports import open_transport
from crossdock.engine import Engine, EngineSettings, list_dead
from crossdock.flows.edi import store
from crossdock.flows.edi.polling import GROUP, schedules, subscription
from crossdock.flows.edi.service import EdiService
from crossdock.flows.exceptions import list_exceptions
from tests.flows.edi.support import PASSWORD, PASSWORD_ENV, interchange, partner
from tests.support.waiting import until

T0 = 1_800_000_000.0  # a minute's start: the schedule's first tick is registered here


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)


class Counting:
    """A transport that counts the polls reaching it, and how many ran at once."""

    def __init__(self, inner: EdiTransport) -> None:
        self.inner = inner
        self.listings = 0
        self.running = 0
        self.most = 0

    async def list_inbound(self) -> list[RemoteFile]:
        self.listings += 1
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await asyncio.sleep(0)  # let another poll in, if one could be
            return await self.inner.list_inbound()
        finally:
            self.running -= 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@asynccontextmanager
async def node(db_file: Path, config: EdiConfig, transport: Any) -> AsyncIterator[Engine]:
    engine = Engine(
        f"sqlite:///{db_file}", settings=EngineSettings(partitions=4, poll_interval_s=0.02)
    )
    service = EdiService(config, lambda: engine.db, {"acme": transport}, scheduled=True)
    for poll in schedules(config):
        engine.schedule(poll)
    engine.subscribe(subscription(config, service))
    await engine.start(scheduler=False)  # the test fires the ticks
    try:
        yield engine
    finally:
        await engine.stop()


async def test_a_tick_is_one_poll_across_two_nodes(db_file: Path, tmp_path: Path) -> None:
    folders = {k: tmp_path / k for k in ("in", "out")}
    for folder in folders.values():
        folder.mkdir()
    acme = partner(
        {"kind": "directory", "inbound": str(folders["in"]), "outbound": str(folders["out"])}
    )
    config = EdiConfig(partners={"acme": acme})
    transport = Counting(open_transport("acme", acme))
    async with AsyncExitStack() as stack:
        one = await stack.enter_async_context(node(db_file, config, transport))
        two = await stack.enter_async_context(node(db_file, config, transport))
        for engine in (one, two):
            assert await engine.fire_schedules(T0) == []  # the first tick starts the schedule
        (folders["in"] / "po.x12").write_bytes(interchange(41))
        fired = [await engine.fire_schedules(T0 + 60) for engine in (one, two)]
        assert sum(len(f) for f in fired) == 1  # one event for the tick, whoever fires it

        async def polled() -> bool:
            return transport.listings >= 1 and await one.idle() and await two.idle()

        await until(polled, what="the tick's poll")
        [file] = await one.db.read(lambda c: store.list_files(c, direction="in"))
        assert file.name == "po.x12"
        assert (transport.listings, transport.most) == (1, 1)


async def test_a_failing_poll_is_retried_then_an_exception(db_file: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on: the SFTP server is down
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    acme = partner(
        {
            "kind": "sftp",
            "host": "127.0.0.1",
            "port": port,
            "username": "crossdock",
            "password": "${" + PASSWORD_ENV + "}",
            "timeout_s": 5,
        }
    )
    config = EdiConfig(
        partners={"acme": acme},
        max_attempts=3,
        retry={"base_s": 0.01, "factor": 1, "max_s": 0.05},
    )
    transport = open_transport("acme", acme)
    async with node(db_file, config, transport) as engine:
        await engine.fire_schedules(T0)
        [tick] = await engine.fire_schedules(T0 + 60)

        async def buried() -> bool:
            return bool(await engine.db.read(lambda c: list_dead(c, group=GROUP)))

        await until(buried, what="the tick in the dead letters")
        [dead] = await engine.db.read(lambda c: list_dead(c, group=GROUP))
        assert (dead.event_id, dead.attempts) == (tick.id, 3)
        assert [e["attempt"] for e in dead.errors] == [1, 2, 3]
        assert all("TransportFailed" in e["error"] or "GaveUp" in e["error"] for e in dead.errors)
        [opened] = await engine.db.read(lambda c: list_exceptions(c, state="open"))
        assert (opened.type, opened.subject) == ("edi_transport", "edi-partner:acme")
        assert "after 3 attempts" in opened.reason
