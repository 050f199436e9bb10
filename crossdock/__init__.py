"""Crossdock: the integration hub between Odoo and the systems around a distributor."""

__version__ = "0.1.0"
