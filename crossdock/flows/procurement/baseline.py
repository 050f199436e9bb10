"""The hub's baseline forecast, from the demand history it keeps (sales less customer returns).

Per SKU and warehouse the history is summed into periods (days, or ISO weeks from Monday) from
its first movement to the last complete period, missing periods being zero. The method follows
the history's length in periods against the season's (``season_periods``):

- two seasons or more: Holt-Winters (additive damped trend and additive season), statsmodels'
  ``ExponentialSmoothing``;
- one season or more: seasonal naive (the last season repeated);
- three periods or more: simple exponential smoothing (``SimpleExpSmoothing``);
- fewer: the mean of what there is.

Forecasts are never negative. The result is a forecast version of source ``baseline``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from crossdock.flows.procurement.forecasts import ForecastLine

__all__ = ["Baseline", "baseline", "method_for", "period_start"]

THOUSANDTH = Decimal("0.001")


@dataclass(frozen=True, slots=True)
class Baseline:
    lines: list[ForecastLine]
    methods: dict[str, int]
    """How many series each method forecast."""


def period_start(day: date, period_days: int) -> date:
    return day - timedelta(days=day.weekday()) if period_days == 7 else day


def method_for(periods: int, season: int) -> str:
    if periods >= 2 * season:
        return "holt_winters"
    if periods >= season:
        return "seasonal_naive"
    if periods >= 3:
        return "exponential_smoothing"
    return "mean"


def _forecast(series: list[float], season: int, horizon: int) -> tuple[str, list[float]]:
    # statsmodels, with scipy, takes seconds to import: loaded by the first forecast, not by
    # every process that builds the hub.
    import numpy as np
    from statsmodels.tsa.holtwinters import (  # type: ignore[import-untyped]
        ExponentialSmoothing,
        SimpleExpSmoothing,
    )

    method = method_for(len(series), season)
    values = np.asarray(series, dtype=float)
    if not values.any():
        return method, [0.0] * horizon
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "holt_winters":
            fit = ExponentialSmoothing(
                values,
                trend="add",
                damped_trend=True,
                seasonal="add",
                seasonal_periods=season,
                initialization_method="estimated",
            ).fit()
            out = [float(v) for v in fit.forecast(horizon)]
        elif method == "seasonal_naive":
            last = series[-season:]
            out = [last[i % season] for i in range(horizon)]
        elif method == "exponential_smoothing":
            fit = SimpleExpSmoothing(values, initialization_method="estimated").fit()
            out = [float(v) for v in fit.forecast(horizon)]
        else:
            out = [float(values.mean())] * horizon
    return method, [max(v, 0.0) if np.isfinite(v) else 0.0 for v in out]


def baseline(
    history: Iterable[tuple[str, str, date, Decimal]],
    *,
    today: date,
    period_days: int,
    horizon: int,
    season: int,
) -> Baseline:
    """The baseline of ``history`` (warehouse, SKU, day, net demand) from today's period."""
    current = period_start(today, period_days)
    step = timedelta(days=period_days)
    series: dict[tuple[str, str], dict[date, float]] = {}
    for warehouse, sku, day, quantity in history:
        start = period_start(day, period_days)
        if start >= current:
            continue  # the current period is not complete
        by_period = series.setdefault((warehouse, sku), {})
        by_period[start] = by_period.get(start, 0.0) + float(quantity)
    lines: list[ForecastLine] = []
    methods: dict[str, int] = {}
    number = 0
    for (warehouse, sku), by_period in sorted(series.items()):
        first = min(by_period)
        count = (current - first).days // period_days
        values = [by_period.get(first + step * i, 0.0) for i in range(count)]
        method, forecast = _forecast(values, season, horizon)
        methods[method] = methods.get(method, 0) + 1
        for i, value in enumerate(forecast):
            number += 1
            lines.append(
                ForecastLine(
                    number,
                    sku,
                    warehouse,
                    current + step * i,
                    period_days,
                    Decimal(repr(value)).quantize(THOUSANDTH, ROUND_HALF_UP),
                    None,
                )
            )
    return Baseline(lines, methods)
