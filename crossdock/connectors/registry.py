"""Systems by `kind`: the factory that builds a connected system from its configuration.

Every connector registers one factory under the configuration's ``kind`` (``odoo`` below); a
simulator registers a *sandboxed* variant of the same kind, used for systems marked
``sandbox: true``. Production code asks this registry for a system and never imports
``crossdock.sandbox``: the sandboxed variants are found through the ``crossdock.sandboxes`` entry
points (declared in ``pyproject.toml``), loaded the first time a sandboxed system is asked for.
See ``docs/connectors.md`` for the shape of a connector.

>>> connected = connect(cfg, "odoo")                     # doctest: +SKIP
>>> await connected.port.create_sale_orders(orders)      # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from crossdock.config import Config
from crossdock.connectors.observer import CallObserver
from crossdock.connectors.odoo.client import OdooClient
from crossdock.connectors.odoo.operations import OdooOperations
from crossdock.connectors.odoo.settings import OdooSettings
from crossdock.connectors.shopify.client import ShopifyClient
from crossdock.connectors.shopify.operations import ShopifyOperations
from crossdock.connectors.shopify.settings import ShopifySettings
from crossdock.errors import CrossdockError

__all__ = [
    "SANDBOX_ENTRY_POINTS",
    "Connected",
    "Factory",
    "Request",
    "UnknownKindError",
    "connect",
    "factory_for",
    "kinds",
    "register",
]

SANDBOX_ENTRY_POINTS = "crossdock.sandboxes"
"""Entry-point group of the simulators: ``<kind> = <module>``; importing the module registers its
sandboxed factory with :func:`register`."""


class UnknownKindError(CrossdockError, LookupError):
    """No factory is registered for a kind (or for its sandboxed variant)."""


@dataclass(frozen=True)
class Request:
    """What a factory builds a system from: its name and configuration, and how it is watched."""

    name: str
    config: Config
    observer: CallObserver | None = None
    serve_sandbox: bool = True
    """For a sandboxed system: start its simulator (false: another process already serves it)."""
    customers_owned: bool = True
    """The policy's decision that this system owns customers (it may create them)."""

    @property
    def system(self) -> Any:
        return self.config.systems[self.name]


@dataclass
class Connected:
    """A built system: the port object flows call, and what to close when the hub stops."""

    name: str
    port: Any
    """The object implementing the system's port(s) (for ``odoo``: an ``ErpPort``)."""
    server: Any = None
    """The simulator serving a sandboxed system (None for a real one)."""
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def close(self) -> None:
        for close in reversed(self.closers):
            await close()


Factory = Callable[[Request], Connected]

_factories: dict[tuple[str, bool], Factory] = {}


def register(kind: str, factory: Factory, *, sandboxed: bool = False) -> Factory:
    """Make ``factory`` the builder of systems of ``kind`` (of its simulated variant when
    ``sandboxed``). Registering a kind again replaces its factory."""
    _factories[(kind, sandboxed)] = factory
    return factory


def kinds(*, sandboxed: bool = False) -> list[str]:
    """The kinds with a registered factory (sandboxed ones: those loaded so far)."""
    return sorted(kind for kind, simulated in _factories if simulated == sandboxed)


def _load_sandbox(kind: str) -> None:
    for point in entry_points(group=SANDBOX_ENTRY_POINTS, name=kind):
        point.load()


def factory_for(kind: str, *, sandboxed: bool = False) -> Factory:
    """The factory of ``kind``; a sandboxed one is loaded from its entry point when needed."""
    if sandboxed and (kind, True) not in _factories:
        _load_sandbox(kind)
    try:
        return _factories[(kind, sandboxed)]
    except KeyError:
        variant = "sandboxed " if sandboxed else ""
        hint = (
            f" (no {SANDBOX_ENTRY_POINTS!r} entry point named {kind!r}: reinstall the package)"
            if sandboxed
            else ""
        )
        raise UnknownKindError(f"no {variant}connector for kind {kind!r}{hint}") from None


def connect(
    cfg: Config,
    name: str,
    *,
    observer: CallObserver | None = None,
    serve_sandbox: bool = True,
    customers_owned: bool = True,
) -> Connected:
    """Build the configured system ``name`` with the factory of its kind (the sandboxed one when
    the system is marked ``sandbox: true``)."""
    system = cfg.systems[name]
    factory = factory_for(system.kind, sandboxed=system.sandbox)
    return factory(Request(name, cfg, observer, serve_sandbox, customers_owned))


def _odoo(request: Request) -> Connected:
    settings = OdooSettings.from_system(
        request.name, request.system, customers_owned=request.customers_owned
    )
    client = OdooClient(settings, name=request.name, observer=request.observer)
    operations = OdooOperations(client, system=request.name)
    return Connected(request.name, operations, closers=[operations.aclose])


register("odoo", _odoo)


def _shopify(request: Request) -> Connected:
    settings = ShopifySettings.from_system(request.name, request.system)
    operations = ShopifyOperations(ShopifyClient(settings, observer=request.observer))
    return Connected(request.name, operations, closers=[operations.aclose])


register("shopify", _shopify)
