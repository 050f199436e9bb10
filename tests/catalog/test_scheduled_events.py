"""The requests the scheduler appends for the EDI polls, the bank statement folder and the Stripe
catch-up (and a catch-up asked for through the API) are what the event catalog says: the flows'
own schedules (as the hub registers them) fired on a real engine, each fired event validated
against its catalog schema."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from crossdock.config.edi import EdiConfig
from crossdock.config.payments import PaymentsConfig
from crossdock.connectors.memory import MemoryErp
from crossdock.engine import Engine, EngineSettings, Event
from crossdock.flows.edi.polling import schedules as edi_schedules
from crossdock.flows.payments import register as register_payments
from crossdock.migrations import upgrade
from crossdock.webhooks.stripe_catchup import StripeCatchUp, request_event
from tests.catalog.conformance import problems
from tests.flows.edi.support import partner
from tests.flows.payments.conftest import payments_config

T0 = 1_800_000_000.0  # a minute's start: each schedule's first tick is registered here


async def test_scheduled_requests_match_the_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CATALOG_STRIPE_SECRET", "whsec_catalog")
    monkeypatch.setenv("CATALOG_STRIPE_KEY", "sk_test_catalog")
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    upgrade(url)
    folders = {k: tmp_path / k for k in ("in", "out", "inbox", "archive")}
    for folder in folders.values():
        folder.mkdir()
    engine = Engine(url, settings=EngineSettings(partitions=2))
    acme = partner(
        {"kind": "directory", "inbound": str(folders["in"]), "outbound": str(folders["out"])}
    )
    for schedule in edi_schedules(EdiConfig(partners={"acme": acme})):
        engine.schedule(schedule)
    folder = {
        "inbox": str(folders["inbox"]),
        "archive": str(folders["archive"]),
        "cron": "* * * * *",
    }
    register_payments(engine, MemoryErp(), payments_config(statement_folder=folder))
    stripe = {
        "kind": "stripe",
        "secrets": ["${CATALOG_STRIPE_SECRET}"],
        "catch_up": {"enabled": True, "api_key": "${CATALOG_STRIPE_KEY}"},
    }
    catch_up = StripeCatchUp(engine, PaymentsConfig.model_validate({"gateways": {"s": stripe}}))
    for schedule in catch_up.schedules():
        engine.schedule(schedule)
    await engine.start(workers=False, scheduler=False)
    try:
        assert await engine.fire_schedules(T0) == []
        fired = await engine.fire_schedules(T0 + 3600)
    finally:
        await engine.stop()
    assert {e.type for e in fired} == {
        "edi.poll_requested",
        "payments.statements_due",
        "payments.stripe_catchup_due",
    }
    assert problems(fired) == []
    asked = request_event("s", "token:ops")
    assert (
        problems(
            [
                Event(
                    "e",
                    asked.type,
                    asked.source,
                    asked.subject,
                    datetime.now(UTC),
                    dict(asked.data),
                )
            ]
        )
        == []
    )
