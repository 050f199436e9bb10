"""Every table the migrations manage, for alembic's comparison (tests check they agree)."""

from __future__ import annotations

from sqlalchemy import MetaData

from crossdock.api.tables import metadata as api_metadata
from crossdock.engine.tables import metadata as engine_metadata
from crossdock.flows.tables import metadata as flows_metadata

target_metadata: list[MetaData] = [engine_metadata, flows_metadata, api_metadata]
