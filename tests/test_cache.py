"""The one SKU cache: answers kept until they expire, on the caller's clock."""

from __future__ import annotations

from crossdock.cache import NEVER, SkuCache


def test_answers_expire_on_the_callers_clock() -> None:
    cache: SkuCache[tuple[int, str], str] = SkuCache()
    cache.put((1, "A"), "product A", expires=10.0)
    cache.put((2, "A"), "product A of 2", expires=NEVER)
    assert cache.get((1, "A"), now=9.9) == "product A"
    assert cache.get((1, "A"), now=10.0) is None
    assert cache.get((2, "A"), now=1e12) == "product A of 2"
    assert sorted(cache.values()) == ["product A", "product A of 2"]  # expired ones too
    assert cache.expires((1, "A")) == 10.0 and cache.expires((3, "B")) is None


def test_forgetting_some_or_all() -> None:
    cache: SkuCache[tuple[int, str], bool] = SkuCache()
    for key in [(1, "A"), (2, "A"), (1, "B")]:
        cache.put(key, True, NEVER)
    cache.forget(lambda key: key[1] == "A")
    assert cache.get((1, "A"), 0) is None and cache.get((1, "B"), 0) is True
    cache.forget()
    assert list(cache.values()) == []
