"""A hub process for the crash test: engine workers and the webhook delivery worker.

python -m tests.webhooks.hub_main DB_URL LEASE_S
"""

from __future__ import annotations

import asyncio
import signal
import sys

from crossdock import sandbox
from crossdock.config import validate_config
from crossdock.hub import build_hub
from crossdock.ops.logging import configure_logging

sandbox.register()  # this process composes a hub, as the CLI does


async def main(url: str, lease_s: float) -> None:
    configure_logging("warning")
    cfg = validate_config(
        {
            "database": {"url": url},
            "engine": {"lease_seconds": 2, "poll_interval_ms": 20},
            "webhooks": {
                "retry_schedule_s": [0, 0.1, 0.1, 0.1, 0.1, 0.1],
                "jitter": 0,
                "timeout_s": lease_s / 2,
                "lease_s": lease_s,
                "poll_interval_ms": 20,
                "allow_private": ["127.0.0.1/32"],
            },
        }
    )
    hub = build_hub(cfg)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await hub.start()
    print("ready", flush=True)
    await stop.wait()
    await hub.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2])))
