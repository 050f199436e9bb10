"""Distinct things have distinct names: no two public classes of the project share one."""

from __future__ import annotations

from collections import defaultdict
from typing import Protocol

from tests.test_errors import project_classes


def test_no_two_public_classes_share_a_name() -> None:
    modules: defaultdict[str, set[str]] = defaultdict(set)
    for cls in project_classes():
        # a Protocol names the same thing as the class it describes, seen from a lower layer
        if Protocol in cls.__mro__[1:] and getattr(cls, "_is_protocol", False):
            continue
        if not cls.__name__.startswith("_"):
            modules[cls.__name__].add(cls.__module__)
    assert {name: sorted(m) for name, m in modules.items() if len(m) > 1} == {}
