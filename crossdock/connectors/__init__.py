"""Connectors: one package per external system (client, mapping to and from canonical objects,
webhook verification). They decide no business policy."""
