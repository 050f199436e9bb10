"""The Odoo connector claims the ERP port and is registered as ``odoo``; the in-memory ERP that
the fast flow tests use implements the same port."""

from __future__ import annotations

from crossdock.connectors.memory import MemoryErp
from crossdock.connectors.odoo import ErpPort
from tests.contract.base import PortsClaimed, _methods
from tests.contract.odoo.conftest import OdooContract


class TestOdooPorts(PortsClaimed):
    contract = OdooContract()


def test_the_in_memory_erp_has_every_method_of_the_port() -> None:
    assert not _methods(ErpPort) - _methods(MemoryErp)
