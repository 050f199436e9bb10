"""Every table the migrations manage, for alembic's comparison (tests check they agree)."""

from __future__ import annotations

from crossdock.engine.tables import metadata

target_metadata = metadata
