"""`crossdock demo`: the hub on its embedded default (SQLite) with sample traffic, then a summary.

Orders from two channels and a burst of warehouse stock events go through the event log. An
order-handling consumer confirms orders (emitting `order.confirmed` with its acknowledgement), a
notification consumer counts confirmations, and an inventory consumer absorbs the stock burst in
its own lane. One order carries a SKU the handler cannot price: it is retried with backoff and
ends in the dead letters, with every attempt's error, ready to replay.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from crossdock.config import Config
from crossdock.engine import Backoff, Batch, NewEvent, Subscription
from crossdock.hub import build_hub, migrate

ORDERS = 400
STOCK_EVENTS = 5000
BAD_SKU = "UNPRICED-9"


@dataclass
class DemoReport:
    appended: Counter[str] = field(default_factory=Counter)
    handled: Counter[str] = field(default_factory=Counter)
    dead_letters: list[tuple[int, str, str, int]] = field(default_factory=list)
    append_s: float = 0.0
    drain_s: float = 0.0


def demo_config(directory: Path) -> tuple[Config, Path]:
    """The default configuration, on a fresh SQLite file, with a written copy to inspect it."""
    database = directory / "demo.db"
    for stale in directory.glob("demo.db*"):
        stale.unlink()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "demo.yaml"
    path.write_text(
        "# Written by `crossdock demo`: the embedded default on the demo database.\n"
        f"database:\n  url: sqlite:///{database}\n"
        "engine:\n  poll_interval_ms: 20\n"
    )
    from crossdock.config import load_config

    return load_config(path), path


def _orders() -> list[NewEvent]:
    out = []
    for n in range(ORDERS):
        channel = "webshop" if n % 3 else "edi"
        sku = BAD_SKU if n == 137 else f"SKU-{n % 40:03d}"
        out.append(
            NewEvent(
                "order.accepted",
                channel,
                f"order:{channel}:{1000 + n}",
                {"channel": channel, "lines": [{"sku": sku, "quantity": str(1 + n % 5)}]},
                idempotency_key=f"{channel}:{1000 + n}",
            )
        )
    return out


async def run_demo(cfg: Config) -> DemoReport:
    report = DemoReport()
    hub = build_hub(cfg)
    engine = hub.engine

    async def confirm(batch: Batch) -> None:
        for event in batch.events:
            if any(line["sku"] == BAD_SKU for line in event.data["lines"]):
                batch.fail(event, f"no price for {BAD_SKU} in the channel's price list")
                continue
            batch.emit(
                NewEvent(
                    "order.confirmed",
                    "crossdock",
                    event.subject,
                    {"from": event.id},
                    idempotency_key=f"confirmed:{event.id}",
                )
            )
        report.handled["orders"] += len(batch.events)

    async def notify(batch: Batch) -> None:
        report.handled["notifications"] += len(batch.events)

    async def stock(batch: Batch) -> None:
        report.handled["inventory"] += len(batch.events)

    fast = Backoff(base_s=0.05, max_s=0.2)
    engine.subscribe(
        Subscription(
            "demo.orders", ["order.accepted"], confirm, lane="orders", max_attempts=3, backoff=fast
        )
    )
    engine.subscribe(Subscription("demo.notify", ["order.confirmed"], notify, lane="default"))
    engine.subscribe(
        Subscription("demo.inventory", ["stock.*"], stock, lane="inventory", batch_size=500)
    )
    migrate(cfg)
    async with engine:
        started = time.perf_counter()
        stock_events = [
            NewEvent(
                "stock.adjusted", "wms", f"sku:SKU-{i % 40:03d}@WH1", {"delta": str(i % 7 - 3)}
            )
            for i in range(STOCK_EVENTS)
        ]
        for chunk in range(0, STOCK_EVENTS, 1000):
            await engine.append(stock_events[chunk : chunk + 1000])
        # Orders arrive as concurrent requests: they share commits (group commit).
        await asyncio.gather(*(engine.append_one(order) for order in _orders()))
        report.append_s = time.perf_counter() - started
        while not await engine.idle():
            await engine.notifier.wait(engine.notifier.token(), 0.05)
        report.drain_s = time.perf_counter() - started
        for event in await engine.events_after(0, 1_000_000):
            report.appended[event.type] += 1
        report.dead_letters = [
            (d.id, d.subject, d.errors[-1]["error"], d.attempts)
            for d in await engine.dead_letters()
        ]
    return report


def print_report(report: DemoReport, config_path: Path, console: Console) -> None:
    console.print("[bold]Crossdock demo[/bold] — SQLite event log, sample channels and warehouse\n")
    appended = Table("event type", "appended", title="Event log")
    for kind, count in sorted(report.appended.items()):
        appended.add_row(kind, str(count))
    console.print(appended)
    handled = Table("consumer group", "events handled", title="Consumers")
    for group, count in sorted(report.handled.items()):
        handled.add_row(group, str(count))
    console.print(handled)
    total = sum(report.appended.values())
    console.print(
        f"{total} events appended in {report.append_s:.2f}s; "
        f"everything handled {report.drain_s:.2f}s after the first append.\n"
    )
    if report.dead_letters:
        dead = Table("id", "subject", "attempts", "last error", title="Dead letters")
        for dead_id, subject, error, attempts in report.dead_letters:
            dead.add_row(str(dead_id), subject, str(attempts), error)
        console.print(dead)
    console.print(
        "Look closer:\n"
        f"  crossdock dlq list -c {config_path}\n"
        f"  crossdock dlq show {report.dead_letters[0][0] if report.dead_letters else 1} "
        f"-c {config_path}\n"
        f"  crossdock events tail -n 10 -c {config_path}"
    )
