"""The dashboard's pure parts, without a browser: quantiles from histogram buckets over a window,
sessions that expire and never hold the token, and the sign-in redirect that stays on the site."""

from __future__ import annotations

import math

from prometheus_client import CollectorRegistry, Histogram

from crossdock.ui.figures import HistogramWindow, bucket_quantile
from crossdock.ui.sessions import IDLE_TTL_S, SESSION_TTL_S, SessionStore, same_secret
from crossdock.ui.signin import safe_next


def test_bucket_quantile_interpolates_inside_the_bucket_like_prometheus() -> None:
    cumulative = {0.1: 50.0, 0.5: 90.0, 1.0: 100.0, math.inf: 100.0}
    assert bucket_quantile(0.5, cumulative) == 0.1
    assert bucket_quantile(0.7, cumulative) == 0.1 + 0.4 * (20 / 40)
    assert bucket_quantile(0.99, cumulative) == 0.5 + 0.5 * (9 / 10)
    assert bucket_quantile(0.99, {0.1: 0.0, math.inf: 0.0}) is None
    assert bucket_quantile(0.99, {0.1: 1.0, math.inf: 10.0}) == 0.1  # beyond the last bound


def test_histogram_window_forgets_what_is_older_than_the_window() -> None:
    histogram = Histogram(
        "t_seconds", "t", ["route"], registry=CollectorRegistry(), buckets=(0.1, 1)
    )
    now = [1000.0]
    window = HistogramWindow(
        histogram, lambda labels: labels.get("route") == "a", clock=lambda: now[0]
    )
    for _ in range(99):
        histogram.labels("a").observe(5.0)  # slow, long ago
    histogram.labels("b").observe(5.0)  # another route: never counted
    now[0] += 10
    assert window.quantile(0.99).count == 99
    now[0] += 400  # the slow requests are now older than the window
    window.quantile(0.99)
    for _ in range(100):
        histogram.labels("a").observe(0.05)
    now[0] += 10
    recent = window.quantile(0.99)
    assert recent.count == 100 and recent.value_s is not None and recent.value_s <= 0.1
    assert 300 <= recent.window_s <= 410  # from the newest snapshot at least 300 s old


def test_sessions_expire_and_keep_only_a_hash_of_their_id() -> None:
    now = [0.0]
    store = SessionStore(clock=lambda: now[0], max_sessions=2)
    raw, session = store.open("token-1")
    assert store.get(raw) is session and store.get("forged") is None
    assert raw not in repr(store._sessions)  # keyed by the id's hash
    now[0] += IDLE_TTL_S - 1
    assert store.get(raw) is session  # used: the idle timer starts again
    now[0] = SESSION_TTL_S
    assert store.get(raw) is None  # absolute lifetime
    first, _ = store.open("token-1")
    store.open("token-2")
    store.open("token-3")
    assert store.get(first) is None and len(store) == 2  # the oldest is evicted
    store.close_all("token-3")
    assert len(store) == 1


def test_csrf_comparison_and_sign_in_redirects() -> None:
    assert same_secret("abc", "abc") and not same_secret("abd", "abc")
    assert not same_secret(None, "abc") and not same_secret("", "")
    assert safe_next("/ui/orders?q=1") == "/ui/orders?q=1"
    for hostile in ("https://evil.test/ui/", "//evil.test/ui/", "/v1/orders", None, "/uix"):
        assert safe_next(hostile) == "/ui/"
