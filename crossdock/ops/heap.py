"""The garbage collector set for serving: start-up's objects frozen, young collections rarer."""

from __future__ import annotations

import gc

# Net allocations of tracked objects between two collections of the youngest generation
# (Python's default is 700); the older generations keep their default ratios.
YOUNG_THRESHOLD = 10_000


def settle_heap() -> None:
    """Collect, freeze every object alive now (`gc.freeze`), and collect the youngest generation
    every `YOUNG_THRESHOLD` net allocations.

    What start-up built (modules, the app, the hub: most of the heap) lives as long as the
    process. Left in the collector's view, every full collection walks all of it again, a pause
    for every request and event in flight. Frozen, a full collection walks only what was made
    since.

    An event in flight holds a few tracked objects (its envelope, data, row), so at the default
    threshold a young collection runs every hundred events or so; at `YOUNG_THRESHOLD` the
    younger generations take far less time in all (figures: docs/benchmarks.md).
    """
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
