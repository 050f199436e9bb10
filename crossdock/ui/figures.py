"""Figures the dashboard reads from the metrics registry (`crossdock.ops.metrics`): gauge values by
label, counters, and a quantile of a histogram over a recent window.

A Prometheus histogram only counts since the process started, so `HistogramWindow` keeps a few
snapshots of its cumulative buckets and answers for the span between now and a snapshot about
`window_s` old (or the oldest it has) — the way `histogram_quantile(rate(...[5m]))` would.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from crossdock.ops.metrics import Family, Reading

__all__ = ["HistogramWindow", "Quantile", "bucket_quantile", "samples"]

Labels = Mapping[str, str]


def samples(
    family: Family, suffix: str = "", reading: Reading | None = None, **match: str
) -> list[tuple[dict[str, str], float]]:
    """(labels, value) of a family's samples named `<family><suffix>` whose labels match, as a
    scrape shows them: from `reading` (made once for several families), else read now."""
    out: list[tuple[dict[str, str], float]] = []
    for metric in (reading or Reading()).collected(family):
        wanted = metric.name + suffix
        for sample in metric.samples:
            if sample.name != wanted:
                continue
            if all(sample.labels.get(k) == v for k, v in match.items()):
                out.append((dict(sample.labels), float(sample.value)))
    return out


def _buckets(
    family: Family, accept: Callable[[Labels], bool], reading: Reading | None = None
) -> dict[float, float]:
    """Cumulative counts per upper bound, summed over the series `accept` keeps."""
    out: dict[float, float] = {}
    for labels, value in samples(family, "_bucket", reading):
        if not accept(labels):
            continue
        bound = float(labels["le"])
        out[bound] = out.get(bound, 0.0) + value
    return out


def bucket_quantile(q: float, cumulative: Mapping[float, float]) -> float | None:
    """The q-quantile of cumulative bucket counts, interpolated inside its bucket like
    Prometheus' `histogram_quantile`; None without observations. A quantile in the `+Inf` bucket
    answers the highest finite bound."""
    bounds = sorted(cumulative)
    if not bounds:
        return None
    total = cumulative[bounds[-1]]
    if total <= 0:
        return None
    rank = q * total
    lower, below = 0.0, 0.0
    for bound in bounds:
        count = cumulative[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower
            inside = count - below
            share = (rank - below) / inside if inside > 0 else 1.0
            return lower + (bound - lower) * share
        lower, below = bound, count
    return lower


@dataclass(frozen=True, slots=True)
class Quantile:
    value_s: float | None
    count: int
    window_s: float


class HistogramWindow:
    """A quantile of one histogram (the series `accept` keeps) over about the last `window_s`."""

    def __init__(
        self,
        family: Family,
        accept: Callable[[Labels], bool],
        *,
        window_s: float = 300.0,
        every_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._family = family
        self._accept = accept
        self._window_s = window_s
        self._every_s = every_s
        self._clock = clock
        self._snapshots: deque[tuple[float, dict[float, float]]] = deque()
        self._snapshots.append((clock(), _buckets(family, accept)))

    def quantile(self, q: float, reading: Reading | None = None) -> Quantile:
        now = self._clock()
        current = _buckets(self._family, self._accept, reading)
        if now - self._snapshots[-1][0] >= self._every_s:
            self._snapshots.append((now, current))
        # Keep one snapshot at least `window_s` old as the baseline; drop the older ones.
        while len(self._snapshots) > 1 and now - self._snapshots[1][0] >= self._window_s:
            self._snapshots.popleft()
        since, base = self._snapshots[0]
        delta = {bound: count - base.get(bound, 0.0) for bound, count in current.items()}
        total = max(delta.values(), default=0.0)
        return Quantile(bucket_quantile(q, delta), int(total), now - since)
