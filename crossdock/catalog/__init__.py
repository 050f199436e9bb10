"""The integration catalog: event types with their schemas and ownership (`registry`), the
current schema set (`schemas`), the backward-compatibility check (`compat`), and the AsyncAPI 3
and Markdown writers (`asyncapi`, `markdown`)."""

from crossdock.catalog.registry import CATALOG, EventType, event_type

__all__ = ["CATALOG", "EventType", "event_type"]
