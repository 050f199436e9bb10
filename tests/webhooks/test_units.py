"""Units: retry schedule with jitter, Retry-After, destination policy, configuration problems."""

from __future__ import annotations

import ipaddress
import random

import pytest

from crossdock.config import ConfigError, validate_config
from crossdock.config.webhooks import DEFAULT_RETRY_SCHEDULE_S
from crossdock.retry import Backoff
from crossdock.webhooks.destinations import DestinationPolicy, DestinationRefused
from crossdock.webhooks.fanout import matches
from crossdock.webhooks.schedule import retry_after_s


def test_default_schedule_outlasts_svix_and_n8n() -> None:
    schedule = Backoff.schedule(DEFAULT_RETRY_SCHEDULE_S)
    assert schedule.attempts == 8
    assert schedule.span_s() > 27 * 3600  # Svix: about 27 h; n8n: 5 tries 5 s apart
    rng = random.Random(1)
    delays = [schedule.delay(n, rng) for n in range(8)]  # before the first try, after each
    assert delays[0] == 0
    for delay, nominal in zip(delays[1:], DEFAULT_RETRY_SCHEDULE_S[1:], strict=True):
        assert nominal * 0.9 <= delay <= nominal * 1.1
    assert len({round(schedule.delay(1, rng), 6) for _ in range(20)}) > 1  # jitter


def test_retry_after_forms() -> None:
    assert retry_after_s("7") == 7
    assert retry_after_s("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10
    assert retry_after_s("soon") is None and retry_after_s(None) is None
    assert retry_after_s("99999999") == 86400


async def test_destination_policy_checks_every_address() -> None:
    policy = DestinationPolicy(["127.0.0.1/32"])
    await policy.check("http://127.0.0.1:8080/hook")
    with pytest.raises(DestinationRefused):
        await policy.check("http://127.0.0.2/hook")
    with pytest.raises(DestinationRefused):
        await policy.check("https://user:pw@example.com/hook")
    assert not policy.allows(ipaddress.ip_address("::ffff:10.0.0.1"))
    assert policy.allows(ipaddress.ip_address("93.184.216.34"))
    assert not policy.allows(ipaddress.ip_address("100.64.0.1"))  # carrier-grade NAT


def test_type_patterns() -> None:
    assert matches(["order.*"], "order.confirmed") and matches(["*"], "x.y")
    assert not matches(["order.*"], "orders.confirmed")
    assert matches(["invoice.posted"], "invoice.posted")


def test_configuration_problems_name_their_paths() -> None:
    with pytest.raises(ConfigError) as caught:
        validate_config(
            {
                "webhooks": {
                    "retry_schedule_s": [0, -5],
                    "timeout_s": 30,
                    "lease_s": 10,
                    "allow_private": ["10.0.0.0/8", "not-a-net"],
                    "sources": {
                        "shop": {"verification": "hmac", "secret": "inline", "event_types": ["o.*"]}
                    },
                }
            }
        )
    problems = caught.value.problems
    assert "webhooks.retry_schedule_s: delays must be >= 0" in problems
    assert "webhooks.lease_s: must be greater than timeout_s" in problems
    assert any(p.startswith("webhooks.allow_private[1]:") for p in problems)
    assert any(p.startswith("webhooks.sources.shop.secret:") for p in problems)
    assert any(p.startswith("webhooks.sources.shop.id_header:") for p in problems)
