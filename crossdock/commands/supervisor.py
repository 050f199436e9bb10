"""`crossdock serve --processes N`: the API served by N processes on one port, and the workers
in a process of their own, under one supervisor.

One Python process serves the API from one core: its event loop parses, validates and answers
every request. The supervisor starts `crossdock serve` itself N times with `--api-only
--reuse-port` (the kernel spreads connections over their sockets, SO_REUSEPORT), and once
with `--workers-only` unless the server is `--api-only`. They share the database as separate
nodes always could, and a directory the supervisor makes: their metrics are files there
(`PROMETHEUS_MULTIPROC_DIR`: a scrape of any API process shows the server's figures), and so
are the API tokens' rate buckets (`CROSSDOCK_SHARED_DIR`: a token's rate holds for the server).

A process that exits is started again (after a back-off when it keeps exiting within
`QUICK_EXIT_S` of its start); after `MAX_QUICK_EXITS` such exits in a row the supervisor stops
the others and exits non-zero; a process that exits with status 2 (a port in use, a broken
configuration: what never heals) stops the server at once with that status.
SIGTERM/SIGINT go to every process, each finishes as `serve` does alone; processes still running
after `STOP_TIMEOUT_S` are killed. The processes get SIGTERM if the supervisor itself dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass

import structlog
from prometheus_client.multiprocess import mark_process_dead

from crossdock.commands.common import USAGE_ERROR
from crossdock.engine import SHARED_DIR_ENV
from crossdock.retry import Backoff

__all__ = ["Child", "children", "supervise"]

log = structlog.get_logger("crossdock.serve")

QUICK_EXIT_S = 10.0
MAX_QUICK_EXITS = 5
STOP_TIMEOUT_S = 60.0
RESTART_BACKOFF = Backoff(base_s=1.0, max_s=30.0, jitter=0.0)  # 1, 2, 4, 8 s after quick exits
_PR_SET_PDEATHSIG = 1


@dataclass
class Child:
    name: str
    args: list[str]  # after `crossdock`
    process: asyncio.subprocess.Process | None = None
    started: float = 0.0
    quick_exits: int = 0


def children(processes: int, *, workers: bool, serve_args: list[str]) -> list[Child]:
    """The processes of the server: `serve_args` (config, host, port) go to each."""
    api = [
        Child(f"api-{i + 1}", ["serve", "--api-only", "--reuse-port", *serve_args])
        for i in range(processes)
    ]
    return api + ([Child("workers", ["serve", "--workers-only", *serve_args])] if workers else [])


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: SIGTERM when the supervisor goes away.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


async def _start(child: Child, env: dict[str, str]) -> None:
    child.process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crossdock",
        *child.args,
        env=env,
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )
    child.started = time.monotonic()
    log.info("serve.process_started", process=child.name, pid=child.process.pid)


def supervise(children: list[Child]) -> int:
    """Run `children` until SIGTERM/SIGINT (exit 0), one keeps failing (exit 1) or one cannot
    start (its exit status 2: a bad configuration or address)."""
    shared = tempfile.mkdtemp(prefix="crossdock-server-")
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": shared, SHARED_DIR_ENV: shared}
    try:
        return asyncio.run(_supervise(children, env, shared))
    finally:
        shutil.rmtree(shared, ignore_errors=True)


async def _supervise(children: list[Child], env: dict[str, str], shared: str) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    for child in children:
        await _start(child, env)
    exits = {_exit_of(c): c for c in children}
    stopping = asyncio.create_task(stop.wait())
    status = 0
    while not stop.is_set():
        done, _ = await asyncio.wait([*exits, stopping], return_when=asyncio.FIRST_COMPLETED)
        for task in done - {stopping}:
            child = exits.pop(task)
            assert child.process is not None
            pid, code = child.process.pid, task.result()
            mark_process_dead(pid, shared)  # type: ignore[no-untyped-call]
            quick = time.monotonic() - child.started < QUICK_EXIT_S
            child.quick_exits = child.quick_exits + 1 if quick else 0
            log.warning("serve.process_exited", process=child.name, pid=pid, status=code)
            if code == USAGE_ERROR:  # it said why on stderr; starting it again cannot help
                status = USAGE_ERROR
                stop.set()
                break
            if child.quick_exits >= MAX_QUICK_EXITS:
                log.error("serve.process_keeps_exiting", process=child.name, exits=MAX_QUICK_EXITS)
                status = 1
                stop.set()
                break
            if quick:  # back off, unless asked to stop meanwhile
                delay = RESTART_BACKOFF.delay(child.quick_exits)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(stopping), delay)
                if stop.is_set():
                    break
            await _start(child, env)
            exits[_exit_of(child)] = child
    await _stop_all(children)
    return status


def _exit_of(child: Child) -> asyncio.Task[int]:
    assert child.process is not None
    return asyncio.create_task(child.process.wait())


async def _stop_all(children: list[Child]) -> None:
    running = [c.process for c in children if c.process and c.process.returncode is None]
    for process in running:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
    waits = [asyncio.create_task(p.wait()) for p in running]
    if not waits:
        return
    _, late = await asyncio.wait(waits, timeout=STOP_TIMEOUT_S)
    for process in running:
        if process.returncode is None:
            log.warning("serve.process_killed", pid=process.pid)
            with contextlib.suppress(ProcessLookupError):
                process.kill()
    if late:
        await asyncio.wait(late)
