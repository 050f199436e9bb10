"""An Odoo stand-in for the demo, the tests and load tests: ``/jsonrpc``, ``/json/2`` (19+) and
``/web/version`` over a faithful subset of Odoo 16-19 (partners, products, pricelists, sale and
purchase orders, pickings with reservation and backorders, quants, invoices, companies), with
Odoo's error shapes, configurable latency and failure injection, persisted in SQLite.

Run it with ``uvicorn 'crossdock.sandbox.odoo:create_app' --factory`` or
:class:`~crossdock.sandbox.odoo.server.SandboxServer`.
"""

from crossdock.sandbox.odoo.app import OdooSandbox, SandboxSettings, create_app
from crossdock.sandbox.odoo.server import SandboxServer, free_port

__all__ = ["OdooSandbox", "SandboxServer", "SandboxSettings", "create_app", "free_port"]
