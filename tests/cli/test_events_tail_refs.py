"""`crossdock events tail` finds an order by the channel's own number: `--subject order:WS-1001`
(and `--order CHANNEL/REF`) print that order's events, however far back in the log they are."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from sqlalchemy import Connection
from typer.testing import CliRunner

from crossdock.cli import app
from crossdock.engine import Batch, Engine, NewEvent, Subscription, new_event_id
from crossdock.engine.log import insert_events
from crossdock.flows.order_to_cash.events import order_event
from crossdock.flows.orders import get_order, insert_accepted, order_subject
from crossdock.migrations import upgrade
from tests.flows.harness import make_order
from tests.support.waiting import until

runner = CliRunner()
ORDERS = {"A": ("webshop", "WS-1001"), "B": ("edi", "WS-1001"), "C": ("webshop", "WS-1002")}


def seed(url: str) -> dict[str, str]:
    """Three orders (two channels share a number), then more events than a tail shows, then one
    more event of the first order."""
    ids = {key: new_event_id() for key in ORDERS}

    async def main() -> None:
        engine = Engine(url)
        async with engine:

            def write(conn: Connection) -> None:
                for key, (channel, ref) in ORDERS.items():
                    order = make_order(ref, "c-1", [("A", "1")], channel=channel)
                    event_id = new_event_id()
                    insert_accepted(
                        conn, order_id=ids[key], order=order, now=time.time(), event_id=event_id
                    )
                    accepted = NewEvent(
                        "order.accepted",
                        channel,
                        order_subject(ids[key]),
                        {"order_id": ids[key], "channel": channel, "external_ref": ref},
                        id=event_id,
                    )
                    insert_events(conn, [accepted], engine.partitions)

            await engine.writer.submit(write, appends=True)
            await engine.append(
                [NewEvent("stock.adjusted", "wms", f"sku:{i}", {"q": i}) for i in range(40)]
            )
            record = await engine.db.read(lambda c: get_order(c, ids["A"]))
            assert record is not None
            await engine.append([order_event("order.released", record, {})])

    asyncio.run(main())
    return ids


def _tail(config: Path, *args: str) -> tuple[int, list[dict[str, object]], str]:
    result = runner.invoke(app, ["events", "tail", "--json", "-c", str(config), *args])
    lines = [json.loads(line) for line in result.stdout.strip().splitlines() if line]
    return result.exit_code, lines, result.output


def test_tail_finds_an_order_by_the_channels_number(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    config = tmp_path / "crossdock.yaml"
    config.write_text(f"database:\n  url: {url}\n")
    upgrade(url)
    ids = seed(url)
    a, b, c = (order_subject(ids[k]) for k in "ABC")

    code, events, output = _tail(config, "--order", "webshop/WS-1001")
    assert code == 0, output
    assert [(e["type"], e["subject"]) for e in events] == [
        ("order.accepted", a),
        ("order.released", a),
    ]
    code, events, output = _tail(config, "--subject", "order:webshop/WS-1001")
    assert code == 0 and [e["subject"] for e in events] == [a, a], output

    # the number alone: every channel's order with that number
    code, events, output = _tail(config, "--subject", "order:WS-1001")
    assert code == 0, output
    assert [(e["type"], e["subject"]) for e in events] == [
        ("order.accepted", a),
        ("order.accepted", b),
        ("order.released", a),
    ]
    code, events, _ = _tail(config, "--order", "WS-1002")
    assert [e["subject"] for e in events] == [c]
    code, events, _ = _tail(config, "--subject", a)  # the hub's own subject still works
    assert [e["type"] for e in events] == ["order.accepted", "order.released"]

    missing = runner.invoke(app, ["events", "tail", "-c", str(config), "--order", "edi/NOPE"])
    assert missing.exit_code == 1 and "no order NOPE in channel edi" in missing.output

    text = runner.invoke(app, ["events", "tail", "-c", str(config), "--order", "edi/WS-1001"])
    assert text.exit_code == 0 and "edi/WS-1001" in text.output, text.output


def test_dead_letters_name_the_order_by_the_channels_number(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    config = tmp_path / "crossdock.yaml"
    config.write_text(f"database:\n  url: {url}\n")
    upgrade(url)

    async def main() -> None:
        async def refuse(batch: Batch) -> None:
            raise ValueError("the downstream system refused it")

        engine = Engine(url)
        engine.subscribe(Subscription("downstream", ["order.*"], refuse, max_attempts=1))
        async with engine:
            order = make_order("WS-1001", "c-1", [("A", "1")], channel="webshop")
            await engine.writer.submit(
                lambda c: insert_accepted(
                    c, order_id="o-1", order=order, now=time.time(), event_id=None
                )
            )
            await engine.append([NewEvent("order.released", "hub", "order:o-1", {})])

            async def dead() -> bool:
                return bool(await engine.dead_letters())

            await until(dead, what="a dead letter")

    asyncio.run(main())
    listed = runner.invoke(app, ["dlq", "list", "-c", str(config)], env={"COLUMNS": "250"})
    assert listed.exit_code == 0 and "webshop/WS-1001" in listed.output, listed.output
