"""The error root: every exception class of the project derives from `CrossdockError`, and
"a system is down" is one class."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import crossdock
from crossdock.errors import CrossdockError, Unavailable

NOT_IMPORTABLE = ("crossdock.migrations.env", "crossdock.migrations.versions")  # run by alembic


def project_classes() -> list[type]:
    """Every class defined in a module of the project."""
    found: dict[str, type] = {}
    for info in pkgutil.walk_packages(crossdock.__path__, "crossdock."):
        if info.name.endswith("__main__") or info.name.startswith(NOT_IMPORTABLE):
            continue
        module = importlib.import_module(info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if value.__module__.startswith("crossdock"):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return list(found.values())


def _project_exceptions() -> list[type[BaseException]]:
    return [c for c in project_classes() if issubclass(c, BaseException)]


def test_every_exception_of_the_project_derives_from_the_root() -> None:
    classes = _project_exceptions()
    assert len(classes) > 20
    strays = sorted(c.__qualname__ for c in classes if not issubclass(c, CrossdockError))
    assert strays == []


def test_unavailable_is_spelled_once() -> None:
    names = {c.__name__ for c in _project_exceptions()}
    assert {n for n in names if "Unavailable" in n or "CircuitOpen" in n} == {"Unavailable"}
    assert Unavailable("down", -1).retry_after_s == 0


def test_classes_that_were_built_in_errors_still_are() -> None:
    from crossdock.engine import EnvelopeError, SchemaMissing
    from crossdock.webhooks.destinations import DestinationRefused

    assert issubclass(EnvelopeError, ValueError) and issubclass(SchemaMissing, RuntimeError)
    assert issubclass(DestinationRefused, ValueError)
