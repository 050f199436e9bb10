"""The Stripe catch-up on the engine (no ERP): events the webhooks missed are listed from the
Stripe sandbox (a real HTTP server) and stored once through the webhook path's functions; the
window follows the cursor with its overlap; Stripe down is retried with the back-off, then an
exception for finance and a dead letter."""

from __future__ import annotations

import copy
import json
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from crossdock.config.payments import PaymentsConfig
from crossdock.engine import (
    Engine,
    EngineSettings,
    Lane,
    dead_letters_table,
    events_table,
    insert_events,
)
from crossdock.flows.tables import exceptions
from crossdock.sandbox.stripe import StripeSandboxServer, StripeSandboxSettings
from crossdock.webhooks import stripe_catchup
from crossdock.webhooks.catchup_tables import stripe_catchup_runs
from crossdock.webhooks.stripe_catchup import StripeCatchUp
from tests.support.waiting import until

KEY = "sk_test_catchup"


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATCHUP_WHSEC", "whsec_catchup")
    monkeypatch.setenv("CATCHUP_STRIPE_KEY", KEY)
    monkeypatch.setenv("CATCHUP_BAD_KEY", "sk_test_bad")


@pytest.fixture
def stripe() -> Iterator[StripeSandboxServer]:
    """A Stripe account with no webhook endpoint: every event is a missed one."""
    with StripeSandboxServer(StripeSandboxSettings(api_key=KEY)) as server:
        yield server


def payments(url: str, **catch_up: Any) -> PaymentsConfig:
    return PaymentsConfig.model_validate(
        {
            "gateways": {
                "stripe": {
                    "secrets": ["${CATCHUP_WHSEC}"],
                    "catch_up": {
                        "enabled": True,
                        "api_url": url,
                        "api_key": "${CATCHUP_STRIPE_KEY}",
                        "cron": "0 0 1 1 *",
                        **catch_up,
                    },
                }
            }
        }
    )


@pytest.fixture
async def engine(migrated: Path, tmp_path: Path) -> AsyncIterator[Engine]:
    database = tmp_path / "hub.db"
    shutil.copyfile(migrated, database)
    engine = Engine(
        f"sqlite:///{database}",
        settings=EngineSettings(partitions=8, poll_interval_s=0.02),
        lanes=[Lane("default", 0, 1)],
    )
    yield engine
    await engine.stop()


def pay(stripe: StripeSandboxServer, amount: int, invoice: str) -> str:
    intent = stripe.account.create_intent(
        {
            "amount": str(amount),
            "currency": "eur",
            "confirm": "true",
            "payment_method": "pm_card_visa",
            "metadata": {"invoice": invoice},
        },
        (None, None),
    )
    return str(intent["id"])


async def count(engine: Engine, type_: str) -> int:
    query = select(func.count()).where(events_table.c.type == type_)
    return int(await engine.db.read(lambda c: c.execute(query).scalar_one()))


async def test_missed_events_are_stored_once_and_the_cursor_moves(
    engine: Engine, stripe: StripeSandboxServer
) -> None:
    now = [0.0]
    catch_up = StripeCatchUp(engine, payments(stripe.url), clock=lambda: now[0])
    await engine.start(workers=False)
    first = pay(stripe, 1500, "INV/1")
    refunded = stripe.account.create_refund(
        {"payment_intent": first, "amount": "500"}, (None, None)
    )
    second = pay(stripe, 2500, "INV/2")
    events = {e["id"]: e for e in stripe.account.events}
    created = max(e["created"] for e in events.values())
    now[0] = created + 10.0

    run = await catch_up.run("stripe")
    assert run.since == int(now[0]) - 3 * 86400  # the first run looks back three days
    # mapped types only: two captures and the refund (not the intents' creation or charges)
    assert (run.listed, run.new, run.duplicates, run.rejected) == (3, 3, 0, 0)
    assert run.cursor == created
    assert await count(engine, "payment.reported") == 3
    reported = await engine.db.read(
        lambda c: [
            json.loads(r.data)["payment"]
            for r in c.execute(
                select(events_table.c.data)
                .where(events_table.c.type == "payment.reported")
                .order_by(events_table.c.seq)
            )
        ]
    )
    # oldest first, as they happened: the first capture, its refund, the second capture
    assert [p["kind"] for p in reported] == ["captured", "refunded", "captured"]
    assert reported[0]["payment_id"] == f"stripe:{first}"
    assert reported[1]["original"] == f"stripe:{first}" and reported[1]["amount"] == "5.00"
    assert reported[2]["payment_id"] == f"stripe:{second}"
    assert refunded["amount"] == 500

    # the next run lists from the cursor less the overlap: what it sees again is recognised
    now[0] += 600
    again = await catch_up.run("stripe", trigger="token:ops")
    assert again.since == created - 300
    assert (again.listed, again.new, again.duplicates) == (3, 0, 3)
    assert await count(engine, "payment.reported") == 3
    rows = await engine.db.read(
        lambda c: c.execute(select(stripe_catchup_runs).order_by(stripe_catchup_runs.c.id)).all()
    )
    assert [(r.trigger, r.new, r.cursor) for r in rows] == [
        ("schedule", 3, created),
        ("token:ops", 0, created),
    ]


async def test_an_unreadable_event_and_a_gap_open_exceptions(
    engine: Engine, stripe: StripeSandboxServer
) -> None:
    now = [0.0]
    catch_up = StripeCatchUp(engine, payments(stripe.url), clock=lambda: now[0])
    await engine.start(workers=False)
    pay(stripe, 1000, "INV/3")
    [good] = [e for e in stripe.account.events if e["type"] == "payment_intent.succeeded"]
    bad = copy.deepcopy(good)
    bad["id"] = "evt_unreadable"
    del bad["data"]["object"]["currency"]
    with stripe.account.lock:
        stripe.account.events.append(bad)
    now[0] = good["created"] + 10.0
    month_ago = now[0] - 31 * 86400
    last = {
        "gateway": "stripe",
        "trigger": "schedule",
        "started_at": month_ago,
        "finished_at": month_ago,
        "since": int(month_ago) - 300,
        "cursor": int(month_ago) - 60,
        **dict.fromkeys(("listed", "new", "duplicates", "ignored", "rejected"), 0),
    }
    await engine.writer.submit(lambda c: c.execute(insert(stripe_catchup_runs).values(last)))

    run = await catch_up.run("stripe")
    assert run.since == int(now[0]) - 30 * 86400  # no further back than Stripe keeps events
    assert (run.listed, run.new, run.rejected) == (2, 1, 1)
    opened = await engine.db.read(
        lambda c: {r.type: r.reason for r in c.execute(select(exceptions)).all()}
    )
    assert set(opened) == {"stripe_event_rejected", "stripe_events_expired"}
    assert "evt_unreadable" in opened["stripe_event_rejected"]
    assert "/data/object/currency" in opened["stripe_event_rejected"]
    assert "more than 30 days ago" in opened["stripe_events_expired"]


async def test_stripe_down_is_retried_then_an_exception(engine: Engine) -> None:
    with socket.socket() as sock:  # nothing listens there: Stripe does not answer
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = payments(url, max_attempts=3, retry={"base_s": 0.02, "factor": 1, "max_s": 0.02})
    catch_up = stripe_catchup.register(engine, config)
    assert catch_up is not None
    [schedule] = engine.schedules  # one per gateway, its ticks on the runs' subject
    assert (schedule.name, schedule.cron, schedule.event_type, dict(schedule.data)) == (
        "payments.stripe_catchup.stripe",
        "0 0 1 1 *",
        stripe_catchup.DUE,
        {"gateway": "stripe"},
    )
    assert request_subject(catch_up) == f"schedule:{schedule.name}"
    await engine.start()
    request = stripe_catchup.request_event("stripe", "token:ops")
    await engine.writer.submit(
        lambda c: insert_events(c, [request], engine.partitions), appends=True
    )

    async def dead() -> bool:
        query = select(func.count()).select_from(dead_letters_table)
        return bool(await engine.db.read(lambda c: c.execute(query).scalar_one()))

    await until(dead, timeout=60, what="the request in the dead letters")
    opened = await engine.db.read(
        lambda c: c.execute(
            select(exceptions).where(exceptions.c.type == "stripe_catchup_failed")
        ).all()
    )
    assert len(opened) == 1
    assert "after 3 attempts" in opened[0].reason and "no answer" in opened[0].reason
    assert (
        await engine.db.read(
            lambda c: c.execute(select(func.count()).select_from(stripe_catchup_runs)).scalar_one()
        )
        == 0
    )


async def test_a_wrong_key_opens_the_exception_at_once(
    engine: Engine, stripe: StripeSandboxServer
) -> None:
    config = PaymentsConfig.model_validate(
        {
            "gateways": {
                "stripe": {
                    "secrets": ["${CATCHUP_WHSEC}"],
                    "catch_up": {
                        "enabled": True,
                        "api_url": stripe.url,
                        "api_key": "${CATCHUP_BAD_KEY}",
                    },
                }
            }
        }
    )
    stripe_catchup.register(engine, config)
    await engine.start()
    request = stripe_catchup.request_event("stripe", "token:ops")
    await engine.writer.submit(
        lambda c: insert_events(c, [request], engine.partitions), appends=True
    )

    async def opened() -> list[Any]:
        query = select(exceptions).where(exceptions.c.type == "stripe_catchup_failed")
        return list(await engine.db.read(lambda c: c.execute(query).all()))

    await until(lambda: _truthy(opened()), timeout=60, what="the exception")
    [found] = await opened()
    assert "401 invalid_request_error" in found.reason and "sk_test_bad" not in found.reason


def request_subject(catch_up: StripeCatchUp) -> str:
    [name] = catch_up.gateways
    return stripe_catchup.request_event(name, "token:ops").subject


async def _truthy(rows: Any) -> bool:
    return bool(await rows)


def test_the_configuration_checks() -> None:
    with pytest.raises(ValueError, match="api_key is required"):
        PaymentsConfig.model_validate(
            {
                "gateways": {
                    "stripe": {"secrets": ["${CATCHUP_WHSEC}"], "catch_up": {"enabled": True}}
                }
            }
        )
    with pytest.raises(ValueError, match="only a stripe gateway"):
        PaymentsConfig.model_validate(
            {
                "gateways": {
                    "psp": {
                        "kind": "generic",
                        "secrets": ["${CATCHUP_WHSEC}"],
                        "types": {"paid": "captured"},
                        "catch_up": {"enabled": True, "api_key": "${CATCHUP_BAD_KEY}"},
                    }
                }
            }
        )
    off = PaymentsConfig.model_validate({"gateways": {"stripe": {"secrets": ["${CATCHUP_WHSEC}"]}}})
    assert stripe_catchup.enabled(off) == {}
