"""A minimal HTTP/1.1 receiver for the webhook benchmark, run as its own process so its work does
not share the hub's event loop: keep-alive, answers 200 after a fixed latency, and records for
each delivery the time from the event (envelope `time`) to its arrival.

    python -m crossdock.bench.webhook_receiver LATENCY_MS   # prints the port, then serves

`GET /stats` answers `{"count": n, "p99_ms": …, "p50_ms": …}`; `POST /reset` clears them.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from datetime import datetime

_TIME = re.compile(rb'"time":"([^"]+)"')


class ReceiverStats:
    def __init__(self) -> None:
        self.lags_ms: list[float] = []

    def summary(self) -> dict[str, float]:
        lags = sorted(self.lags_ms)

        def pct(p: float) -> float:
            return round(lags[min(len(lags) - 1, int(len(lags) * p))], 1) if lags else 0.0

        return {"count": len(lags), "p50_ms": pct(0.5), "p99_ms": pct(0.99)}


async def serve(latency_s: float) -> None:
    stats = ReceiverStats()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                body = await reader.readexactly(length) if length else b""
                request_line = head.split(b"\r\n", 1)[0]
                if request_line.startswith(b"GET /stats"):
                    payload = json.dumps(stats.summary()).encode()
                elif request_line.startswith(b"POST /reset"):
                    stats.lags_ms.clear()
                    payload = b"{}"
                else:
                    arrived = time.time()
                    found = _TIME.search(body)
                    if found:
                        sent = datetime.fromisoformat(
                            found.group(1).decode().replace("Z", "+00:00")
                        )
                        stats.lags_ms.append((arrived - sent.timestamp()) * 1000)
                    if latency_s:
                        await asyncio.sleep(latency_s)
                    payload = b"ok"
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    + b"content-length: %d\r\n\r\n" % len(payload)
                    + payload
                )
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(float(sys.argv[1]) / 1000))
