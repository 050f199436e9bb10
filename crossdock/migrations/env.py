"""Alembic environment: runs migrations on the connection handed over by `upgrade()`."""

from __future__ import annotations

from alembic import context

from crossdock.migrations.metadata import target_metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through crossdock.migrations.upgrade(url)")

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
