"""The hub's baseline forecast: the method follows the history's length, a seasonal pattern is
carried forward, and the baseline is applied as a version of source ``baseline`` from the history
the exports kept."""

from __future__ import annotations

import math
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from crossdock.flows.procurement.baseline import baseline, method_for, period_start
from tests.flows.procurement.conftest import Buying
from tests.support.waiting import until

MONDAY = date(2026, 11, 30)


def weekly(values: list[float], sku: str = "A") -> list[tuple[str, str, date, Decimal]]:
    start = MONDAY - timedelta(weeks=len(values))
    return [
        ("WH", sku, start + timedelta(weeks=i, days=2), Decimal(str(v)))
        for i, v in enumerate(values)
    ]


def test_method_follows_the_length_of_the_history() -> None:
    assert method_for(2, 4) == "mean"
    assert method_for(3, 4) == "exponential_smoothing"
    assert method_for(4, 4) == "seasonal_naive"
    assert method_for(7, 4) == "seasonal_naive"
    assert method_for(8, 4) == "holt_winters"


def test_seasonal_naive_repeats_the_last_season() -> None:
    history = weekly([1, 2, 3, 4, 10, 20, 30, 40])
    out = baseline(history, today=MONDAY + timedelta(days=3), period_days=7, horizon=5, season=6)
    assert [ln.quantity for ln in out.lines] == [Decimal(v) for v in (3, 4, 10, 20, 30)]
    assert out.methods == {"seasonal_naive": 1}
    assert out.lines[0].period_start == MONDAY and out.lines[0].period_days == 7


def test_holt_winters_carries_a_season_forward() -> None:
    pattern = [10.0, 50.0, 10.0, 30.0]
    values = [p + 0.1 * i for i in range(6) for p in pattern]  # six seasons, a slight trend
    out = baseline(weekly(values), today=MONDAY, period_days=7, horizon=4, season=4)
    assert out.methods == {"holt_winters": 1}
    got = [float(ln.quantity) for ln in out.lines]
    assert got.index(max(got)) == 1 and got.index(min(got)) in (0, 2)  # the peak stays in place
    assert all(math.isclose(g, p, abs_tol=3.0) for g, p in zip(got, pattern, strict=True))


def test_short_history_is_smoothed_and_never_negative() -> None:
    out = baseline(weekly([5, 5, 5, 5]), today=MONDAY, period_days=7, horizon=2, season=52)
    assert out.methods == {"exponential_smoothing": 1}
    assert [ln.quantity for ln in out.lines] == [Decimal("5.000"), Decimal("5.000")]
    returns = baseline(weekly([-3, -1]), today=MONDAY, period_days=7, horizon=1, season=52)
    assert returns.lines[0].quantity == 0
    current = baseline(
        [("WH", "A", MONDAY + timedelta(days=1), Decimal(9))],
        today=MONDAY + timedelta(days=2),
        period_days=7,
        horizon=1,
        season=52,
    )
    assert current.lines == []  # the current week is not complete: nothing to learn from
    assert period_start(date(2026, 12, 6), 7) == MONDAY


async def test_baseline_from_exported_history_is_a_version_in_force(buying: Buying) -> None:
    now = time.time()
    for weeks_ago in range(1, 9):
        at = datetime.fromtimestamp(now, UTC) - timedelta(weeks=weeks_ago)
        buying.erp.add_move("WH", "A", "sale", Decimal(14), at)
        buying.erp.add_move("WH", "A", "return", Decimal(7), at)
    await buying.forecasting.export(now)
    version = await buying.forecasting.compute_baseline()
    assert version is not None and version.source == "baseline" and version.state == "applied"
    again = await buying.forecasting.compute_baseline()
    assert again is not None and again.version == version.version  # the same history: no new one
    listed = (await buying.client.get("/v1/forecasts", headers=buying.auth())).json()
    assert listed["in_force"] == version.version
    r = await buying.client.post("/v1/replenishment/runs", headers=buying.auth())
    assert r.status_code == 202

    async def recommended() -> bool:
        got = await buying.client.get("/v1/replenishment/recommendations", headers=buying.auth())
        return bool(got.json()["items"])

    await until(recommended, what="the run")
    recs = (
        await buying.client.get("/v1/replenishment/recommendations", headers=buying.auth())
    ).json()
    acme = next(x for x in recs["items"] if x["supplier_ref"] == "ACME")
    line = next(ln for ln in acme["lines"] if ln["sku"] == "A")
    # 7 net a week is 1/day: position 2 over lead time 7 d: up to 1 x (7 + 0 + 7) = 14
    assert f"forecast v{version.version} (baseline) 1/day" in line["reason"]
    assert Decimal(line["quantity"]) == Decimal(12)
