"""A hub process for the kill -9 test: the API on a port and the Shopify order consumer.

python -m tests.flows.shopify.hub_main DB_URL PORT
"""

from __future__ import annotations

import asyncio
import signal
import sys

import uvicorn

from crossdock.app import create_app
from crossdock.config import validate_config
from crossdock.flows.shopify import register_shopify
from crossdock.hub import build_hub
from crossdock.ops.logging import configure_logging
from tests.flows.shopify.conftest import shop_config


async def main(url: str, port: int) -> None:
    configure_logging("warning")
    cfg = validate_config(shop_config(url))
    hub = build_hub(cfg)
    register_shopify(hub.engine, cfg)
    await hub.start()
    server = uvicorn.Server(
        uvicorn.Config(create_app(hub), host="127.0.0.1", port=port, log_config=None)
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    print("ready", flush=True)
    await stop.wait()
    server.should_exit = True
    await serving
    await hub.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
