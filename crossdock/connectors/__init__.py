"""Connectors: one package per external system (client, mapping to and from canonical objects,
webhook verification, the port(s) it implements for the flows), built by `kind` through
:mod:`crossdock.connectors.registry`; :mod:`crossdock.connectors.memory` is the ERP port in memory
for fast tests. They decide no business policy. The shape: ``docs/connectors.md``."""
