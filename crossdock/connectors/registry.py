"""Systems found by the configuration's `kind`: the simulator that stands in for a system marked
`sandbox: true`.

Production code asks this registry and never imports `crossdock.sandbox`; the composition root (the
CLI's `crossdock.commands`, or a test's conftest) calls `crossdock.sandbox.register()`, which fills
it. An import-linter contract in pyproject.toml keeps every other package off the sandbox.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Simulator:
    """A simulated system: the settings it is built from and the in-process server serving it."""

    settings: Callable[..., Any]  # e.g. SandboxSettings(database=…, path=…)
    server: Callable[..., Any]  # e.g. SandboxServer(settings, port=…, fallback=…), then .start()


class NoSimulator(LookupError):
    """A system is marked `sandbox: true` but no simulator is registered for its kind."""


# kind -> a loader: simulators import their servers only when a sandbox system is connected
_SIMULATORS: dict[str, Callable[[], Simulator]] = {}


def register_simulator(kind: str, load: Callable[[], Simulator]) -> None:
    _SIMULATORS[kind] = load


def simulator_for(kind: str) -> Simulator:
    load = _SIMULATORS.get(kind)
    if load is None:
        known = ", ".join(sorted(_SIMULATORS)) or "none"
        raise NoSimulator(
            f"no simulator is registered for systems of kind {kind!r} (registered: {known}); "
            "the composition root calls crossdock.sandbox.register()"
        )
    return load()
