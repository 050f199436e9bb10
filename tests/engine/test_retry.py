"""The one retry back-off (`crossdock.retry.Backoff`) in each form its users take."""

from __future__ import annotations

import random

import pytest

from crossdock.config.webhooks import DEFAULT_RETRY_SCHEDULE_S
from crossdock.connectors.resilience import CONNECTOR_BACKOFF
from crossdock.engine import Backoff as EngineBackoff
from crossdock.retry import Backoff


def test_engine_face_exports_the_one_type() -> None:
    assert EngineBackoff is Backoff


def test_exponential_is_capped_and_jittered_around_the_nominal_delay() -> None:
    backoff = Backoff(base_s=1.0, factor=2.0, max_s=10.0, jitter=0.2)
    assert [backoff.nominal(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    rng = random.Random(3)
    delays = [backoff.delay(3, rng) for _ in range(50)]
    assert all(3.2 <= d <= 4.8 for d in delays)
    assert len(set(delays)) > 1


def test_full_jitter_lies_between_zero_and_the_nominal_delay() -> None:
    rng = random.Random(5)
    delays = [CONNECTOR_BACKOFF.delay(10, rng) for _ in range(50)]
    assert all(0 <= d <= 5.0 for d in delays) and min(delays) < 2.5


def test_without_jitter_the_delay_is_the_nominal_one() -> None:
    assert Backoff(base_s=0.5, jitter=0.0).delay(4) == 4.0
    assert Backoff(base_s=0.5, jitter=0.0, full_jitter=True).delay(4) == 4.0


def test_an_explicit_schedule_counts_its_attempts_and_repeats_its_last_delay() -> None:
    schedule = Backoff.schedule([0, 5, 300], jitter=0.0)
    assert schedule.attempts == 3 and schedule.span_s() == 305
    assert [schedule.delay(n) for n in range(5)] == [0, 5, 300, 300, 300]
    assert Backoff().attempts is None


def test_the_webhook_schedule_converts_with_its_jitter() -> None:
    schedule = Backoff.schedule(DEFAULT_RETRY_SCHEDULE_S, jitter=0.1)
    assert schedule.attempts == len(DEFAULT_RETRY_SCHEDULE_S)
    rng = random.Random(1)
    for n, nominal in enumerate(DEFAULT_RETRY_SCHEDULE_S):
        assert nominal * 0.9 <= schedule.delay(n, rng) <= nominal * 1.1


def test_an_empty_schedule_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one delay"):
        Backoff.schedule([])
