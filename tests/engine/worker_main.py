"""A hub worker process for crash and scale-out tests: handles `work.*` events, recording each
effect in `test_effects` atomically with the acknowledgement.

    python -m tests.engine.worker_main URL NAME [--delay S] [--lease S] [--batch N] [--poll S]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal

from crossdock.engine import Batch, Engine, EngineSettings, Lane, Subscription
from crossdock.ops.logging import configure_logging
from tests.engine import effects


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("name")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--lease", type=float, default=2.0)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--poll", type=float, default=0.05)
    args = parser.parse_args()
    configure_logging("warning")
    worker = f"{args.name}:{os.getpid()}"

    async def handle(batch: Batch) -> None:
        if args.delay:
            await asyncio.sleep(args.delay)  # stands for the work a real handler does
        effects.record(batch, worker)

    engine = Engine(
        args.url,
        settings=EngineSettings(lease_seconds=args.lease, poll_interval_s=args.poll),
        lanes=[Lane("default", 0, args.concurrency)],
    )
    engine.subscribe(Subscription("work", ["work.*"], handle, batch_size=args.batch))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with engine:
        print("ready", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
