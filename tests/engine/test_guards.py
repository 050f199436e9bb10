"""`Engine.guard`: a key is held by one holder at a time across engines (nodes) on one database,
on both backends; other keys are not held up; a holder killed with SIGKILL frees its keys."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from crossdock.engine import Engine
from crossdock.engine.guards import slot_of
from crossdock.migrations import upgrade
from tests.support.waiting import until

NODES = 3
ROUNDS = 15


async def test_one_holder_of_a_key_across_engines(db_url: str) -> None:
    engines = [Engine(db_url) for _ in range(NODES)]
    for engine in engines:
        await engine.start(workers=False, scheduler=False)
    inside: list[str] = []
    overlaps: list[tuple[str, ...]] = []
    made: dict[str, int] = {}

    async def find_or_create(engine: Engine, key: str) -> None:
        async with engine.guard(f"customer:{key}", "customer:shared"):
            inside.append(key)
            if len(inside) > 1:
                overlaps.append(tuple(inside))
            found = made.get(key)
            await asyncio.sleep(0)  # the look-up and the create are two round trips
            if found is None:
                made[key] = made.get(key, 0) + 1
            inside.remove(key)

    try:
        await asyncio.gather(
            *(find_or_create(engine, f"C-{n % 4}") for n in range(ROUNDS) for engine in engines)
        )
    finally:
        for engine in engines:
            await engine.stop()
    assert overlaps == []
    assert made == {f"C-{n}": 1 for n in range(4)}


def _sharing_a_slot(key: str) -> str:
    """Another key of the same kind whose SQLite lock slot is ``key``'s."""
    kind = key.split(":", 1)[0]
    return next(
        other
        for n in range(1_000_000)
        if slot_of(other := f"{kind}:shop:X-{n}") == slot_of(key) and other != key
    )


async def test_guards_nest_even_when_two_keys_share_a_lock(db_url: str) -> None:
    # A batch's sale orders are held while their customers are taken inside; a customer key
    # that shares a SQLite slot with one of the sale orders must not wait for its own task.
    engine = Engine(db_url)
    await engine.start(workers=False, scheduler=False)
    outer = "sale_order:shop:WS-1"

    async def nested() -> None:
        async with engine.guard(outer), engine.guard(_sharing_a_slot(outer), outer):
            pass

    try:
        await asyncio.wait_for(nested(), timeout=60)  # a self-deadlock never ends
        # released as a whole: another engine takes both keys afterwards
        other = Engine(db_url)
        await other.start(workers=False, scheduler=False)
        try:
            async with other.guard(outer, _sharing_a_slot(outer)):
                pass
        finally:
            await other.stop()
    finally:
        await engine.stop()


async def test_other_keys_are_not_held_up(db_url: str) -> None:
    first, second = Engine(db_url), Engine(db_url)
    await first.start(workers=False, scheduler=False)
    await second.start(workers=False, scheduler=False)
    try:
        async with first.guard("sale_order:shop:A"):
            async with second.guard("sale_order:shop:B"):
                pass
            blocked = asyncio.create_task(_enter(second, "sale_order:shop:A"))
            await asyncio.sleep(0.2)
            assert not blocked.done()
        await asyncio.wait_for(blocked, timeout=30)
    finally:
        await first.stop()
        await second.stop()


async def _enter(engine: Engine, key: str) -> None:
    async with engine.guard(key):
        pass


HOLDER = textwrap.dedent(
    """
    import asyncio, sys
    from crossdock.engine import Engine

    async def main() -> None:
        engine = Engine(sys.argv[1])
        await engine.start(workers=False, scheduler=False)
        async with engine.guard("customer:shop:KILLED"):
            print("held", flush=True)
            await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


async def test_a_killed_holder_frees_its_keys(db_url: str, tmp_path: Path) -> None:
    script = tmp_path / "holder.py"
    script.write_text(HOLDER)
    holder = subprocess.Popen(
        [sys.executable, str(script), db_url], stdout=subprocess.PIPE, env=os.environ.copy()
    )
    try:
        assert holder.stdout is not None
        while (line := await asyncio.to_thread(holder.stdout.readline)).strip() != b"held":
            assert line, "the holder ended without holding the guard"
        engine = Engine(db_url)
        await engine.start(workers=False, scheduler=False)
        try:
            waiting = asyncio.create_task(_enter(engine, "customer:shop:KILLED"))
            await asyncio.sleep(0.2)
            assert not waiting.done()
            holder.send_signal(signal.SIGKILL)
            await asyncio.to_thread(holder.wait)
            await until(lambda: _done(waiting), timeout=30, what="the guard freed")
            await waiting
        finally:
            await engine.stop()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


async def _done(task: asyncio.Task[None]) -> bool:
    return task.done()


@pytest.fixture(autouse=True)
def _pythonpath(monkeypatch: pytest.MonkeyPatch) -> None:
    root = str(Path(__file__).resolve().parents[2])
    monkeypatch.setenv("PYTHONPATH", root)


async def test_a_waiter_of_the_same_engine_takes_the_key_when_it_is_released(
    tmp_path: Path,
) -> None:
    # On SQLite, tasks of one process wait on the slot's lock in the process, not by polling
    # its file: the waiter holds the key within a few turns of the event loop after the holder
    # lets it go.
    url = f"sqlite:///{tmp_path / 'guards.db'}"
    upgrade(url)
    engine = Engine(url)
    await engine.start(workers=False, scheduler=False)
    holding, release, entered = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def holder() -> None:
        async with engine.guard("customer:shop:C-1"):
            holding.set()
            await release.wait()

    try:
        first = asyncio.create_task(holder())
        await asyncio.wait_for(holding.wait(), timeout=30)
        waiter = asyncio.create_task(_enter_and_signal(engine, "customer:shop:C-1", entered))
        for _ in range(10):
            await asyncio.sleep(0)
        assert not entered.is_set()
        release.set()
        for _ in range(10):
            await asyncio.sleep(0)
        assert entered.is_set()
        await asyncio.wait_for(asyncio.gather(first, waiter), timeout=30)
    finally:
        await engine.stop()


async def _enter_and_signal(engine: Engine, key: str, entered: asyncio.Event) -> None:
    async with engine.guard(key):
        entered.set()
