"""The base of a connector's contract suite: one set of tests, run against the system's sandbox
and, when its credentials are in the environment, against the real system.

A connector fills in a :class:`Contract` (see ``docs/connectors.md``)::

    class ShopifyContract(Contract[ShopifyTarget]):
        kind = "shopify"                         # its kind in the registry
        ports = {"orders_in": OrdersInPort}      # the ports it claims, by name
        env = Env(required=("CROSSDOCK_SHOPIFY_URL", "CROSSDOCK_SHOPIFY_TOKEN"))

        def sandbox(self, tmp: Path) -> ContextManager[ShopifyTarget]: ...   # the simulator
        def real(self, values: Mapping[str, str]) -> ShopifyTarget: ...      # from env vars
        def implementation(self) -> type: ...    # the class that implements the ports

and its ``conftest.py`` makes the session fixture every test takes::

    target = ShopifyContract().fixture()

``target`` is parametrised ``sandbox`` / ``real``: the real run is skipped, naming the variables,
when they are not all set. :class:`PortsClaimed` checks that the connector's class has every
method of every port it claims and that the registry builds its kind.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

import pytest

from crossdock.connectors import registry

T = TypeVar("T")


@dataclass(frozen=True)
class Env:
    """The environment variables that point a contract suite at a real system.

    ``required``: all must be set; ``one_of``: at least one must be (e.g. a password or an API
    key)."""

    required: tuple[str, ...]
    one_of: tuple[str, ...] = ()

    def values(self) -> dict[str, str] | None:
        """The variables that are set, or None when the real system is not configured."""
        names = (*self.required, *self.one_of)
        found = {name: value for name in names if (value := os.environ.get(name))}
        if any(name not in found for name in self.required):
            return None
        if self.one_of and not any(name in found for name in self.one_of):
            return None
        return found

    def skip_reason(self) -> str:
        wanted = ", ".join(self.required)
        if self.one_of:
            wanted += " and " + " or ".join(self.one_of)
        return f"no real system: set {wanted}"


class Contract(Generic[T]):
    """What a connector's contract suite fills in (see the module's docstring)."""

    kind: ClassVar[str]
    ports: ClassVar[Mapping[str, type]]
    env: ClassVar[Env]

    def sandbox(self, tmp: Path) -> AbstractContextManager[T]:
        """The target served by the system's simulator, for the whole session."""
        raise NotImplementedError

    def real(self, values: Mapping[str, str]) -> T:
        """The target of the real system configured by ``values`` (the variables of ``env``)."""
        raise NotImplementedError

    def implementation(self) -> type:
        """The connector's class that implements the claimed ports."""
        raise NotImplementedError

    def fixture(self, name: str = "target") -> Callable[..., Iterator[T]]:
        """A session fixture, parametrised over ``sandbox`` and ``real``, yielding the target."""
        contract = self

        def target(
            request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[T]:
            if request.param == "sandbox":
                with contract.sandbox(tmp_path_factory.mktemp(f"{contract.kind}-sandbox")) as t:
                    yield t
                return
            values = contract.env.values()
            if values is None:
                pytest.skip(contract.env.skip_reason())
            yield contract.real(values)

        target.starts_servers = True  # type: ignore[attr-defined]  # integration (tests/conftest.py)
        return pytest.fixture(scope="session", params=["sandbox", "real"], name=name)(target)


def _methods(port: type) -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(port)
        if not name.startswith("_") and callable(member)
    }


class PortsClaimed:
    """Tests every contract suite inherits: subclass it with ``contract = <YourContract>()``."""

    contract: ClassVar[Contract[Any]]

    def test_the_connector_has_every_method_of_its_ports(self) -> None:
        implementation = self.contract.implementation()
        for name, port in self.contract.ports.items():
            missing = sorted(_methods(port) - _methods(implementation))
            assert not missing, f"{implementation.__name__} lacks {missing} of port {name}"

    def test_the_registry_builds_its_kind(self) -> None:
        assert self.contract.kind in registry.kinds()
        assert registry.factory_for(self.contract.kind) is not None
