"""The one in-memory cache of what is known about SKUs, each answer kept until it expires.

The Odoo connector keeps the products it resolved (by company and SKU) for
``product_cache_ttl_s``; the inventory keeps which SKUs are storable products (for ever) and which
are not (until they are asked about again). Both are this map: a key (an SKU, or a scope and an
SKU), a value and the time it expires at. Time is passed in, so each user keeps its own clock.

A stdlib-only leaf module so that connectors and flows can both import it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

__all__ = ["NEVER", "SkuCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

NEVER = math.inf
"""The expiry of an answer that stays true (a SKU that exists stays known)."""


class SkuCache(Generic[K, V]):
    """Answers by key, each until its expiry (on the caller's clock)."""

    def __init__(self) -> None:
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K, now: float) -> V | None:
        """The answer for `key` if it has not expired at `now`."""
        entry = self._entries.get(key)
        return entry[1] if entry is not None and entry[0] > now else None

    def expires(self, key: K) -> float | None:
        """When the answer for `key` expires (or expired); None if there is none."""
        entry = self._entries.get(key)
        return None if entry is None else entry[0]

    def put(self, key: K, value: V, expires: float) -> None:
        self._entries[key] = (expires, value)

    def forget(self, which: Callable[[K], bool] | None = None) -> None:
        """Drop every answer, or those whose key `which` selects."""
        if which is None:
            self._entries.clear()
            return
        for key in [k for k in self._entries if which(k)]:
            del self._entries[key]

    def values(self) -> Iterator[V]:
        """Every answer held, expired or not."""
        return (value for _, value in self._entries.values())
