"""Systems are built by their configured `kind`: the Odoo connector for `odoo`, the sandbox's
variant for a `sandbox: true` system, and a clear error for a kind nobody registered."""

from __future__ import annotations

import pytest

from crossdock.config import Config
from crossdock.config.schema import System
from crossdock.connectors import registry
from crossdock.connectors.odoo import OdooOperations


def _config(**system: object) -> Config:
    return Config(systems={"odoo": System(kind="odoo", url="http://127.0.0.1:9", **system)})


async def test_an_odoo_system_is_built_by_the_odoo_connector() -> None:
    connected = registry.connect(_config(options={"database": "db"}), "odoo")
    try:
        assert isinstance(connected.port, OdooOperations) and connected.server is None
        assert connected.port.settings.database == "db"
    finally:
        await connected.close()


def test_a_kind_without_a_connector_is_named() -> None:
    with pytest.raises(registry.UnknownKindError, match="'salesforce'"):
        registry.factory_for("salesforce")


def test_the_sandbox_registers_its_variant_of_odoo() -> None:
    from crossdock.sandbox.odoo.connector import connect_sandboxed_odoo

    assert registry.factory_for("odoo", sandboxed=True) is connect_sandboxed_odoo
    assert registry.factory_for("odoo") is not connect_sandboxed_odoo
